#!/usr/bin/env bash
# scripts/fuzz.sh: builds the libFuzzer targets with clang (build-fuzz/) and runs each for a
# bounded time on its committed corpus, tests/fuzz/corpus/<target>/ (plus, for the Dockerfile
# parser, BuildKit's conformance files from ../shared when present). New inputs go to a temp dir,
# so the committed corpora change only when someone copies a finding in on purpose; a crash
# leaves its input in $bdir/crashes/ and fails the script.
# Environment: STRATA_FUZZ_SECONDS (per target, default 15), STRATA_JOBS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${STRATA_FUZZ_SECONDS:-15}
jobs=${STRATA_JOBS:-2}
bdir=${STRATA_FUZZ_BUILD:-build-fuzz}
mapfile -t targets < <(cd tests/fuzz && ls -- *_fuzz.cpp | sed 's/\.cpp$//')
if [[ -z ${STRATA_FUZZ_BUILD:-} ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_FUZZ=ON \
    -DSTRATA_TESTS=OFF >/dev/null
  cmake --build "$bdir" -j"$jobs" --target "${targets[@]}"
fi
mkdir -p "$bdir/crashes"
status=0
for t in "${targets[@]}"; do
  corpus=tests/fuzz/corpus/${t%_fuzz}
  scratch=$(mktemp -d)
  extra=()
  if [[ $t == dockerfile_parser_fuzz && -d ../shared/conformance/buildkit-parser ]]; then
    seeds=$(mktemp -d)
    find ../shared/conformance/buildkit-parser -name Dockerfile | while read -r f; do
      cp "$f" "$seeds/$(echo "$f" | md5sum | cut -c1-16)"
    done
    extra+=("$seeds")
  fi
  mkdir -p "$corpus"
  if "$bdir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=$bdir/crashes/"$t"- "$scratch" "$corpus" "${extra[@]}" \
      >$bdir/$t.log 2>&1; then
    echo "fuzz: $t: ok ($(grep -c . <(ls "$scratch") || true) new inputs in ${seconds}s)"
  else
    echo "fuzz: $t: FAILED — see $bdir/$t.log and $bdir/crashes/" >&2
    tail -30 $bdir/$t.log >&2
    status=1
  fi
  rm -rf "$scratch"
done
exit $status
