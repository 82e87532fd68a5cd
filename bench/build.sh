#!/usr/bin/env bash
# Cold build time and peak RSS of the e2e corpus (tests/e2e/cases), executor vs buildah, same run.
#   bench/build.sh [--executor PATH] [--rounds N] [--cases "a b c"] [--json FILE]
# One registry session (bases pushed once, not timed). Each round builds every case with both tools,
# the order of the two alternating per round (the machine's disk and 2 shared cores make absolute
# numbers drift: compare the ratio of medians, never one time). "Cold": every round starts with an
# empty buildah storage and an empty executor cache dir, so both pull the base images again.
# Per round: the sum of the case build times (wall clock, each build wrapped in /usr/bin/time -v) and
# the largest "Maximum resident set size" of any build. buildah's time includes `buildah push dir:`
# only for the image written (same as the executor writing its OCI layout). Needs root, buildah,
# docker-registry, skopeo (as tests/e2e/run.py).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
executor=${STRATA_EXECUTOR:-}
rounds=5
cases=""
json=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --executor) executor=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "usage: $0 [--executor PATH] [--rounds N] [--cases \"a b\"] [--json FILE]" >&2; exit 2 ;;
  esac
done
. "$here/lib.sh"
executor=$(bench_executor "$executor") || exit 2

exec python3 - "$here/../tests/e2e" "$executor" "$rounds" "$cases" "$json" <<'PY'
import os, shutil, statistics, sys, time, json
e2e, executor, rounds, names, json_out = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(), sys.argv[5]
sys.path.insert(0, e2e)
import run  # tests/e2e/run.py: cases, registry session, builders

class Args:
    pass
args = Args()
args.executor, args.workdir, args.keep, args.build_only, args.jobs = executor, None, False, "both", 1
cases = [c for c in run.discover("e2e", "all") if not names or c.name in names]
cases = [c for c in cases if not c.file("expect-fail")]
sess = run.Session(args)
results = {"buildah": [], "executor": []}
failures = set()
try:
    sess.start_registry()
    sess.push_bases({"e2e"})
    print(f"{len(cases)} cases, {rounds} rounds, registry {sess.registry}", flush=True)
    for r in range(rounds):
        order = ["buildah", "executor"] if r % 2 == 0 else ["executor", "buildah"]
        for builder in order:
            rdir = os.path.join(sess.work, f"round{r}-{builder}")
            os.makedirs(rdir)
            sess.storage = os.path.join(rdir, "buildah-storage")
            sess.executor_cache = os.path.join(rdir, "executor-cache")
            total, peak = 0.0, 0
            for c in cases:
                cdir = os.path.join(rdir, c.name)
                os.makedirs(cdir)
                ctx = os.path.join(cdir, "ctx")
                run.prepare_context(c, ctx, sess.registry)
                rc, secs, rss, _ = run.BUILDERS[builder](sess, c, ctx, os.path.join(cdir, "out"), builder, cdir)
                if rc != 0:
                    failures.add((builder, c.name))
                total += secs
                peak = max(peak, rss)
            results[builder].append((total, peak))
            print(f"round {r + 1} {builder:8}: {total:7.1f}s  peak RSS {peak / 1024:7.1f} MiB", flush=True)
            # Round dirs are deleted only at the end: creating files right after a mass delete is
            # slow on this disk (docs: environment.md), which would bias the next builder.
finally:
    sess.stop()
    shutil.rmtree(sess.work, ignore_errors=True)

med = {b: statistics.median(t for t, _ in v) for b, v in results.items()}
rss = {b: statistics.median(p for _, p in v) for b, v in results.items()}
print()
print(f"{'builder':10} {'median s':>10} {'min s':>8} {'max s':>8} {'peak RSS MiB':>13}")
for b, v in results.items():
    times = [t for t, _ in v]
    print(f"{b:10} {med[b]:10.1f} {min(times):8.1f} {max(times):8.1f} {rss[b] / 1024:13.1f}")
if med["buildah"] > 0:
    print(f"ratio executor/buildah (median time): {med['executor'] / med['buildah']:.2f}")
if failures:
    print("builds that failed (their time still counts):", ", ".join(f"{b}:{c}" for b, c in sorted(failures)))
# Result line for bench/run (protocol: bench/run's header).
if med["buildah"] > 0:
    print("BENCH " + json.dumps({"name": f"cold build of {len(cases)} e2e cases", "metric": "s",
                                 "strata": round(med["executor"], 3), "peer": "buildah",
                                 "peer_value": round(med["buildah"], 3),
                                 "ratio": round(med["executor"] / med["buildah"], 3), "target": "<= 0.8",
                                 "strata_rss_mb": round(rss["executor"] / 1024, 1),
                                 "peer_rss_mb": round(rss["buildah"] / 1024, 1)}))
if json_out:
    with open(json_out, "w") as f:
        json.dump({"rounds": results, "median": med, "failures": sorted(failures)}, f, indent=1)
PY
