#!/usr/bin/env bash
# Compares a snapshot (one touched file in a 100k-file tree) with the real
# `find ROOT -printf '%p %s %T@ %m\n'` on a tree of the same shape.
#   bench/snapshot.sh [BUILD_DIR] [FILES]
# Uses the SnapshotBench unit test for the snapshot side until a bench binary exists; that test
# also reports its in-process find-like walk, so both ratios are printed. Medians of 5 runs.
set -euo pipefail
build=${1:-build}
files=${2:-100000}
unit="$build/tests/unit_fs"
[[ -x $unit ]] || { echo "missing $unit: build the unit_fs target first" >&2; exit 2; }

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
python3 - "$tree" "$files" <<'PY'
import os, sys
root, files = sys.argv[1], int(sys.argv[2])
made = 0
for d in range((files + 99) // 100):
    c = os.path.join(root, f"d{d // 100}", f"s{d % 100 // 10}", f"t{d % 10}")
    os.makedirs(c, exist_ok=True)
    for f in range(100):
        if made == files: break
        with open(os.path.join(c, f"file{f}.txt"), "w") as out:
            out.write(f"content of file {made}\n")
        made += 1
PY

times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  find "$tree" -printf '%p %s %T@ %m\n' > /dev/null
  times+=($(( ($(date +%s%N) - start) / 1000 )))
done
find_us=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
echo "find median: $((find_us / 1000)) ms"

out=$(STRATA_BENCH=1 STRATA_BENCH_FILES=$files "$unit" --gtest_filter='SnapshotBench.*' 2>&1)
echo "$out" | grep 'snapshot bench'
echo "$out" | grep 'snapshot bench' | while read -r line; do
  mode=$(sed -E 's/.*\((\w+) mode\).*/\1/' <<<"$line")
  snap_ms=$(sed -E 's/.*snapshot median ([0-9.]+) ms.*/\1/' <<<"$line")
  awk -v s="$snap_ms" -v f="$find_us" -v m="$mode" 'BEGIN { printf "%s mode: snapshot / find = %.2f\n", m, s * 1000 / f }'
  # Result line for bench/run (protocol: bench/run's header).
  awk -v s="$snap_ms" -v f="$find_us" -v m="$mode" -v n="$files" 'BEGIN {
    printf "BENCH {\"name\": \"snapshot of 1 changed file in %d files (%s mode)\", \"metric\": \"s\", \"strata\": %.4f, \"peer\": \"find -printf\", \"peer_value\": %.4f, \"ratio\": %.3f, \"target\": \"<= 2\"}\n", n, m, s / 1000, f / 1e6, s * 1000 / f }'
done
