#!/usr/bin/env python3
"""SIGKILL at random moments (docs/reliability.md).

usage: test_sigkill.py --warmer PATH --executor PATH --cachectl PATH [--keep] [--seed N]

  warmer   downloads a 3-layer image through the fault proxy slowed to 4 MB/s per connection (so
           the kill lands mid-download); killed after a random 0.1-1.5 s, 3 times into the same cache dir; after
           each kill `cachectl verify` passes, then the next full run succeeds.
  executor pushes a 4-layer image, every upload delayed 0.5 s by the proxy; killed after a random
           0.1-1.5 s, 3 times; then a full push succeeds and skopeo copies the image back.
  prune    a cache filled by the warmer with 8 images; `cachectl prune --all` killed at a random
           point of its measured run time, 3 times; verify passes after each kill, and a
           following prune, gc and re-warm succeed.
Kills that land after the process ended are counted; at least one per tool must land mid-run.
Exit 0 pass, 1 fail, 77 skipped.
"""
import os
import random
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as F  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402


def kill_after(argv, delay, env):
    """Starts argv, SIGKILLs it after delay s; True when it was still running."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        p.wait(delay)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def main():
    ap_args = sys.argv[1:]
    seed = int(time.time())
    if "--seed" in ap_args:
        i = ap_args.index("--seed")
        seed = int(ap_args[i + 1])
        del ap_args[i:i + 2]
    args = F.tool_args(ap_args)
    F.require(["docker-registry", "skopeo", args.warmer, args.executor, args.cachectl])
    rng = random.Random(seed)
    F.log(f"seed {seed} (rerun with --seed {seed})")
    with F.Session("sigkill", args.keep) as s:
        reg = s.registry()
        env = dict(os.environ, DOCKER_CONFIG=s.dir)
        proxy = FaultProxy(int(reg.host.split(":")[1])).start()
        s.cleanups.append(proxy.stop)
        layers = [F.random_layer(10 + i, 8 << 20) for i in range(3)]
        F.push_image(reg, "kill/big", "v1", layers)

        F.log("warmer killed mid-download")
        cache = s.path("warm-cache")
        warm = [args.warmer, "--cache-dir", cache, "--image", f"{proxy.host}/kill/big:v1",
                "--insecure-registry", proxy.host]
        landed = 0
        for i in range(3):
            proxy.set_rules([{"match": r"^GET /v2/kill/big/blobs/", "action": "slow", "rate": 4 << 20,
                              "times": -1}])
            delay = rng.uniform(0.1, 1.5)
            hit = kill_after(warm, delay, env)
            landed += hit
            F.log(f"  kill {i} after {delay:.2f}s: {'mid-run' if hit else 'already done'}")
            F.check_cache(args.cachectl, cache, f"warmer kill {i}")
            proxy.set_rules([])
            rc, out = F.run_tool(warm, env=env)
            F.check(rc == 0, f"warmer after kill {i}: {rc}\n{out[-2000:]}")
            F.check_cache(args.cachectl, cache, f"warmer after kill {i}")
            # next iteration starts from an empty cache again (same dir, entries pruned)
            rc, out = F.run_tool([args.cachectl, "prune", "--all", "--cache-dir", cache])
            F.check(rc == 0, f"prune: {rc}\n{out}")
            rc, out = F.run_tool([args.cachectl, "gc", "--grace", "0s", "--cache-dir", cache])
            F.check(rc == 0, f"gc: {rc}\n{out}")
        F.check(landed > 0, "no warmer kill landed mid-download")

        F.log("executor killed mid-push")
        ctx = s.path("ctx")
        os.makedirs(ctx)
        # A small base, so the executor's cache dir holds something for verify to check.
        F.push_image(reg, "kill/base", "v1", [F.random_layer(50, 256 << 10)])
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(f"FROM {proxy.host}/kill/base:v1\n")
            for i in range(4):
                with open(os.path.join(ctx, f"f{i}.bin"), "wb") as g:
                    g.write(rng.randbytes(2 << 20))
                f.write(f"COPY f{i}.bin /f{i}.bin\n")
        landed = 0
        ecache = s.path("exec-cache")
        for i in range(3):
            proxy.set_rules([{"match": r"^(PUT|PATCH) /v2/kill/out/", "action": "delay", "seconds": 0.5,
                              "times": -1}])
            push = [args.executor, "--context", ctx, "--destination", f"{proxy.host}/kill/out:v{i}",
                    "--insecure-registry", proxy.host, "--cache-dir", ecache, "--kaniko-dir", s.path("kaniko"),
                    "--push-parallelism", "1"]
            delay = rng.uniform(0.1, 1.5)
            hit = kill_after(push, delay, env)
            landed += hit
            F.log(f"  kill {i} after {delay:.2f}s: {'mid-run' if hit else 'already done'}")
            F.check_cache(args.cachectl, ecache, f"executor kill {i}")
            proxy.set_rules([])
            rc, out = F.run_tool(push, env=env, timeout=180)
            F.check(rc == 0, f"executor after kill {i}: {rc}\n{out[-2000:]}")
            p = subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{reg.host}/kill/out:v{i}",
                                f"oci:{s.path('pulled')}:v{i}"], capture_output=True, text=True)
            F.check(p.returncode == 0, f"skopeo copy after executor kill {i}: {p.stderr}")
            F.check_cache(args.cachectl, ecache, f"executor after kill {i}")
        F.check(landed > 0, "no executor kill landed mid-push")

        F.log("cachectl prune killed mid-run")
        refs = []
        for n in range(8):
            small = [F.random_layer(100 + n * 10 + k, 32 << 10) for k in range(4)]
            F.push_image(reg, f"kill/many{n}", "v1", small)
            refs += ["--image", f"{reg.host}/kill/many{n}:v1"]
        pcache = s.path("prune-cache")
        fill = [args.warmer, "--cache-dir", pcache, "--insecure-registry", reg.host, *refs]
        prune = [args.cachectl, "prune", "--all", "--cache-dir", pcache]
        rc, out = F.run_tool(fill, env=env)
        F.check(rc == 0, f"fill: {out[-2000:]}")
        t0 = time.time()
        rc, out = F.run_tool(prune, env=env)
        took = time.time() - t0
        F.check(rc == 0, f"prune: {out[-2000:]}")
        F.log(f"  a full prune takes {took * 1000:.0f} ms")
        landed = 0
        for i in range(3):
            rc, out = F.run_tool(fill, env=env)
            F.check(rc == 0, f"fill {i}: {out[-2000:]}")
            delay = rng.uniform(0.1, 0.9) * took
            t0 = time.time()
            hit = kill_after(prune, delay, env)
            if not hit:
                took = min(took, time.time() - t0)
            landed += hit
            F.log(f"  kill {i} after {delay * 1000:.0f} ms: {'mid-run' if hit else 'already done'}")
            F.check_cache(args.cachectl, pcache, f"prune kill {i}")
            rc, out = F.run_tool(prune, env=env)
            F.check(rc == 0, f"prune after kill {i}: {rc}\n{out[-2000:]}")
            rc, out = F.run_tool([args.cachectl, "gc", "--grace", "0s", "--cache-dir", pcache])
            F.check(rc == 0, f"gc after kill {i}: {rc}\n{out}")
            F.check_cache(args.cachectl, pcache, f"prune after kill {i}")
        F.check(landed > 0, "no prune kill landed mid-run")
        rc, out = F.run_tool(fill, env=env)
        F.check(rc == 0, f"re-warm after the prune kills: {out[-2000:]}")
        F.check_cache(args.cachectl, pcache, "re-warm after prune kills")


if __name__ == "__main__":
    F.main_wrapper(main)
