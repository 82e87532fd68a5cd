#!/usr/bin/env bash
# Peak RSS of the executor while building and pushing an image with one big incompressible layer.
#   bench/rss.sh [--executor PATH] [--size-mib N] [--rounds N] [--compression gzip|zstd]
# A docker-registry on a free loopback port (plain HTTP) gets the busybox base (tests/make-base-image.py);
# the Dockerfile is `RUN dd if=/dev/urandom of=/big bs=1M count=N` (default 2048 MiB: random data does
# not compress, so the layer blob is as big as the file); the executor builds it and pushes it
# (--destination), under /usr/bin/time -v. Reported: "Maximum resident set size" (target: <= 150 MB)
# and wall time per round, and the pushed layer's size. Each round uses a fresh kaniko dir and
# registry repository, so the push uploads the whole layer every time. Needs root (chroot RUN),
# docker-registry, skopeo, /usr/bin/time; ~3x N MiB of free disk (root, layer blob, registry).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
executor=${STRATA_EXECUTOR:-}
size=2048
rounds=1
compression=gzip
while [[ $# -gt 0 ]]; do
  case $1 in
    --executor) executor=$2; shift 2 ;;
    --size-mib) size=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --compression) compression=$2; shift 2 ;;
    *) echo "usage: $0 [--executor PATH] [--size-mib N] [--rounds N] [--compression gzip|zstd]" >&2; exit 2 ;;
  esac
done
. "$here/lib.sh"
executor=$(bench_executor "$executor") || exit 2
executor=$(realpath "$executor")

exec python3 - "$here/../tests/e2e" "$executor" "$size" "$rounds" "$compression" <<'PY'
import json, os, shutil, sys, time, urllib.request
e2e, executor, size, rounds, compression = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, e2e)
import run  # tests/e2e/run.py: registry session, base image, timed()

class Args:
    pass
args = Args()
args.executor, args.workdir, args.keep = executor, None, False
os.environ["STRATA_E2E_DEBIAN"] = "0"  # only the busybox base is needed
sess = run.Session(args)
ok = True
try:
    sess.start_registry()
    sess.push_bases({"e2e"})
    ctx = os.path.join(sess.work, "ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {sess.registry}/e2e/busybox:latest\n"
                f"RUN dd if=/dev/urandom of=/big bs=1M count={size} 2>/dev/null && ls -l /big\n")
    for r in range(rounds):
        kdir = os.path.join(sess.work, f"kaniko-{r}")
        dest = f"{sess.registry}/bench/big{r}:1"
        logf = os.path.join(sess.work, f"round{r}.log")
        rc, secs, rss = run.timed([executor, "--context", ctx, "--destination", dest, "--kaniko-dir", kdir,
                                   "--cache-dir", os.path.join(sess.work, "cache"), "--insecure", "--insecure-pull",
                                   "--compression", compression, "--cleanup"], logf, sess.env)
        if rc != 0:
            print(open(logf, errors="replace").read()[-3000:])
            ok = False
            break
        req = urllib.request.Request(f"http://{sess.registry}/v2/bench/big{r}/manifests/1", headers={"Accept": ",".join([
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"])})
        with urllib.request.urlopen(req) as resp:
            layers = json.load(resp)["layers"]
        top = layers[-1]["size"]
        print(f"round {r + 1}/{rounds}: build+push of a {size} MiB random layer ({compression}, pushed blob "
              f"{top / 2**20:.0f} MiB): {secs:.1f}s, executor peak RSS {rss / 1024:.1f} MiB ({rss} KiB)", flush=True)
        shutil.rmtree(kdir, ignore_errors=True)
        # Result line for bench/run (protocol: bench/run's header).
        print("BENCH " + json.dumps({"name": f"build + push of a {size} MiB layer ({compression}), round {r + 1}",
                                     "metric": "s", "strata": round(secs, 2), "peer": None, "peer_value": None,
                                     "ratio": None, "target": "peak RSS <= 150 MB",
                                     "strata_rss_mb": round(rss / 1024, 1)}), flush=True)
finally:
    sess.stop()
    shutil.rmtree(sess.work, ignore_errors=True)
sys.exit(0 if ok else 1)
PY
