#!/usr/bin/env bash
# Layer cache: fully cached rebuilds vs buildah's `--layers` cached rebuild vs the cold build, same run.
#   bench/cache.sh [--executor PATH] [--rounds N] [--cases "a b c"] [--no-apt] [--json FILE]
# Corpus: e2e cases with RUN steps (tests/e2e/cases, bases pushed as tests/e2e/run.py does) and,
# when the Debian base can be made (debootstrap, cached in /var/cache/strata-bases), the apt case
# (FROM debian:bookworm + RUN apt-get install, as tests/e2e/apt_case.py).
# Setup (not timed), per case: one executor build with --cache that fills a cache dir and the
# cache repo <registry>/bench-cache/<case>, and one `buildah build --layers` into a storage dir.
# Each round then builds every case four ways, the order rotating per round:
#   cold    executor, fresh cache dir, no --cache (pulls the base, runs every step)
#   local   executor --cache, the filled cache dir (base and layers local), --no-push-cache
#   remote  executor --cache, a fresh cache dir (a new node: pulls the base and the cached
#           layers from the cache repo), --no-push-cache
#   buildah buildah build --layers on its filled storage (base and layers local)
# Every build writes its image (executor: --oci-layout-path; buildah: push dir:), as bench/build.sh.
# Times are wall clock per build, summed over the cases of a round; medians over rounds and ratios
# of medians are printed (2 shared cores: never compare single times). The executor's cached
# rebuilds write --cache-report; misses are counted and printed (a cached rebuild must have none).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
executor=${STRATA_EXECUTOR:-}
rounds=5
cases="run_env_args run_forms run_heredoc large_tree whiteout_files run_mount_bind debian_users"
apt=1
json=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --executor) executor=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --no-apt) apt=0; shift ;;
    --json) json=$2; shift 2 ;;
    *) echo "usage: $0 [--executor PATH] [--rounds N] [--cases \"a b\"] [--no-apt] [--json FILE]" >&2; exit 2 ;;
  esac
done
. "$here/lib.sh"
executor=$(bench_executor "$executor") || exit 2
command -v buildah >/dev/null || { echo "needs buildah" >&2; exit 2; }

exec python3 - "$here/../tests/e2e" "$executor" "$rounds" "$cases" "$apt" "$json" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys
e2e, executor, rounds, names, with_apt, json_out = (sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]),
                                                    sys.argv[4].split(), sys.argv[5] == "1", sys.argv[6])
sys.path.insert(0, e2e)
import run  # tests/e2e/run.py: cases, registry session, timing

class Args:
    pass
args = Args()
args.executor, args.workdir, args.keep, args.build_only, args.jobs = executor, None, False, "both", 1
sess = run.Session(args)
APT_DOCKERFILE = ("FROM REGISTRY_PLACEHOLDER/library/debian:bookworm\n"
                  "RUN apt-get update && apt-get install -y --no-install-recommends hello jq "
                  "&& rm -rf /var/lib/apt/lists/*\n")

def executor_build(c, ctx, out, logdir, tag, cache_dir, cache=None):
    """cache: None (no --cache), or "push"/"read" with the case's cache repo."""
    common, _, eonly, env = run.parse_args_file(os.path.join(ctx, "args") if os.path.exists(os.path.join(ctx, "args")) else None)
    kdir = os.path.join(logdir, f"{tag}.kaniko")
    argv = [executor, "--context", ctx, "--dockerfile", os.path.join(ctx, "Dockerfile"), "--no-push",
            "--oci-layout-path", out, "--kaniko-dir", kdir, "--cache-dir", cache_dir, "--insecure-pull",
            "--insecure", "--insecure-registry", sess.registry, *common, *eonly]
    report = None
    if cache:
        report = os.path.join(logdir, f"{tag}.cache.json")
        argv += ["--cache", f"--cache-repo={sess.registry}/bench-cache/{c}", f"--cache-report={report}"]
        if cache == "read":
            argv.append("--no-push-cache")
    os.makedirs(cache_dir, exist_ok=True)
    rc, secs, _ = run.timed(argv, os.path.join(logdir, f"{tag}.build.log"), dict(sess.env, **env))
    shutil.rmtree(kdir, ignore_errors=True)
    misses = None
    if report and os.path.exists(report):
        with open(report) as f:
            misses = json.load(f)["summary"]["misses"]
    return rc, secs, misses

def buildah_build(c, ctx, out, logdir, tag, storage):
    common, bonly, _, env = run.parse_args_file(os.path.join(ctx, "args") if os.path.exists(os.path.join(ctx, "args")) else None)
    dockerfile = os.path.join(ctx, "Dockerfile.buildah")
    if not os.path.exists(dockerfile):
        dockerfile = os.path.join(ctx, "Dockerfile")
    sess.storage = storage
    img = "localhost/bench-" + re.sub(r"[^a-z0-9]+", "-", f"{c}-{tag}".lower())
    argv = sess.buildah("build", "--format", "docker", "--isolation", "chroot", "--layers", "--tls-verify=false",
                        "-f", dockerfile, "-t", img, *common, *bonly, ctx)
    log_path = os.path.join(logdir, f"{tag}.build.log")
    e = dict(sess.env, **env)
    rc, secs, _ = run.timed(argv, log_path, e)
    if rc == 0:
        with open(log_path, "a") as f:
            t0 = run.time.time()
            rc = subprocess.run(sess.buildah("push", img, f"dir:{out}"), stdout=f, stderr=subprocess.STDOUT, env=e).returncode
            secs += run.time.time() - t0
    return rc, secs, None

