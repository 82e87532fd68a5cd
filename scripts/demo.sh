#!/usr/bin/env bash
# scripts/demo.sh: the end-to-end "main job", on this machine only (no network but 127.0.0.1):
#   1. install dependencies (scripts/install-deps.sh) and build the tools (Release, build-release/);
#   2. start a docker-registry on a free 127.0.0.1 port (plain HTTP, storage in a temp dir);
#   3. make the busybox base image without any download (tests/make-base-image.py) and push it
#      as HOST/library/busybox:latest;
#   4. warm a cache with it: build-release/warmer --cache-dir DIR --image HOST/library/busybox:latest
#      --insecure-registry HOST;
#   5. build a small Dockerfile FROM it with the executor and push the result, then inspect it.
# The registry is stopped on exit (trap); the work dir is removed unless STRATA_KEEP_TEMP is set.
# Environment: STRATA_BUILD_DIR (default build-release), STRATA_SKIP_BUILD=1 to use the tools
# already built there, STRATA_JOBS (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
jobs=${STRATA_JOBS:-2}
say() { printf '\n==> %s\n' "$*"; }

say "installing dependencies"
bash scripts/install-deps.sh

bdir=${STRATA_BUILD_DIR:-build-release}
if [[ -z "${STRATA_SKIP_BUILD:-}" ]]; then
  say "building the tools (Release, $bdir/)"
  cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DSTRATA_TESTS=OFF >/dev/null
  cmake --build "$bdir" -j"$jobs"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-demo-XXXXXX")
registry_pid=
cleanup() {
  local status=$?
  if [[ -n "$registry_pid" ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    echo "demo: registry stopped"
  fi
  if [[ -n "${STRATA_KEEP_TEMP:-}" || $status != 0 ]]; then
    echo "demo: work dir kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: "$work/registry"}, delete: {enabled: true}}
http: {addr: "$host"}
YAML
say "starting docker-registry on $host (log: $work/registry.log)"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 200); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://$host/v2/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$registry_pid" 2>/dev/null || { cat "$work/registry.log" >&2; exit 1; }
  sleep 0.05
done

say "making and pushing the busybox base image to $host/library/busybox:latest"
digest=$(python3 tests/make-base-image.py --push "$host/library/busybox:latest" --insecure \
  "$work/busybox-layout" latest)
echo "pushed $host/library/busybox:latest @ $digest"
skopeo inspect --tls-verify=false "docker://$host/library/busybox:latest" |
  python3 -c 'import json,sys; i=json.load(sys.stdin); print("  %s/%s, %d layer(s)" % (i["Os"], i["Architecture"], len(i["Layers"])))'

cache="$work/cache"
warm=("$bdir/warmer" --cache-dir "$cache" --image "$host/library/busybox:latest" --insecure-registry "$host")
say "warming the cache: ${warm[*]}"
if [[ -x $bdir/warmer ]]; then
  "${warm[@]}"
  echo "cache contents:"
  (cd "$cache" && find . -maxdepth 3 | sort | head -20)
else
  echo "demo: $bdir/warmer is missing (build failed?)" >&2
  exit 1
fi

mkdir -p "$work/context"
cat >"$work/context/Dockerfile" <<DOCKERFILE
FROM $host/library/busybox:latest
RUN echo "built by strata" > /hello.txt
CMD ["cat", "/hello.txt"]
DOCKERFILE
build=("$bdir/executor" --context "$work/context" --dockerfile "$work/context/Dockerfile"
  --destination "$host/demo/hello:latest" --insecure-registry "$host" --cache-dir "$cache")
say "building with the executor: ${build[*]}"
if [[ -x $bdir/executor ]]; then
  "${build[@]}"
  skopeo inspect --tls-verify=false "docker://$host/demo/hello:latest" |
    python3 -c 'import json,sys; i=json.load(sys.stdin); print("  demo/hello:latest", i["Digest"], len(i["Layers"]), "layer(s)")'
else
  echo "demo: $bdir/executor is missing (build failed?)" >&2
  exit 1
fi
say "done (sources: $root)"
