#!/usr/bin/env bash
# scripts/test.sh: install what the tests need, build, and run every test. The CI entry point
# (.ci/run execs this). Two passes on 2 cores:
#   1. build-asan: the unit tests only, with ASan+UBSan (-DSTRATA_SANITIZE=ON), `ctest -L unit`;
#   2. build: everything with -DSTRATA_WERROR=ON, then `ctest --output-on-failure -j2` — unit and
#      integration tests (real docker-registry/token servers on free 127.0.0.1 ports, each in its
#      own temp dir, so parallel tests never collide).
# The sanitizer pass runs first so that the last line printed is the main ctest's summary.
# Exit status: non-zero if any build or either test pass failed.
#
# Environment: STRATA_JOBS (default 2), STRATA_SKIP_ASAN=1 to skip pass 1, STRATA_CTEST_ARGS
# (extra ctest arguments for pass 2, e.g. "-L unit" or "-R fixture").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=${STRATA_JOBS:-2}
log() { printf 'test.sh: %s\n' "$*" >&2; }

bash scripts/install-deps.sh --tests

asan_status=0
fuzz_status=0
if [[ -z "${STRATA_SKIP_ASAN:-}" ]]; then
  # One clang build serves both: the library is instrumented for ASan+UBSan and for libFuzzer
  # coverage, the unit tests run under the sanitizers, and the fuzz targets link against it.
  log "pass 1: unit tests under ASan+UBSan and bounded fuzzing (clang, build-asan)"
  CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=ON \
    -DSTRATA_FUZZ=ON >/dev/null
  # Only the unit binaries and fuzzers: the tools and integration tests are exercised by pass 2.
  mapfile -t unit_targets < <(cmake --build build-asan --target help | sed -nE 's/^\.\.\. (unit_[A-Za-z0-9_]+).*/\1/p')
  mapfile -t fuzz_targets < <(cmake --build build-asan --target help | sed -nE 's/^\.\.\. ([a-z_]+_fuzz)$/\1/p')
  if cmake --build build-asan -j"$jobs" --target "${unit_targets[@]}" "${fuzz_targets[@]}"; then
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
      ctest --test-dir build-asan -L unit --output-on-failure -j"$jobs" --timeout 600 || asan_status=$?
    STRATA_FUZZ_BUILD=build-asan bash scripts/fuzz.sh || fuzz_status=$?
  else
    asan_status=1
  fi
  log "pass 1 (sanitizers): $([[ $asan_status == 0 ]] && echo passed || echo "FAILED ($asan_status)")"
  log "pass 1 (fuzzing): $([[ $fuzz_status == 0 ]] && echo passed || echo "FAILED ($fuzz_status)")"
fi

log "pass 2: full build (build) and all tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
main_status=0
# shellcheck disable=SC2086  # STRATA_CTEST_ARGS is a word list on purpose
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 900 ${STRATA_CTEST_ARGS:-} || main_status=$?
(( asan_status == 0 && fuzz_status == 0 && main_status == 0 ))
