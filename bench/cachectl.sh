#!/bin/sh
# cachectl benchmark: 100k index entries; ls, du, prune --dry-run (target < 1 s each) and a prune
# removing 10k entries (target < 5 s). Usage: bench/cachectl.sh [BUILD_DIR] [RUNS]
# Prints the bench test's line and BENCH result lines for bench/run (protocol: bench/run's header).
set -eu
build=${1:-build}
runs=${2:-5}
cmake --build "$build" --target unit_cachectl -j2 >/dev/null
out=$(STRATA_BENCH=1 STRATA_BENCH_RUNS=$runs "$build/tests/unit_cachectl" --gtest_filter='CachectlBench.*')
echo "$out"
echo "$out" | sed -nE 's/.*\[bench\] ls ([0-9.]+) s, du ([0-9.]+) s, prune --dry-run ([0-9.]+) s .*prune of 10k entries ([0-9.]+) s.*/\1 \2 \3 \4/p' |
  while read -r ls du dry prune; do
    for pair in "ls:$ls:< 1 s" "du:$du:< 1 s" "prune --dry-run:$dry:< 1 s" "prune of 10k entries:$prune:< 5 s"; do
      name=${pair%%:*}; rest=${pair#*:}; value=${rest%%:*}; target=${rest#*:}
      printf 'BENCH {"name": "cachectl %s, 100k-entry index", "metric": "s", "strata": %s, "peer": null, "peer_value": null, "ratio": null, "target": "%s"}\n' \
        "$name" "$value" "$target"
    done
  done
