#!/usr/bin/env bash
# scripts/test.sh: install what the tests need, build, and run every test. The CI entry point
# (.ci/run execs this). Two passes on 2 cores:
#   1. build-asan (clang): the pure parsing/format modules of common/ (STRATA_ONLY_MODULES: util,
#      digest, image, dockerfile, archive, auth, transport, registry) with ASan+UBSan and libFuzzer
#      coverage; their unit tests under the sanitizers (`ctest -L unit`), then every fuzz target for a
#      bounded time (scripts/fuzz.sh). The other modules get their sanitizer runs on demand
#      (cmake -DSTRATA_SANITIZE=ON): a second full build does not fit CI's 30 minutes;
#   2. build: everything with -DSTRATA_WERROR=ON, then `ctest --output-on-failure -j2` — unit,
#      integration (real docker-registry/token servers on free 127.0.0.1 ports, each in its own temp
#      dir), faults, charts, image and the CI subset of the e2e comparison with buildah.
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
asan_modules="util;digest;image;dockerfile;archive;auth;transport;registry"
if [[ -z "${STRATA_SKIP_ASAN:-}" ]]; then
  # One clang build serves both: the library is instrumented for ASan+UBSan and for libFuzzer
  # coverage, the unit tests run under the sanitizers, and the fuzz targets link against it.
  log "pass 1: unit tests under ASan+UBSan and bounded fuzzing (clang, build-asan)"
  # Only the pure parsing/format modules: what the fuzz targets exercise and what hostile input
  # reaches first. The rest is covered by pass 2; a full sanitizer build is one flag away
  # (cmake -DSTRATA_SANITIZE=ON without STRATA_ONLY_MODULES). This keeps CI within its budget.
  # Line tables only: enough for sanitizer stack traces, much cheaper to compile and link than -g.
  CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DSTRATA_FUZZ=ON -DSTRATA_ONLY_MODULES="${STRATA_ASAN_MODULES:-$asan_modules}" >/dev/null
  if cmake --build build-asan -j"$jobs"; then
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
# No debug info in CI's build: less to compile and far less to link (~30 binaries); a developer's
# build (cmake's default here) keeps -g.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
  -DSTRATA_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
main_status=0
# Label conformance-all (every e2e/kaniko case, the Debian apt case: 20+ minutes) is on demand only:
# `ctest --test-dir build -L conformance-all` (docs/e2e.md).
# shellcheck disable=SC2086  # STRATA_CTEST_ARGS is a word list on purpose
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 900 -LE conformance-all ${STRATA_CTEST_ARGS:-} ||
  main_status=$?
(( asan_status == 0 && fuzz_status == 0 && main_status == 0 ))
