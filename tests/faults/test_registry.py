#!/usr/bin/env python3
"""Registry faults through tests/faults/fault_proxy.py (docs/reliability.md).

usage: test_registry.py --warmer PATH --executor PATH --cachectl PATH [--keep]

One docker-registry, one fault proxy in front of it; the tools only see the proxy. Warmer cases,
each into a fresh cache dir: transient 500/502/503 and 429 (Retry-After honoured) → success;
a connection cut mid-blob → success, resumed with a Range request; a 20 s stall, longer
than the stall timeout (STRATA_STALL_TIMEOUT=2) → given up within 15 s, resumed, success; bytes
flipped in every response of a blob → exit 1, "digest mismatch", blob not stored; a short body with a matching
Content-Length → exit 1, clear size error. After every run: `cachectl verify`, every blob
re-hashed in Python, no stray file outside ingest/. `cachectl verify --repair --refetch` of a
damaged blob through a 503 and a cut → repaired. Executor: pushes through 5xx on uploads,
dropped upload requests and cut responses (--push-retry) → skopeo copies the pushed image back
(verifying every digest) and the layer bytes match the context file.
Exit 0 pass, 1 fail, 77 skipped (not root, tool missing).
"""
import gzip
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as F  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

BLOB = r"^GET /v2/faults/img/blobs/sha256:"


def warm(args, proxy, cache, env=None, timeout=120, extra=()):
    e = dict(os.environ, DOCKER_CONFIG=os.path.dirname(cache))
    e.update(env or {})
    return F.run_tool([args.warmer, "--cache-dir", cache, "--image", f"{proxy.host}/faults/img:v1",
                       "--insecure-registry", proxy.host, "-v", "debug", *extra], timeout=timeout, env=e)


def case(s, args, proxy, name, rules, expect_ok, expect_text=None, env=None, check_log=None, extra=()):
    cache = s.path("caches", name, "cache")
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    proxy.set_rules(rules)
    t0 = time.time()
    rc, out = warm(args, proxy, cache, env, extra=extra)
    took = time.time() - t0
    F.log(f"  {name}: exit {rc} in {took:.1f}s, {len(proxy.log)} requests")
    if expect_ok:
        F.check(rc == 0, f"{name}: warmer failed ({rc}):\n{out[-3000:]}")
    else:
        F.check(rc == 1, f"{name}: warmer should fail with 1, got {rc}:\n{out[-3000:]}")
        F.check(expect_text in out, f"{name}: no '{expect_text}' in the error:\n{out[-3000:]}")
    for r in rules:
        F.check(proxy.applied(r["action"]), f"{name}: fault {r['action']} was never injected")
    if check_log:
        check_log(name, proxy, took, out)
    F.check_cache(args.cachectl, cache, name)
    return cache


def blob_present(cache, digest):
    return os.path.exists(os.path.join(cache, "blobs", "sha256", digest.split(":")[1]))


