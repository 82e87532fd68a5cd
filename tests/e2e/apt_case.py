#!/usr/bin/env python3
"""The realistic case: a Debian base made with debootstrap, `apt-get install` in a RUN step, pushed
over TLS with htpasswd auth, pulled back with skopeo and checked.

usage: apt_case.py [--executor PATH] [--workdir DIR] [--keep] [--packages "hello jq"]
                   [--bench ROUNDS]

1. A plain-HTTP docker-registry on a free loopback port gets the bases from
   /work/shared/conformance/bases/make-bases.sh (library/debian:bookworm: `debootstrap --variant=minbase`
   from the Debian mirror apt is configured with, cached as a tarball in /var/cache/strata-bases so
   later runs download nothing for the base).
2. A second docker-registry with TLS (a CA and a server certificate made here with openssl, SAN
   IP:127.0.0.1) and htpasswd basic auth (bcrypt, credentials generated per run); skopeo copies the
   Debian base into it.
3. `executor` builds `FROM <tls registry>/library/debian:bookworm` + `RUN apt-get update && apt-get
   install -y --no-install-recommends PACKAGES` and pushes it to the TLS registry (credentials from
   $DOCKER_CONFIG/config.json, the CA through --registry-certificate). The RUN step downloads the
   packages from the same Debian mirror (the only non-loopback address any test reaches).
4. skopeo pulls the image back into an OCI layout (--src-cert-dir, --src-creds), umoci unpacks it,
   and the rootfs must hold the packages: their binaries, `install ok installed` in dpkg's status
   file, and the binaries must run (chroot). The config keeps the base's Env/Cmd.
With --bench N: also N rounds of cold builds of the same Dockerfile with buildah and with the
executor (alternating order, fresh buildah storage and executor cache dir each round, base pulled
from the plain registry), medians and ratio printed (bench/apt.sh).
Exit: 0 pass, 1 fail, 77 skipped (not root, a tool missing): ctest's SKIP_RETURN_CODE.
"""
import argparse
import base64
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  tests/e2e/run.py: registry session, bases, timed builds

SKIP = 77
TOOLS = ("docker-registry", "skopeo", "umoci", "openssl", "htpasswd", "buildah")


def sh(argv, **kw):
    kw.setdefault("check", True)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    try:
        return subprocess.run(argv, **kw)
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"{' '.join(argv)} failed ({e.returncode}):\n{e.stdout}") from None


def make_tls(work):
    """CA + server certificate for 127.0.0.1 → (cert dir holding only ca.crt, server cert, key)."""
    d = os.path.join(work, "tls")
    os.makedirs(d)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = os.path.join(d, "server.key"), os.path.join(d, "server.csr"), os.path.join(d, "server.crt")
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=strata-e2e-ca",
        "-keyout", ca_key, "-out", ca_crt])
    sh(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr])
    sh(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", crt])
    cert_dir = os.path.join(d, "certs.d")
    os.makedirs(cert_dir)
    shutil.copy(ca_crt, os.path.join(cert_dir, "ca.crt"))
    return cert_dir, ca_crt, crt, key


def start_tls_registry(work, crt, key, htpasswd):
    port = run.free_port()
    cfg = os.path.join(work, "tls-registry.yml")
    with open(cfg, "w") as f:
        f.write("version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
                f"storage: {{filesystem: {{rootdirectory: {work}/tls-registry}}}}\n"
                f"http: {{addr: 127.0.0.1:{port}, tls: {{certificate: {crt}, key: {key}}}}}\n"
                f"auth: {{htpasswd: {{realm: strata-e2e, path: {htpasswd}}}}}\n")
    logf = open(os.path.join(work, "tls-registry.log"), "w")
    proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=logf, stderr=logf, start_new_session=True)
    deadline = time.time() + 10
    import socket
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the TLS docker-registry did not start; see " + logf.name)


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def write_context(work, base, packages):
    ctx = os.path.join(work, "ctx")
    os.makedirs(ctx, exist_ok=True)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {base}\n"
                "ENV DEBIAN_FRONTEND=noninteractive\n"
                f"RUN apt-get update && apt-get install -y --no-install-recommends {packages} "
                "&& rm -rf /var/lib/apt/lists/*\n")
    return ctx


