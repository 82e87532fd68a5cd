#!/usr/bin/env python3
"""End-to-end runner: build each Dockerfile case with the executor and with buildah, compare.

usage: run.py [--suite e2e|kaniko|all] [--subset ci|all] [--executor PATH] [--self-check]
              [--jobs N] [--workdir DIR] [--keep] [--list] [--build-only BUILDER --rounds N] [CASE...]

One session: a docker-registry on a free loopback port (plain HTTP), the base images pushed once
(tests/make-base-image.py as e2e/busybox; /work/shared/conformance/bases/make-bases.sh as library/*),
one buildah storage shared by all cases (so each base is pulled once), then per case:
  1. copy the case dir to WORK/CASE/ctx (REGISTRY_PLACEHOLDER replaced by HOST:PORT, file modes
     normalized to 0644/0755 as a git checkout gives them);
  2. buildah build --format docker (keeps HEALTHCHECK/ONBUILD/SHELL) → `buildah push dir:`;
  3. executor --no-push --oci-layout-path;
  4. tests/e2e/compare.py on the two, with the case's rule files (expected-differences,
     facts.ignore, and tests/e2e/kaniko/CASE.ignore for conformance cases).
A case dir holds a Dockerfile, its context, and optionally:
  args                 one flag per line: --build-arg=K[=V], --target=S, --label=K=V (both builders),
                       buildah:FLAG / executor:FLAG (one builder), other flags: executor only
                       (--single-snapshot, --reproducible, ...), `env K=V` for both environments;
  expect-fail          N: both builders must fail, the executor with exit status N;
  expected-differences / facts.ignore   compare.py rules (see compare.py), each with its reason.
Exit: 0 all passed (or expected), 1 a case failed, 77 nothing could run (not root, no buildah,
no executor): ctest's SKIP_RETURN_CODE.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("STRATA_SHARED_DIR", os.path.join(os.path.dirname(SOURCE), "shared"))
KANIKO_DIR = os.path.join(SHARED, "conformance", "kaniko-integration")
MAKE_BASES = os.path.join(SHARED, "conformance", "bases", "make-bases.sh")
KANIKO_LIST = os.path.join(HERE, "kaniko-cases.txt")
CI_LIST = os.path.join(HERE, "ci-cases.txt")
SKIP = 77
BOTH_FLAGS = ("--build-arg", "--target", "--label", "--secret")


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, suite, name, path, status="run", reason=""):
        self.suite, self.name, self.path, self.status, self.reason = suite, name, path, status, reason
        self.id = f"{suite}/{name}"

    def file(self, name):
        p = os.path.join(self.path, name)
        return p if os.path.exists(p) else None

    def rule_files(self):
        files = [self.file("expected-differences"), self.file("facts.ignore")]
        if self.suite == "kaniko":
            files.append(os.path.join(HERE, "kaniko", self.name + ".ignore"))
        files.append(os.path.join(HERE, "common.ignore"))
        return [f for f in files if f and os.path.exists(f)]


def read_kaniko_list():
    """kaniko-cases.txt: `CASE STATUS reason...`; STATUS ci (every CI run), full (on demand), differs
    (built and compared in CI, a difference is expected and reported, not failed), differs-full (the
    same, on demand only), skip (never built)."""
    table = {}
    with open(KANIKO_LIST) as f:
        for line in f:
            line = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
            if not line:
                continue
            parts = line.split(None, 2)
            table[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return table


def read_ci_list():
    """ci-cases.txt: the e2e cases CI builds, one name per line (# comments)."""
    with open(CI_LIST) as f:
        return {line.split("#", 1)[0].strip() for line in f} - {""}


def discover(suite, subset):
    cases = []
    if suite in ("e2e", "all"):
        root = os.path.join(HERE, "cases")
        ci = read_ci_list() if subset == "ci" else None
        for name in sorted(os.listdir(root)):
            if ci is not None and name not in ci:
                continue
            if os.path.isfile(os.path.join(root, name, "Dockerfile")):
                cases.append(Case("e2e", name, os.path.join(root, name)))
    if suite in ("kaniko", "all"):
        table = read_kaniko_list()
        for name in sorted(os.listdir(KANIKO_DIR)):
            path = os.path.join(KANIKO_DIR, name)
            if not os.path.isfile(os.path.join(path, "Dockerfile")):
                continue
            status, reason = table.get(name, ("full", "not listed in kaniko-cases.txt"))
            if status in ("full", "differs-full") and subset == "ci":
                continue
            cases.append(Case("kaniko", name, path, status, reason))
    return cases


def prepare_context(case, dest, registry):
    """Copy the case, substituting the registry and normalizing modes like a git checkout.

    git keeps no empty directories: a case marks one with a `.keep-empty` file, removed here."""
    shutil.copytree(case.path, dest, symlinks=True)
    for root, dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        if ".keep-empty" in files:
            os.remove(os.path.join(root, ".keep-empty"))
            files.remove(".keep-empty")
        for f in files:
            p = os.path.join(root, f)
            if os.path.islink(p):
                continue
            os.chmod(p, 0o755 if os.stat(p).st_mode & 0o111 else 0o644)
            if f == "args" or f.startswith("Dockerfile"):
                with open(p, encoding="utf-8") as fh:
                    text = fh.read()
                if "REGISTRY_PLACEHOLDER" in text:
                    with open(p, "w", encoding="utf-8") as fh:
                        fh.write(text.replace("REGISTRY_PLACEHOLDER", registry))


def parse_args_file(path):
    """→ (common flags, buildah-only, executor-only, env); "{ctx}" stands for the context dir."""
    common, bonly, eonly, env = [], [], [], {}
    if not path:
        return common, bonly, eonly, env
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip().replace("{ctx}", os.path.dirname(path))
            if not line or line.startswith("#"):
                continue
            if line.startswith("env "):
                k, _, v = line[4:].partition("=")
                env[k] = v
            elif line.startswith("buildah:"):
                bonly.append(line[len("buildah:"):])
            elif line.startswith("executor:"):
                eonly.append(line[len("executor:"):])
            elif line.split("=", 1)[0] in BOTH_FLAGS:
                common.append(line)
            else:
                eonly.append(line)
    return common, bonly, eonly, env


# ---------------------------------------------------------------- builders

class Session:
    def __init__(self, args):
        self.args = args
        self.work = args.workdir or tempfile.mkdtemp(prefix="strata-e2e-")
        os.makedirs(self.work, exist_ok=True)
        self.registry_proc = None
        self.registry = None
        self.storage = os.path.join(self.work, "buildah-storage")
        self.executor_cache = os.path.join(self.work, "executor-cache")
        self.env = dict(os.environ)
        auth = os.path.join(self.work, "auth.json")
        regconf = os.path.join(self.work, "registries.conf")
        with open(auth, "w") as f:
            f.write("{}")
        with open(regconf, "w") as f:
            f.write("unqualified-search-registries = []\n")
        # Neither host credentials nor host mirror/short-name settings may reach the builds.
        self.env.update(REGISTRY_AUTH_FILE=auth, CONTAINERS_REGISTRIES_CONF=regconf, DOCKER_CONFIG=self.work)
        self.bases = set()

    def start_registry(self):
        port = free_port()
        cfg = os.path.join(self.work, "registry.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
                    f"storage: {{filesystem: {{rootdirectory: {self.work}/registry}}, delete: {{enabled: true}}}}\n"
                    f"http: {{addr: 127.0.0.1:{port}}}\n")
        logf = open(os.path.join(self.work, "registry.log"), "w")
        self.registry_proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=logf, stderr=logf,
                                              start_new_session=True)
        self.registry = f"127.0.0.1:{port}"
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start; see " + logf.name)

    def push_bases(self, suites):
        t0 = time.time()
        subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "make-base-image.py"), "--push",
                        f"{self.registry}/e2e/busybox:latest", "--format", "v2s2", "--insecure",
                        os.path.join(self.work, "base-e2e"), "latest"],
                       check=True, stdout=subprocess.DEVNULL, env=self.env)
        self.bases.add("e2e/busybox")
        xattrs = os.path.join(self.work, "base-xattrs")
        subprocess.run([sys.executable, os.path.join(HERE, "make-xattr-base.py"),
                        os.path.join(self.work, "base-e2e"), xattrs], check=True, env=self.env)
        subprocess.run(["skopeo", "copy", "-q", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{xattrs}:latest",
                        f"docker://{self.registry}/e2e/xattrs:latest"], check=True, env=self.env)
        self.bases.add("e2e/xattrs")
        if "kaniko" not in suites and os.environ.get("STRATA_E2E_DEBIAN", "1") == "0":
            return
        out = os.path.join(self.work, "make-bases.log")
        with open(out, "w") as f:
            r = subprocess.run(["bash", MAKE_BASES, self.registry, os.path.join(self.work, "bases")],
                               stdout=f, stderr=subprocess.STDOUT, env=self.env)
        for repo in ("busybox", "alpine", "onbuild-base", "volume-base", "extraction-base", "debian"):
            if self.has_repo(f"library/{repo}"):
                self.bases.add(f"library/{repo}")
        if r.returncode != 0:
            log(f"warning: make-bases.sh failed (exit {r.returncode}, see {out}); "
                f"cases needing a missing base are skipped")
        log(f"bases pushed in {time.time() - t0:.1f}s: {', '.join(sorted(self.bases))}")

    def has_repo(self, repo):
        import urllib.request
        try:
            with urllib.request.urlopen(f"http://{self.registry}/v2/{repo}/tags/list", timeout=5) as r:
                return bool(json.load(r).get("tags"))
        except OSError:
            return False

    def missing_base(self, dockerfile):
        with open(dockerfile, encoding="utf-8") as f:
            text = f.read()
        for m in re.finditer(re.escape(self.registry) + r"/([a-z0-9_./-]+?)[:@\s]", text):
            name = m.group(1)
            # `ARG REGISTRY=HOST:PORT/library` names a prefix of the bases, not an image.
            if name not in self.bases and not any(b.startswith(name.rstrip("/") + "/") for b in self.bases):
                return name
        return None

    def stop(self):
        if self.registry_proc:
            self.registry_proc.terminate()
            try:
                self.registry_proc.wait(5)
            except subprocess.TimeoutExpired:
                self.registry_proc.kill()

    def buildah(self, *argv):
        return ["buildah", "--root", self.storage, "--runroot", os.path.join(self.work, "buildah-run"),
                "--storage-driver", "vfs", *argv]


