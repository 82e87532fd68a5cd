#!/usr/bin/env python3
"""A cache dir on a 20 MiB tmpfs that fills up (docs/reliability.md).

usage: test_no_space.py --warmer PATH --cachectl PATH [--keep]

Warming a 3 x 9 MiB image (incompressible) into it must fail with exit 1 and a message that says
there is no space; the cache must stay consistent (cachectl verify, every blob re-hashed, nothing
stray outside ingest/, ingest/ empty once the warmer is gone); a small image must warm into it at
once, and again after `cachectl prune --all` + `gc` free the space; the big image fits after the
tmpfs is remounted bigger (the same cache dir keeps working).
Exit 0 pass, 1 fail, 77 skipped.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as F  # noqa: E402


def main():
    args = F.tool_args(sys.argv[1:], names=("warmer", "cachectl"))
    F.require(["docker-registry", "mount", "umount", args.warmer, args.cachectl])
    with F.Session("nospace", args.keep) as s:
        reg = s.registry()
        env = dict(os.environ, DOCKER_CONFIG=s.dir)
        F.push_image(reg, "space/big", "v1", [F.random_layer(20 + i, 9 << 20) for i in range(3)])
        F.push_image(reg, "space/small", "v1", [F.random_layer(30, 256 << 10)])
        mnt = s.tmpfs("tmpfs", "20m")
        cache = os.path.join(mnt, "cache")

        def warm(name):
            return F.run_tool([args.warmer, "--cache-dir", cache, "--image", f"{reg.host}/space/{name}:v1",
                               "--insecure-registry", reg.host], env=env)

        rc, out = warm("big")
        F.log(f"big image into 20 MiB: exit {rc}")
        F.check(rc == 1, f"warming a too-big image should exit 1, got {rc}:\n{out[-2000:]}")
        F.check("no space" in out.lower(), f"the error does not say 'no space':\n{out[-2000:]}")
        F.log("  " + [line for line in out.splitlines() if "no space" in line.lower()][0])
        F.check_cache(args.cachectl, cache, "after ENOSPC")
        ingest = os.path.join(cache, "ingest")
        left = os.listdir(ingest) if os.path.isdir(ingest) else []
        F.check(not left, f"temp files left in ingest/ after the warmer exited: {left}")
        rc, out = F.run_tool([args.cachectl, "ls", "--cache-dir", cache], env=env)
        F.check(rc == 0 and "space/big" not in out, f"the failed image is listed:\n{out}")

        rc, out = warm("small")
        F.check(rc == 0, f"small image into the full cache: {rc}\n{out[-2000:]}")
        F.check_cache(args.cachectl, cache, "small after ENOSPC")
        for cmd in (["prune", "--all"], ["gc", "--grace", "0s"]):
            rc, out = F.run_tool([args.cachectl, *cmd, "--cache-dir", cache], env=env)
            F.check(rc == 0, f"cachectl {cmd[0]} on the full cache: {rc}\n{out}")
        F.check_cache(args.cachectl, cache, "after prune+gc")
        rc, out = warm("small")
        F.check(rc == 0, f"small image after prune: {rc}\n{out[-2000:]}")
        subprocess.run(["mount", "-o", "remount,size=80m", mnt], check=True)
        rc, out = warm("big")
        F.check(rc == 0, f"big image once the tmpfs is bigger: {rc}\n{out[-2000:]}")
        F.check_cache(args.cachectl, cache, "big after remount")


if __name__ == "__main__":
    F.main_wrapper(main)