def check_rootfs(rootfs, packages):
    problems = []
    status_path = os.path.join(rootfs, "var/lib/dpkg/status")
    with open(status_path, errors="replace") as f:
        status = f.read()
    installed = set()
    for para in status.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in para.splitlines() if ": " in line and not line.startswith(" "))
        if fields.get("Status") == "install ok installed":
            installed.add(fields.get("Package"))
    for p in packages:
        if p not in installed:
            problems.append(f"package {p} is not 'install ok installed' in /var/lib/dpkg/status")
    if "hello" in packages:
        out = sh(["chroot", rootfs, "/usr/bin/hello"], check=False)
        if out.returncode != 0 or "Hello, world!" not in out.stdout:
            problems.append(f"chroot ROOTFS /usr/bin/hello: exit {out.returncode}: {out.stdout.strip()}")
    if "jq" in packages:
        out = subprocess.run(["chroot", rootfs, "/usr/bin/jq", "-c", ".a"], input='{"a":[1,2]}', text=True,
                             capture_output=True)
        if out.returncode != 0 or out.stdout.strip() != "[1,2]":
            problems.append(f"chroot ROOTFS jq: exit {out.returncode}: {out.stdout.strip()} {out.stderr.strip()}")
    if os.listdir(os.path.join(rootfs, "var/lib/apt/lists")) not in ([], ["partial"], ["lock", "partial"],
                                                                     ["partial", "lock"]):
        problems.append("apt lists left in the image: " + ", ".join(os.listdir(os.path.join(rootfs, "var/lib/apt/lists"))))
    return problems


def bench(sess, args, plain_base, rounds):
    """Cold builds of the apt Dockerfile, buildah vs executor, alternating; → dict of medians."""
    ctx = write_context(os.path.join(sess.work, "bench"), plain_base, args.packages)
    case = run.Case("apt", "apt", ctx)
    times = {"buildah": [], "executor": []}
    rss = {"buildah": [], "executor": []}
    for r in range(rounds):
        order = ["buildah", "executor"] if r % 2 == 0 else ["executor", "buildah"]
        for b in order:
            rdir = os.path.join(sess.work, "bench", f"round{r}-{b}")
            os.makedirs(rdir)
            sess.storage = os.path.join(rdir, "buildah-storage")
            sess.executor_cache = os.path.join(rdir, "executor-cache")
            rc, secs, peak, _ = run.BUILDERS[b](sess, case, ctx, os.path.join(rdir, "out"), b, rdir)
            if rc != 0:
                raise RuntimeError(f"bench round {r}: {b} failed (exit {rc}), log {rdir}/{b}.build.log")
            times[b].append(secs)
            rss[b].append(peak)
            print(f"bench round {r + 1}/{rounds}: {b} {secs:.1f}s, peak RSS {peak // 1024} MiB", flush=True)
            shutil.rmtree(rdir, ignore_errors=True)
    med = {b: statistics.median(v) for b, v in times.items()}
    print(f"apt bench: executor median {med['executor']:.1f}s, buildah median {med['buildah']:.1f}s, "
          f"ratio {med['executor'] / med['buildah']:.2f} ({rounds} rounds; times {times}; "
          f"peak RSS KiB executor {max(rss['executor'])}, buildah {max(rss['buildah'])})", flush=True)
    # Result line for bench/run (protocol: bench/run's header).
    print("BENCH " + json.dumps({"name": "cold build of the Debian apt case", "metric": "s",
                                 "strata": round(med["executor"], 3), "peer": "buildah",
                                 "peer_value": round(med["buildah"], 3),
                                 "ratio": round(med["executor"] / med["buildah"], 3), "target": "<= 0.8",
                                 "strata_rss_mb": round(max(rss["executor"]) / 1024, 1),
                                 "peer_rss_mb": round(max(rss["buildah"]) / 1024, 1)}), flush=True)
    return med


