#!/usr/bin/env bash
# Before/after in one session: builds this checkout's bench sources against an older commit too, then runs the
# two builds interleaved (ROUNDS rounds, old then new, each best of RUNS) and prints, per case, the best MB/s and
# the best MB per CPU second of each side and their ratios after/before.
#   bash bench/compare.sh OLD_COMMIT [ROUNDS] [RUNS] [case ...]    e.g. bash bench/compare.sh 5078387 4 5 fanout channel
set -euo pipefail
cd "$(dirname "$0")/.."
old_commit=${1:?usage: bash bench/compare.sh OLD_COMMIT [ROUNDS] [RUNS] [case ...]}
rounds=${2:-4}
runs=${3:-5}
shift $(( $# < 3 ? $# : 3 ))
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(fanout channel)
old=$(mktemp -d /tmp/xcr-bench-old.XXXXXX)
out=$(mktemp -d /tmp/xcr-bench-compare.XXXXXX)
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || true' EXIT
git worktree add --detach "$old" "$old_commit" >/dev/null
cp bench/XcrCluster.Bench/*.cs "$old/bench/XcrCluster.Bench/" # the same bench code on both sides
for dir in "$old" .; do dotnet build "$dir/bench/XcrCluster.Bench" -c Release -nologo -clp:ErrorsOnly >&2; done
for round in $(seq "$rounds"); do
  for case in "${cases[@]}"; do
    for side in old new; do
      dir=$([ "$side" = old ] && echo "$old" || echo .)
      timeout -k 10 900 dotnet "$dir/bench/XcrCluster.Bench/bin/Release/net10.0/xcr-bench.dll" "$case" --runs "$runs" \
        > "$out/$case.$side.$round.md" 2>/dev/null
      echo "round $round: $case $side done" >&2
    done
  done
done
echo "| case | before MB/s | after MB/s | after/before | before MB per CPU s | after MB per CPU s | after/before |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for case in "${cases[@]}"; do
  awk -F' *\\| *' -v OFS=' | ' '
    FNR > 2 && NF >= 9 {
      side = FILENAME ~ /\.old\./ ? "old" : "new"; name = $2
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
      mbs = $4 / $5 / 1e6; cpu = $4 / $8 / 1e6
      if (mbs > best[name, side]) best[name, side] = mbs
      if (cpu > bestcpu[name, side]) bestcpu[name, side] = cpu
    }
    END {
      for (i = 1; i <= n; i++) {
        c = order[i]
        printf "| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", c, best[c, "old"], best[c, "new"], best[c, "new"] / best[c, "old"],
          bestcpu[c, "old"], bestcpu[c, "new"], bestcpu[c, "new"] / bestcpu[c, "old"]
      }
    }' "$out/$case".*.md
done
echo "(tables of every run: $out)" >&2
