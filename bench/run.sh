#!/usr/bin/env bash
# Builds and runs one benchmark case from the repository root: bash bench/run.sh CASE [--size-mib N] [--runs N]
# (CASE: vhd, xapi, fanout, channel, replication, delta, rss, ...; vhd if none). The one documented command that runs
# every case and rewrites bench/RESULTS.md (machine, date, command, each case's section) is: bash bench/results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/XcrCluster.Bench -c Release -nologo -clp:ErrorsOnly >&2
exec dotnet bench/XcrCluster.Bench/bin/Release/net10.0/xcr-bench.dll "${@:-vhd}"