def main(argv):
    ap = argparse.ArgumentParser(description="Debian apt-get case: build, push over TLS+auth, pull, check")
    ap.add_argument("--executor", default=os.environ.get("STRATA_EXECUTOR", ""))
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--packages", default="hello jq")
    ap.add_argument("--bench", type=int, default=0, metavar="ROUNDS")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("SKIP: needs root (chroot RUN, umoci unpack)")
        return SKIP
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        print(f"SKIP: missing {', '.join(missing)} (scripts/install-deps.sh --tests)")
        return SKIP
    if not args.executor or not os.access(args.executor, os.X_OK):
        print(f"SKIP: no executor binary ({args.executor or 'pass --executor or set STRATA_EXECUTOR'})")
        return SKIP
    args.executor = os.path.abspath(args.executor)
    cached = os.path.join(os.environ.get("BASES_CACHE", "/var/cache/strata-bases"), "debian-bookworm-minbase.tar.gz")
    if not os.path.exists(cached) and not (shutil.which("debootstrap") or os.path.exists("/usr/sbin/debootstrap")):
        print("SKIP: no cached Debian base and no debootstrap (scripts/install-deps.sh --tests)")
        return SKIP

    class SessArgs:
        pass
    sargs = SessArgs()
    sargs.executor, sargs.workdir, sargs.keep = args.executor, args.workdir, args.keep
    sess = run.Session(sargs)
    work = sess.work
    tls_proc = None
    ok = False
    t0 = time.time()
    try:
        sess.start_registry()
        sess.push_bases({"kaniko"})
        if "library/debian" not in sess.bases:
            raise RuntimeError(f"the Debian base was not pushed; see {work}/make-bases.log")
        plain_base = f"{sess.registry}/library/debian:bookworm"

        cert_dir, ca_crt, crt, key = make_tls(work)
        user, password = "strata", secrets.token_hex(12)
        htpasswd = os.path.join(work, "htpasswd")
        sh(["htpasswd", "-Bbc", htpasswd, user, password])
        tls_proc, tls = start_tls_registry(work, crt, key, htpasswd)
        creds = f"{user}:{password}"
        sh(["skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-cert-dir", cert_dir, "--dest-creds", creds,
            f"docker://{plain_base}", f"docker://{tls}/library/debian:bookworm"], env=sess.env)
        print(f"registries: plain {sess.registry}, TLS+htpasswd {tls}; bases in {time.time() - t0:.1f}s", flush=True)

        docker_config = os.path.join(work, "docker-config")
        os.makedirs(docker_config)
        with open(os.path.join(docker_config, "config.json"), "w") as f:
            json.dump({"auths": {tls: {"auth": base64.b64encode(creds.encode()).decode()}}}, f)
        os.chmod(os.path.join(docker_config, "config.json"), 0o600)
        ctx = write_context(work, f"{tls}/library/debian:bookworm", args.packages)
        dest = f"{tls}/strata/apt:1"
        env = dict(sess.env, DOCKER_CONFIG=docker_config)
        digest_file = os.path.join(work, "digest")
        rc, secs, rss = run.timed([args.executor, "--context", ctx, "--destination", dest,
                                   "--registry-certificate", f"{tls}={ca_crt}", "--kaniko-dir",
                                   os.path.join(work, "kaniko"), "--cache-dir", os.path.join(work, "cache"),
                                   "--digest-file", digest_file], os.path.join(work, "executor.log"), env)
        if rc != 0:
            with open(os.path.join(work, "executor.log"), errors="replace") as f:
                tail = "".join(f.readlines()[-15:])
            raise RuntimeError(f"executor exited {rc}:\n{tail}")
        with open(digest_file) as f:
            digest = f.read().strip()
        print(f"executor built and pushed {dest} ({digest}) in {secs:.1f}s, peak RSS {rss // 1024} MiB", flush=True)

        # Pull back by digest with skopeo over TLS with the credentials; unpack with umoci.
        layout = os.path.join(work, "pulled")
        sh(["skopeo", "copy", "-q", "--src-cert-dir", cert_dir, "--src-creds", creds, f"docker://{tls}/strata/apt@{digest}",
            f"oci:{layout}:apt"], env=sess.env)
        sh(["skopeo", "inspect", "--cert-dir", cert_dir, "--creds", creds, f"docker://{dest}"], env=sess.env)
        config = json.loads(sh(["skopeo", "inspect", "--config", f"oci:{layout}:apt"]).stdout)
        bundle = os.path.join(work, "bundle")
        sh(["umoci", "unpack", "--image", f"{layout}:apt", bundle])
        packages = args.packages.split()
        problems = check_rootfs(os.path.join(bundle, "rootfs"), packages)
        cfg = config.get("config", {})
        if cfg.get("Cmd") != ["bash"]:
            problems.append(f"config Cmd {cfg.get('Cmd')}, expected the base's [\"bash\"]")
        if "DEBIAN_FRONTEND=noninteractive" not in (cfg.get("Env") or []):
            problems.append(f"config Env {cfg.get('Env')} lacks DEBIAN_FRONTEND=noninteractive")
        if problems:
            raise RuntimeError("pulled image:\n  " + "\n  ".join(problems))
        print(f"PASS apt case: {', '.join(packages)} installed, pulled back by digest and run "
              f"({time.time() - t0:.0f}s in total)", flush=True)
        if args.bench:
            bench(sess, args, plain_base, args.bench)
        ok = True
    except (RuntimeError, OSError) as e:
        print(f"FAIL apt case: {e}", flush=True)
    finally:
        stop(tls_proc)
        sess.stop()
        if ok and not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
        elif not ok:
            print(f"work dir kept: {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
