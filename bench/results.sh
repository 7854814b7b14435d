#!/usr/bin/env bash
# THE benchmark command: bash bench/results.sh
# Builds xcr-bench once (with the simulator and xcr-node its cases start), runs every case of CASES in order, each under
# a time limit, and rewrites bench/RESULTS.md: the machine (CPU, cores, memory, OS, .NET), the date and this command,
# then each case's markdown section exactly as the case printed it (its notes included), then the recorded
# before/after comparisons of bench/compare-history.md. A case this build does not have prints "not available"; a
# case that fails prints its exit code and the end of its error output; neither stops the others.
#   bash bench/results.sh CASE...   runs only those cases and prints their sections; RESULTS.md is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=(vhd xapi fanout channel replication delta rss sim simio control entities rpo)
LIMIT=${XCR_BENCH_CASE_LIMIT:-3600} # seconds per case

selected=("$@")
[ ${#selected[@]} -eq 0 ] && selected=("${CASES[@]}")
dotnet build bench/XcrCluster.Bench -c Release -nologo -clp:ErrorsOnly >&2
bench=bench/XcrCluster.Bench/bin/Release/net10.0/xcr-bench.dll
work=$(mktemp -d /tmp/xcr-results.XXXXXX)
trap 'rm -rf "$work"' EXIT

run_case() { # prints the case's section, whatever happened to it
  local name=$1 rc=0
  echo "results.sh: $name ..." >&2
  timeout -k 30 "$LIMIT" dotnet "$bench" "$name" > "$work/$name.md" 2> "$work/$name.err" || rc=$?
  if [ "$rc" -eq 2 ] && [ ! -s "$work/$name.md" ] && grep -q '^usage: xcr-bench' "$work/$name.err"; then
    printf '## %s\n\nnot available: this build of xcr-bench has no case "%s".\n\n' "$name" "$name"
    return
  fi
  cat "$work/$name.md"
  if [ "$rc" -ne 0 ]; then
    printf '## %s: failed\n\n`dotnet xcr-bench.dll %s` exited with %s%s; the end of its error output:\n\n```\n' "$name" "$name" "$rc" \
      "$([ "$rc" -eq 124 ] && echo " (killed after $LIMIT s)")"
    tail -n 20 "$work/$name.err"
    printf '```\n\n'
  fi
}

if [ $# -gt 0 ]; then
  for name in "${selected[@]}"; do run_case "$name"; done
  exit 0
fi

{
  cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s)
  echo "# Benchmark results"
  echo
  echo "Every ratio here is **measured side by side in one run**: each case against a plain copy of the same bytes over the"
  echo "same medium, timed in the same process or the same session. Absolute MB/s depend on the machine and its load; the"
  echo "ratio is the claim."
  echo
  echo "- Command: \`bash bench/results.sh\` (rewrites this file; \`bash bench/results.sh CASE...\` prints only those cases)"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $cpu, $(nproc) cores, $memory memory, $os (Linux $(uname -r)), .NET SDK $(dotnet --version)"
  echo "- Load average when the run started: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Cases, in order: ${CASES[*]}"
  echo
  for name in "${CASES[@]}"; do run_case "$name"; done
  cat bench/compare-history.md
} > "$work/RESULTS.md"
cp "$work/RESULTS.md" bench/RESULTS.md
echo "results.sh: bench/RESULTS.md rewritten" >&2
