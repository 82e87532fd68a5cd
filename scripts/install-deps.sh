#!/usr/bin/env bash
# Installs everything Strata needs to build, test and benchmark on Debian 12, from Debian's
# packages (and npm for the context servers / helm). Safe to run again: apt skips what is there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
want_tests=0
for a in "$@"; do [[ $a == --tests ]] && want_tests=1; done

build_pkgs=(build-essential cmake pkg-config git ca-certificates ccache
  librocksdb-dev libcurl4-openssl-dev libssl-dev libzstd-dev libarchive-dev libcli11-dev
  nlohmann-json3-dev libgtest-dev libexpected-dev libdeflate-dev libisal-dev)
run_pkgs=(docker-registry apache2-utils skopeo umoci busybox-static openssl python3)
test_pkgs=(buildah clang libfuzzer-14-dev libclang-rt-14-dev time bc)

pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}")
(( want_tests )) && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: ok"
