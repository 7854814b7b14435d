#!/usr/bin/env bash
# Builds and runs a benchmark from the repository root: bash bench/run.sh [vhd|xapi|fanout|channel|entities] [--size-mib N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/XcrCluster.Bench -c Release -nologo -clp:ErrorsOnly >&2
exec dotnet bench/XcrCluster.Bench/bin/Release/net10.0/xcr-bench.dll "${@:-vhd}"