def main():
    args = F.tool_args(sys.argv[1:])
    F.require(["docker-registry", "skopeo", args.warmer, args.executor, args.cachectl])
    with F.Session("registry", args.keep) as s:
        reg = s.registry()
        # Three layers: 12 MB (the one faults target), 3 MB, 1 MB of random bytes.
        layers = [F.random_layer(1, 12 << 20), F.random_layer(2, 3 << 20), F.random_layer(3, 1 << 20)]
        F.push_image(reg, "faults/img", "v1", layers)
        big = F.sha256(layers[0][0])
        proxy = FaultProxy(int(reg.host.split(":")[1])).start()
        s.cleanups.append(proxy.stop)
        big_re = "^GET /v2/faults/img/blobs/" + big

        def resumed(name, p, took, out):
            ranges = [e for e in p.log if e[0] == "GET" and big in e[1] and e[2].startswith("bytes=")]
            F.check(ranges and all(e[4] == 206 for e in ranges),
                    f"{name}: the cut download was not resumed with a Range request: {p.log}")

        def stalled(name, p, took, out):
            resumed(name, p, took, out)
            # The proxy stalls 20 s; with STRATA_STALL_TIMEOUT=2 the client gives up after 2 s of
            # "current speed" under 1 KiB/s, curl's current speed being averaged over ~5 s: ~7 s.
            F.check(took < 15.0, f"{name}: took {took:.1f}s, the stall timeout was not applied")

        def waited(name, p, took, out):
            F.check(took >= 1.0, f"{name}: Retry-After: 2 was not honoured ({took:.2f}s)")

        def overlapped(name, p, took, out):
            # Three layer blobs, each answered after 2 s: one after the other that is >= 6 s; with
            # --parallel-downloads 3 they overlap and the warm takes a little over 2 s (config first).
            delayed = [e for e in p.log if e[3] == "delay"]
            F.check(len(delayed) >= 3, f"{name}: expected >= 3 delayed blob requests: {p.log}")
            F.check(took < 5.5, f"{name}: took {took:.1f}s for 3 blobs delayed 2 s each: not in parallel")

        F.log("warmer downloads layers in parallel")
        layer_digests = "|".join(F.sha256(layer[0]).split(":")[1] for layer in layers)
        case(s, args, proxy, "parallel", [{"match": f"^GET /v2/faults/img/blobs/sha256:({layer_digests})",
                                           "action": "delay", "seconds": 2, "times": -1}],
             True, env=None, check_log=overlapped, extra=["--parallel-downloads", "3"])

        F.log("warmer through faults")
        case(s, args, proxy, "http-5xx",
             [{"match": big_re, "action": "status", "code": 500, "times": 1},
              {"match": BLOB, "action": "status", "code": 502, "times": 1},
              {"match": r"^(GET|HEAD) /v2/faults/img/manifests/", "action": "status", "code": 503, "times": 1}],
             True)
        case(s, args, proxy, "http-429", [{"match": big_re, "action": "429", "retry_after": 2, "times": 1}],
             True, check_log=waited)
        case(s, args, proxy, "cut-mid-blob", [{"match": big_re, "action": "cut", "fraction": 0.4, "times": 2}],
             True, check_log=resumed)
        case(s, args, proxy, "stall", [{"match": big_re, "action": "stall", "fraction": 0.3, "seconds": 20,
                                        "times": 1}],
             True, env={"STRATA_STALL_TIMEOUT": "2"}, check_log=stalled)
        c = case(s, args, proxy, "flipped-bytes", [{"match": big_re, "action": "flip", "fraction": 0.7,
                                                    "times": -1}],
                 False, "digest mismatch")
        F.check(not blob_present(c, big), "flipped-bytes: a corrupt blob was stored")
        c = case(s, args, proxy, "truncated-body", [{"match": big_re, "action": "truncate", "fraction": 0.5,
                                                     "times": -1}],
                 False, "expected")
        F.check(not blob_present(c, big), "truncated-body: a short blob was stored")
        # The same cache dir, faults gone: the failed run left it usable.
        proxy.set_rules([])
        rc, out = warm(args, proxy, c)
        F.check(rc == 0, f"re-warm after a failed run: {rc}\n{out[-2000:]}")
        F.check(blob_present(c, big), "re-warm did not store the blob")
        F.check_cache(args.cachectl, c, "re-warm")

        F.log("cachectl verify --repair --refetch through faults")
        blob_path = os.path.join(c, "blobs", "sha256", big.split(":")[1])
        with open(blob_path, "r+b") as f:
            f.seek(1000)
            byte = f.read(1)
            f.seek(1000)
            f.write(bytes([byte[0] ^ 0xFF]))
        rc, out = F.run_tool([args.cachectl, "verify", "--cache-dir", c])
        F.check(rc != 0, f"cachectl verify did not notice a corrupt blob:\n{out}")
        rules = [{"match": big_re, "action": "status", "code": 503, "times": 1},
                 {"match": big_re, "action": "cut", "fraction": 0.5, "times": 1}]
        proxy.set_rules(rules)
        rc, out = F.run_tool([args.cachectl, "verify", "--repair", "--refetch", "--cache-dir", c,
                              "--insecure-registry", proxy.host], env=dict(os.environ, DOCKER_CONFIG=s.dir))
        F.log(f"  refetch: exit {rc}, {len(proxy.log)} requests")
        F.check(rc == 0, f"cachectl verify --repair --refetch through faults: {rc}\n{out[-2000:]}")
        for r in rules:
            F.check(proxy.applied(r["action"]), f"refetch: fault {r['action']} never injected: {proxy.log}")
        F.check(blob_present(c, big), "refetch did not restore the blob")
        F.check_cache(args.cachectl, c, "after refetch")

        F.log("executor push through faults")
        ctx = s.path("ctx")
        os.makedirs(ctx)
        payload = random.Random(9).randbytes(6 << 20)
        with open(os.path.join(ctx, "payload.bin"), "wb") as f:
            f.write(payload)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY payload.bin /payload.bin\n")
        pushes = [
            ("push-5xx", [{"match": r"^(PUT|PATCH) /v2/faults/out/blobs/uploads/", "action": "status", "code": 503,
                           "times": 2},
                          {"match": r"^PUT /v2/faults/out/manifests/", "action": "status", "code": 500, "times": 1}]),
            ("push-cut", [{"match": r"^(PUT|PATCH) /v2/faults/out/blobs/uploads/", "action": "drop", "times": 1},
                          {"match": r"^(PUT|PATCH) /v2/faults/out/blobs/uploads/", "action": "cut", "times": 1},
                          {"match": r"^POST /v2/faults/out/blobs/uploads/", "action": "status", "code": 502,
                           "times": 1}]),
        ]
        for i, (name, rules) in enumerate(pushes):
            proxy.set_rules(rules)
            dest = f"{proxy.host}/faults/out:{name}"
            rc, out = F.run_tool([args.executor, "--context", ctx, "--destination", dest, "--insecure-registry",
                                  proxy.host, "--cache-dir", s.path(f"exec-cache-{i}"), "--kaniko-dir",
                                  s.path(f"kaniko-{i}"), "--push-retry", "4", "-v", "debug"], timeout=180,
                                 env=dict(os.environ, DOCKER_CONFIG=s.dir))
            F.log(f"  {name}: exit {rc}, {len(proxy.log)} requests")
            F.check(rc == 0, f"{name}: executor failed ({rc}):\n{out[-3000:]}")
            for r in rules:
                F.check(proxy.applied(r["action"]), f"{name}: fault {r['action']} never injected: {proxy.log}")
            layout = s.path(f"pulled-{i}")
            p = subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{reg.host}/faults/out:{name}",
                                f"oci:{layout}:x"], capture_output=True, text=True)
            F.check(p.returncode == 0, f"{name}: skopeo could not copy the pushed image: {p.stderr}")
            index = json.load(open(os.path.join(layout, "index.json")))
            mdig = index["manifests"][0]["digest"].split(":")[1]
            manifest = json.load(open(os.path.join(layout, "blobs", "sha256", mdig)))
            ldig = manifest["layers"][-1]["digest"].split(":")[1]
            raw = open(os.path.join(layout, "blobs", "sha256", ldig), "rb").read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                got = tar.extractfile("payload.bin").read()
            F.check(got == payload, f"{name}: the pushed layer does not hold the context file")


if __name__ == "__main__":
    F.main_wrapper(main)
