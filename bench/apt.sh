#!/usr/bin/env bash
# Cold build time of the Debian apt case, executor vs buildah, same run (tests/e2e/apt_case.py --bench).
#   bench/apt.sh [--executor PATH] [--rounds N] [--packages "hello jq"]
# First runs the apt case itself once (build, push over TLS+auth, pull back, check), then N rounds:
# each round builds `FROM debian:bookworm` + `RUN apt-get update && apt-get install -y ...` with
# both tools, alternating which goes first, from an empty buildah storage and an empty executor
# cache dir (both pull the ~50 MB Debian base again). Prints each time and the ratio of medians.
# The packages come from the Debian mirror apt is configured with: network time is part of both.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
executor=${STRATA_EXECUTOR:-}
rounds=3
packages="hello jq"
while [[ $# -gt 0 ]]; do
  case $1 in
    --executor) executor=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --packages) packages=$2; shift 2 ;;
    *) echo "usage: $0 [--executor PATH] [--rounds N] [--packages \"a b\"]" >&2; exit 2 ;;
  esac
done
. "$here/lib.sh"
executor=$(bench_executor "$executor") || exit 2
exec python3 "$here/../tests/e2e/apt_case.py" --executor "$executor" --packages "$packages" --bench "$rounds"
