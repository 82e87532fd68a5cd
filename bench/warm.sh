#!/usr/bin/env bash
# bench/warm.sh: warmer against `skopeo copy docker://... oci:DIR` on the same image, same run.
# Starts a docker-registry on a free 127.0.0.1 port, pushes a ~300 MB multi-layer image (mixed
# incompressible binary and text content, gzip layers), then runs ROUNDS rounds alternating the
# two tools into fresh directories, and a re-warm of the cached image. Prints medians, the ratio
# warmer/skopeo and peak RSS (from /usr/bin/time), and writes bench/results/warm-<date>.json.
# Environment: ROUNDS (default 5), WARMER (default build/warmer), BENCH_MB (default 300).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${ROUNDS:-5}
warmer=${WARMER:-build/warmer}
total_mb=${BENCH_MB:-300}
[[ -x $warmer ]] || { echo "bench/warm.sh: $warmer not built (cmake --build build)" >&2; exit 1; }
for b in docker-registry skopeo python3 /usr/bin/time; do
  command -v "$b" >/dev/null || { echo "bench/warm.sh: missing $b (scripts/install-deps.sh --tests)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench-warm-XXXXXX")
registry_pid=
cleanup() {
  if [[ -n $registry_pid ]]; then kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat >"$work/registry.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: "$work/registry"}, delete: {enabled: true}}
http: {addr: "$host"}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 200); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://$host/v2/', timeout=1)" 2>/dev/null && break
  sleep 0.05
done

echo "bench/warm.sh: making a ${total_mb} MB image (4 gzip layers, half random bytes, half text)"
python3 - "$work/layout" "$total_mb" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
out, total_mb = sys.argv[1], int(sys.argv[2])
os.makedirs(out + "/blobs/sha256", exist_ok=True)
rng = random.Random(7)
words = open("/usr/share/common-licenses/GPL-3").read().split()
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
layers, diff_ids = [], []
per_layer = total_mb * 1024 * 1024 // 4
for n in range(4):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind in ("bin", "txt"):
            if kind == "bin":
                data = rng.randbytes(per_layer * 3 // 4)
            else:
                chunk = " ".join(rng.choice(words) for _ in range(200000)).encode()
                data = (chunk * (per_layer // 4 // len(chunk) + 1))[: per_layer // 4]
            info = tarfile.TarInfo(f"layer{n}/{kind}.dat"); info.size = len(data); info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
    gz = gzip.compress(tar_bytes, compresslevel=1, mtime=0)
    d, size = put(gz)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": size})
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
cd, cs = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                       "layers": layers}).encode()
md, ms = put(manifest)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "bench"}}]},
          open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
print("  compressed size: %.0f MB" % (sum(l["size"] for l in layers) / 1e6))
PY
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:bench" "docker://$host/bench/image:latest"
rm -rf "$work/layout"
ref=$host/bench/image:latest

# Runs a command, printing "seconds peak_rss_kb".
measure() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $(cat "$work/rss")"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$work/warmer.txt"; : >"$work/skopeo.txt"; : >"$work/rewarm.txt"
# Every measurement starts with no dirty pages (an untimed sync after each: skopeo does not fsync,
# and its writeback would otherwise land in the next warmer measurement), and nothing is deleted
# until the end (deleting on this discard-mounted disk slows file creation that follows; see
# ../shared/environment.md). Both tools write into fresh directories, alternating.
sync
for r in $(seq 1 "$rounds"); do
  measure "$warmer" --cache-dir "$work/w$r" --image "$ref" --insecure-registry "$host" >>"$work/warmer.txt"
  measure "$warmer" --cache-dir "$work/w$r" --image "$ref" --insecure-registry "$host" >>"$work/rewarm.txt"
  sync
  measure skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$work/s$r:bench" >>"$work/skopeo.txt"
  sync
done
w=$(cut -d' ' -f1 "$work/warmer.txt" | median); s=$(cut -d' ' -f1 "$work/skopeo.txt" | median)
rw=$(cut -d' ' -f1 "$work/rewarm.txt" | median)
wr=$(cut -d' ' -f2 "$work/warmer.txt" | sort -n | tail -1); sr=$(cut -d' ' -f2 "$work/skopeo.txt" | sort -n | tail -1)
ratio=$(echo "$w / $s" | bc -l)
printf '\n| %-28s | %10s | %12s |\n|%s|%s|%s|\n' "warm of a ${total_mb} MB image" "median s" "peak RSS MB" "------------------------------" "------------" "--------------"
printf '| %-28s | %10.2f | %12.1f |\n' "warmer" "$w" "$(echo "$wr/1024" | bc -l)"
printf '| %-28s | %10.2f | %12.1f |\n' "skopeo copy (docker -> oci)" "$s" "$(echo "$sr/1024" | bc -l)"
printf '| %-28s | %10.3f | %12s |\n' "re-warm (cached tag)" "$rw" ""
printf '\nratio warmer/skopeo: %.2f (target <= 0.5); re-warm %.0f ms (target < 100 ms); %s rounds\n' "$ratio" "$(echo "$rw*1000" | bc -l)" "$rounds"
mkdir -p bench/results
cat >"bench/results/warm-$(date -u +%Y-%m-%d).json" <<JSON
{"benchmark": "warm", "image_mb": $total_mb, "rounds": $rounds,
 "warmer_median_s": $w, "skopeo_median_s": $s, "ratio": $ratio,
 "warmer_peak_rss_kb": $wr, "skopeo_peak_rss_kb": $sr, "rewarm_median_s": $rw}
JSON
# Result lines for bench/run (protocol: bench/run's header).
printf 'BENCH {"name": "warm %s MB image", "metric": "s", "strata": %.3f, "peer": "skopeo copy", "peer_value": %.3f, "ratio": %.3f, "target": "<= 0.5", "strata_rss_mb": %.1f, "peer_rss_mb": %.1f}\n' \
  "$total_mb" "$w" "$s" "$ratio" "$(echo "$wr/1024" | bc -l)" "$(echo "$sr/1024" | bc -l)"
printf 'BENCH {"name": "re-warm of a cached tag", "metric": "s", "strata": %.3f, "peer": null, "peer_value": null, "ratio": null, "target": "< 0.1 s"}\n' "$rw"
