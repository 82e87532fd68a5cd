#!/bin/sh
# cachectl benchmark: 100k index entries; ls, du, prune --dry-run (target < 1 s each) and a prune
# removing 10k entries (target < 5 s). Usage: bench/cachectl.sh [BUILD_DIR] [RUNS]
set -eu
build=${1:-build}
runs=${2:-5}
cmake --build "$build" --target unit_cachectl -j2
STRATA_BENCH=1 STRATA_BENCH_RUNS=$runs "$build/tests/unit_cachectl" --gtest_filter='CachectlBench.*'