def timed(cmd, log_path, env, cwd=None):
    """Runs cmd under /usr/bin/time -v when available; → (exit code, seconds, peak RSS KiB)."""
    use_time = os.path.exists("/usr/bin/time")
    rss_file = log_path + ".rss"
    full = (["/usr/bin/time", "-v", "-o", rss_file] if use_time else []) + cmd
    t0 = time.time()
    with open(log_path, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        rc = subprocess.run(full, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd).returncode
    secs = time.time() - t0
    rss = 0
    if use_time and os.path.exists(rss_file):
        with open(rss_file) as f:
            for line in f:
                if "Maximum resident set size" in line:
                    rss = int(line.rsplit(":", 1)[1])
                elif line.startswith("Command exited with non-zero status"):
                    rc = int(line.rsplit(" ", 1)[1])
    return rc, secs, rss


def build_buildah(sess, case, ctx, out, tag, logdir):
    common, bonly, _, env = parse_args_file(os.path.join(ctx, "args") if os.path.exists(os.path.join(ctx, "args")) else None)
    e = dict(sess.env, **env)
    img = "localhost/e2e-" + re.sub(r"[^a-z0-9]+", "-", f"{case.suite}-{case.name}-{tag}".lower())
    # Dockerfile.buildah: the same image written without what buildah 1.28 lacks (heredocs, --parents,
    # --exclude), so that buildah still gives the reference.
    dockerfile = os.path.join(ctx, "Dockerfile.buildah")
    if not os.path.exists(dockerfile):
        dockerfile = os.path.join(ctx, "Dockerfile")
    argv = sess.buildah("build", "--format", "docker", "--isolation", "chroot", "--layers=false", "--force-rm",
                        "--tls-verify=false", "-f", dockerfile, "-t", img, *common, *bonly, ctx)
    log_path = os.path.join(logdir, f"{tag}.build.log")
    rc, secs, rss = timed(argv, log_path, e)
    with open(log_path, errors="replace") as f:
        in_use = "image is in use by a container" in f.read()
    if rc != 0 and in_use:
        # buildah removes a stage's image at the end even when that is a base image another
        # concurrent build of the session is using; that is not about this case: build again.
        rc, secs, rss = timed(argv, log_path, e)
    if rc == 0:
        with open(os.path.join(logdir, f"{tag}.build.log"), "a") as f:
            rc = subprocess.run(sess.buildah("push", img, f"dir:{out}"), stdout=f, stderr=subprocess.STDOUT,
                                env=e).returncode
            subprocess.run(sess.buildah("rmi", "-f", img), stdout=f, stderr=subprocess.STDOUT, env=e)
    return rc, secs, rss, f"dir:{out}"


def build_executor(sess, case, ctx, out, tag, logdir):
    common, _, eonly, env = parse_args_file(os.path.join(ctx, "args") if os.path.exists(os.path.join(ctx, "args")) else None)
    e = dict(sess.env, **env)
    kdir = os.path.join(logdir, f"{tag}.kaniko")
    cache = sess.executor_cache
    os.makedirs(cache, exist_ok=True)
    rc, secs, rss = timed([sess.args.executor, "--context", ctx, "--dockerfile", os.path.join(ctx, "Dockerfile"),
                           "--no-push", "--oci-layout-path", out, "--kaniko-dir", kdir, "--cache-dir", cache,
                           "--insecure-pull", "--insecure", *common, *eonly],
                          os.path.join(logdir, f"{tag}.build.log"), e)
    shutil.rmtree(kdir, ignore_errors=True)
    return rc, secs, rss, f"oci:{out}"


BUILDERS = {"buildah": build_buildah, "executor": build_executor}


def run_case(sess, case):
    """→ dict(case, result PASS|FAIL|XFAIL|SKIP, detail, times)."""
    res = {"case": case.id, "times": {}, "rss": {}, "detail": ""}
    if case.status == "skip":
        return dict(res, result="SKIP", detail=case.reason)
    cdir = os.path.join(sess.work, "cases", case.suite, case.name)
    shutil.rmtree(cdir, ignore_errors=True)
    os.makedirs(cdir)
    ctx = os.path.join(cdir, "ctx")
    prepare_context(case, ctx, sess.registry)
    missing = sess.missing_base(os.path.join(ctx, "Dockerfile"))
    if missing:
        return dict(res, result="SKIP", detail=f"base image {missing} was not pushed (see make-bases.log)")
    builders = sess.args.builders
    images, codes = [], []
    for i, b in enumerate(builders):
        tag = f"{b}{i}"
        rc, secs, rss, image = BUILDERS[b](sess, case, ctx, os.path.join(cdir, tag), tag, cdir)
        res["times"][tag], res["rss"][tag] = round(secs, 2), rss
        images.append(image)
        codes.append(rc)
    expect_fail = case.file("expect-fail")
    if sess.args.build_only:
        ok = all(c == 0 for c in codes) or expect_fail
        return dict(res, result="PASS" if ok else "FAIL", detail="" if ok else f"exit codes {codes}")
    if expect_fail:
        want = int(open(expect_fail).read().split()[0])
        bad = [f"{b} exited 0" for b, c in zip(builders, codes) if c == 0]
        bad += [f"executor exited {c}, expected {want}" for b, c in zip(builders, codes) if b == "executor" and c not in (0, want)]
        if not bad and not sess.args.keep:
            shutil.rmtree(cdir, ignore_errors=True)
        return dict(res, result="FAIL" if bad else "PASS", detail="; ".join(bad), workdir=cdir)
    if any(codes):
        logs = [os.path.join(cdir, f"{b}{i}.build.log") for i, b in enumerate(builders)]
        detail = "; ".join(f"{b} exited {c} (log {l})" for b, c, l in zip(builders, codes, logs) if c)
        tail = []
        for (b, c, l) in zip(builders, codes, logs):
            if c:
                with open(l, errors="replace") as f:
                    tail += [f"  [{b}] {x.rstrip()}" for x in f.readlines()[-8:]]
        return dict(res, result="XFAIL" if case.status.startswith("differs") else "FAIL", detail=detail + "\n" + "\n".join(tail),
                    workdir=cdir)
    cmd = [sys.executable, os.path.join(HERE, "compare.py")]
    for r in case.rule_files():
        cmd += ["--ignore", r]
    cmd += images
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode == 0:
        if case.status.startswith("differs"):
            return dict(res, result="XPASS", detail=f"listed as differing ({case.reason}) but identical")
        if not sess.args.keep:
            shutil.rmtree(cdir, ignore_errors=True)
        return dict(res, result="PASS")
    result = "XFAIL" if case.status.startswith("differs") else "FAIL"
    return dict(res, result=result, detail=(p.stdout + p.stderr).rstrip(), workdir=cdir)


def report(res, limit=60):
    times = " ".join(f"{k}={v}s" for k, v in res["times"].items())
    log(f"{res['result']:5} {res['case']}  {times}")
    if res["result"] in ("FAIL", "XFAIL", "XPASS", "SKIP") and res["detail"]:
        lines = res["detail"].splitlines()
        for line in lines[:limit]:
            log(f"      {line}")
        if len(lines) > limit:
            log(f"      ... {len(lines) - limit} more lines")
        if res.get("workdir"):
            log(f"      kept: {res['workdir']}")


def main(argv):
    ap = argparse.ArgumentParser(description="build Dockerfile cases with executor and buildah, compare")
    ap.add_argument("--suite", choices=("e2e", "kaniko", "all"), default="e2e")
    ap.add_argument("--subset", choices=("ci", "all"), default="all",
                    help="ci: only the e2e cases listed in ci-cases.txt and the kaniko cases marked ci in "
                         "kaniko-cases.txt; all: every case")
    ap.add_argument("--executor", default=os.environ.get("STRATA_EXECUTOR", ""))
    ap.add_argument("--self-check", action="store_true", help="compare buildah with buildah (harness test)")
    ap.add_argument("--build-only", choices=("buildah", "executor"), help="build with one builder, no compare")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true", help="keep the work dirs of passing cases too")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("cases", nargs="*", help="case names (suite/name or name); default: all of the suite")
    args = ap.parse_args(argv)

    cases = discover(args.suite, args.subset if not args.cases else "all")
    if args.cases:
        cases = [c for c in cases if c.id in args.cases or c.name in args.cases]
        if not cases:
            print("run.py: no such case", file=sys.stderr)
            return 2
    if args.list:
        for c in cases:
            print(f"{c.id}\t{c.status}\t{c.reason}")
        return 0
    if args.self_check:
        args.builders = ["buildah", "buildah"]
    elif args.build_only:
        args.builders = [args.build_only]
    else:
        args.builders = ["buildah", "executor"]
    if os.geteuid() != 0:
        log("SKIP: the builds need root (chroot, mknod, chown)")
        return SKIP
    for tool in ("buildah", "docker-registry", "skopeo"):
        if not shutil.which(tool):
            log(f"SKIP: {tool} is not installed (scripts/install-deps.sh --tests)")
            return SKIP
    if "executor" in args.builders:
        if not args.executor or not os.access(args.executor, os.X_OK):
            log(f"SKIP: no executor binary ({args.executor or 'pass --executor or set STRATA_EXECUTOR'})")
            return SKIP
        args.executor = os.path.abspath(args.executor)

    # ctest's timeout sends SIGTERM: unwind so that the registry is stopped (it has its own session).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sess = Session(args)
    t0 = time.time()
    results = []
    try:
        sess.start_registry()
        sess.push_bases({c.suite for c in cases})
        log(f"registry {sess.registry}, work dir {sess.work}, {len(cases)} case(s), builders {args.builders}")
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
        try:
            for res in pool.map(lambda c: run_case(sess, c), cases):
                report(res)
                results.append(res)
        finally:
            # On SIGINT/SIGTERM: let the builds in flight end, start no more.
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        sess.stop()
    total = time.time() - t0
    counts = {}
    for r in results:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    sums = {}
    for r in results:
        for k, v in r["times"].items():
            sums[k] = sums.get(k, 0) + v
    log(f"summary: {' '.join(f'{k}={v}' for k, v in sorted(counts.items()))}; total {total:.0f}s; "
        + " ".join(f"{k} builds {v:.0f}s" for k, v in sums.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"total_seconds": total, "results": results}, f, indent=1)
    failed = counts.get("FAIL", 0) + counts.get("XPASS", 0)
    if not failed and not args.keep and not args.workdir:
        shutil.rmtree(sess.work, ignore_errors=True)
    elif failed:
        log(f"work dir kept: {sess.work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