modes = ["cold", "local", "remote", "buildah"]
results = {}   # case -> mode -> [secs]
misses = {}    # (case, mode) -> [misses]
failures = set()
try:
    sess.start_registry()
    sess.push_bases({"e2e"})
    cases = []
    for c in run.discover("e2e", "all"):
        if c.name in names:
            cases.append((c.name, c))
    if with_apt and "library/debian" in sess.bases:
        cases.append(("apt", None))
    elif with_apt:
        print("apt case skipped: no Debian base (debootstrap failed?)", flush=True)
    setup = os.path.join(sess.work, "setup")
    ctxs = {}
    for name, c in cases:
        cdir = os.path.join(setup, name)
        os.makedirs(cdir)
        ctx = os.path.join(cdir, "ctx")
        if c is None:
            os.makedirs(ctx)
            with open(os.path.join(ctx, "Dockerfile"), "w") as f:
                f.write(APT_DOCKERFILE.replace("REGISTRY_PLACEHOLDER", sess.registry))
        else:
            run.prepare_context(c, ctx, sess.registry)
            if sess.missing_base(os.path.join(ctx, "Dockerfile")):
                print(f"{name}: base missing, skipped", flush=True)
                continue
        rc1, s1, _ = executor_build(name, ctx, os.path.join(cdir, "exec-out"), cdir, "fill",
                                    os.path.join(setup, "filled-cache"), cache="push")
        rc2, s2, _ = buildah_build(name, ctx, os.path.join(cdir, "buildah-out"), cdir, "fill",
                                   os.path.join(setup, "buildah-storage"))
        if rc1 or rc2:
            print(f"{name}: setup build failed (executor {rc1}, buildah {rc2}; logs in {cdir}), skipped", flush=True)
            continue
        ctxs[name] = ctx
        print(f"setup {name}: executor {s1:.1f}s, buildah {s2:.1f}s", flush=True)
    names_ok = list(ctxs)
    print(f"{len(names_ok)} cases, {rounds} rounds, registry {sess.registry}", flush=True)
    for r in range(rounds):
        order = modes[r % 4:] + modes[:r % 4]
        for mode in order:
            rdir = os.path.join(sess.work, f"round{r}-{mode}")
            os.makedirs(rdir)
            fresh = os.path.join(rdir, "cache")
            for name in names_ok:
                cdir = os.path.join(rdir, name)
                os.makedirs(cdir)
                out = os.path.join(cdir, "out")
                ctx = ctxs[name]
                if mode == "cold":
                    rc, secs, m = executor_build(name, ctx, out, cdir, mode, fresh)
                elif mode == "local":
                    rc, secs, m = executor_build(name, ctx, out, cdir, mode, os.path.join(setup, "filled-cache"), "read")
                elif mode == "remote":
                    rc, secs, m = executor_build(name, ctx, out, cdir, mode, fresh, "read")
                else:
                    rc, secs, m = buildah_build(name, ctx, out, cdir, f"r{r}", os.path.join(setup, "buildah-storage"))
                if rc:
                    failures.add((mode, name))
                results.setdefault(name, {}).setdefault(mode, []).append(secs)
                if m is not None:
                    misses.setdefault((name, mode), []).append(m)
            total = sum(results[n][mode][-1] for n in names_ok)
            print(f"round {r + 1} {mode:8}: {total:7.2f}s", flush=True)
finally:
    sess.stop()
    shutil.rmtree(sess.work, ignore_errors=True)

def med(name_list, mode):
    per_round = [sum(results[n][mode][i] for n in name_list) for i in range(rounds)]
    return statistics.median(per_round)

corpus = [n for n in results if n != "apt"]
print()
for label, group in (("e2e corpus (" + " ".join(corpus) + ")", corpus), ("apt case", [n for n in results if n == "apt"])):
    if not group:
        continue
    m = {mode: med(group, mode) for mode in modes}
    print(label)
    print(f"  {'mode':8} {'median s':>9}")
    for mode in modes:
        print(f"  {mode:8} {m[mode]:9.2f}")
    print(f"  local/buildah  {m['local'] / m['buildah']:.2f}   (target <= 1.0)")
    print(f"  remote/buildah {m['remote'] / m['buildah']:.2f}")
    print(f"  cold/local     {m['cold'] / m['local']:.1f}x  cold/remote {m['cold'] / m['remote']:.1f}x")
    # Result lines for bench/run (protocol: bench/run's header).
    short = "e2e corpus" if group is corpus else "apt case"
    for mode, peer, peer_key, target in (("local", "buildah --layers (cached)", "buildah", "<= 1.0"),
                                         ("remote", "buildah --layers (cached)", "buildah", None),
                                         ("local", "cold build (executor)", "cold",
                                          "<= 0.1 (10x faster)" if short == "apt case" else None)):
        row = {"name": f"cached rebuild, {short}, from {mode} cache", "metric": "s", "strata": round(m[mode], 3),
               "peer": peer, "peer_value": round(m[peer_key], 3), "ratio": round(m[mode] / m[peer_key], 3),
               "target": target}
        print("BENCH " + json.dumps(row))
bad = {k: v for k, v in misses.items() if any(v)}
print("cache misses in cached rebuilds:", ", ".join(f"{n}/{mo}: {v}" for (n, mo), v in sorted(bad.items())) or "none")
if failures:
    print("builds that failed (their time still counts):", ", ".join(f"{m}:{c}" for m, c in sorted(failures)))
if json_out:
    with open(json_out, "w") as f:
        json.dump({"results": results, "misses": {f"{n}/{m}": v for (n, m), v in misses.items()},
                   "failures": sorted(failures)}, f, indent=1)
PY
