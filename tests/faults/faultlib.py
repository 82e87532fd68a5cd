"""Shared helpers of the fault and hostile-input tests (tests/faults/, docs/reliability.md).

Python 3 stdlib only, plus the CLI tools the project's tests already use: docker-registry,
skopeo, openssl, htpasswd. Every server listens on a free 127.0.0.1 port, is started by the test
and stopped by Session.close() (also on failure: use `with Session(...) as s:`).

  Session            temp dir + the processes started in it, torn down at exit
  Session.registry() a docker-registry (plain HTTP, or TLS with htpasswd or token auth)
  push_image()       pushes an image straight through the registry API (urllib): blobs then the
                     manifest, so tests can push what skopeo would refuse (hostile manifests)
  random_layer()     a gzip tar layer of incompressible bytes (deterministic per seed)
  check_cache()      `cachectl verify` + every blob re-hashed in Python + no stray files
  run_tool()         runs a tool with a timeout, returns (rc, stdout+stderr)
"""
import base64
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# What a cache dir may hold at its top level (docs/cache-dir.md); anything else is a stray file.
CACHE_TOP = {"oci-layout", "index.json", "blobs", "ingest", "index", "index.lock", "leases", "leases.lock"}


class Failure(Exception):
    pass


_T0 = time.time()


def log(msg):
    print(f"[{time.time() - _T0:5.1f}s] {msg}", flush=True)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require(tools, need_root=True):
    """Exit 77 (ctest skip) when not root or a tool is missing."""
    if need_root and os.geteuid() != 0:
        log("SKIP: needs root")
        sys.exit(SKIP)
    for t in tools:
        if not (os.path.isabs(t) and os.access(t, os.X_OK)) and not shutil.which(t):
            log(f"SKIP: {t} not found (scripts/install-deps.sh --tests)")
            sys.exit(SKIP)


def tool_args(argv, names=("warmer", "executor", "cachectl")):
    """--warmer PATH --executor PATH --cachectl PATH (as CMake passes them) → dict."""
    import argparse
    ap = argparse.ArgumentParser()
    for n in names:
        ap.add_argument("--" + n, default=os.path.join(SOURCE, "build", n))
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    ap.add_argument("cases", nargs="*", help="only these cases (test_hostile.py)")
    return ap.parse_args(argv)


def run_tool(argv, timeout=120, env=None, input=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, env=env,
                       input=input)
    return p.returncode, p.stdout.decode(errors="replace")


def wait_port(port, proc=None, timeout=15, tls=False):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Failure(f"nothing listens on 127.0.0.1:{port}")


# ------------------------------------------------------------------ session, servers

class Registry:
    def __init__(self, host, scheme, ca=None, user=None, password=None):
        self.host, self.scheme, self.ca, self.user, self.password = host, scheme, ca, user, password
        self.token_log = None

    @property
    def url(self):
        return f"{self.scheme}://{self.host}"


class Session:
    def __init__(self, name, keep=False):
        self.dir = tempfile.mkdtemp(prefix=f"strata-faults-{name}-")
        self.keep = keep
        self.procs = []
        self.mounts = []
        self.cleanups = []
        self.ca_dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def spawn(self, argv, logname, **kw):
        logf = open(self.path(logname), "ab")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", logf), stderr=logf, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # teardown must go on
                log(f"cleanup: {e}")
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        if self.keep:
            log(f"work dir kept: {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- certificates (the same shape as tests/integration/support/test_ca.cpp)
    def make_ca(self):
        if self.ca_dir:
            return self.ca_dir
        d = self.path("ca")
        os.makedirs(d)

        def ossl(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             "ca.key", "-out", "ca.crt", "-days", "2", "-sha256", "-subj", "/CN=strata-faults-ca",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        with open(os.path.join(d, "server.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
        ossl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-sha256", "-extfile", "server.ext", "-out", "server.crt")
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key", "-out", "token.crt",
             "-days", "2", "-sha256", "-subj", "/CN=strata-faults-token-signer")
        os.makedirs(os.path.join(d, "certs"))
        shutil.copy(os.path.join(d, "ca.crt"), os.path.join(d, "certs", "ca.crt"))
        self.ca_dir = d
        return d

    def registry(self, name="registry", auth=None, user="tester", password=None):
        """auth: None (plain HTTP), "htpasswd" or "token" (both over TLS)."""
        port = free_port()
        root = self.path(name)
        os.makedirs(root)
        cfg = ["version: 0.1", "log: {level: error, accesslog: {disabled: true}}",
               f'storage: {{filesystem: {{rootdirectory: "{root}/data"}}, delete: {{enabled: true}}}}']
        reg = Registry(f"127.0.0.1:{port}", "http")
        if auth:
            ca = self.make_ca()
            cfg.append(f'http: {{addr: "127.0.0.1:{port}", tls: {{certificate: "{ca}/server.crt", '
                       f'key: "{ca}/server.key"}}}}')
            reg = Registry(f"127.0.0.1:{port}", "https", ca=ca, user=user, password=password)
        else:
            cfg.append(f'http: {{addr: "127.0.0.1:{port}"}}')
        if auth == "htpasswd":
            subprocess.run(["htpasswd", "-Bbc", f"{root}/htpasswd", user, password], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cfg.append(f'auth: {{htpasswd: {{realm: strata-faults, path: "{root}/htpasswd"}}}}')
        elif auth == "token":
            reg.token_log = f"{root}/tokens.log"
            reg.identity_token = "idtok-" + os.urandom(12).hex()
            tp = self.spawn([sys.executable, os.path.join(SOURCE, "tests/integration/support/token_server.py"),
                             "--tls-cert", f"{ca}/server.crt", "--tls-key", f"{ca}/server.key",
                             "--sign-cert", f"{ca}/token.crt", "--sign-key", f"{ca}/token.key",
                             "--user", user, "--password", password, "--refresh-token", reg.identity_token,
                             "--token-log", reg.token_log], name + "-token.log", stdout=subprocess.PIPE)
            line = tp.stdout.readline().decode().split()
            check(line[:1] == ["listening"], "token server did not start")
            realm = f"https://127.0.0.1:{line[1]}/token"
            cfg.append(f'auth: {{token: {{realm: "{realm}", service: strata-test-registry, '
                       f'issuer: strata-test-issuer, rootcertbundle: "{ca}/token.crt"}}}}')
        with open(f"{root}/config.yml", "w") as f:
            f.write("\n".join(cfg) + "\n")
        p = self.spawn(["docker-registry", "serve", f"{root}/config.yml"], name + ".log")
        wait_port(port, p)
        return reg

    def tmpfs(self, name, size):
        d = self.path(name)
        os.makedirs(d)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", d], check=True)
        self.mounts.append(d)
        return d


# ------------------------------------------------------------------ images

def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(entries):
    """entries: list of (TarInfo, bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_entry(name, data, mode=0o644):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    return info, data


def random_layer(seed, size, name=None):
    """(compressed, diff_id): one file of `size` incompressible bytes."""
    data = random.Random(seed).randbytes(size)
    raw = tar_bytes([file_entry(name or f"data-{seed}.bin", data)])
    return gzip.compress(raw, compresslevel=1, mtime=0), sha256(raw)


def image_blobs(layers, config_extra=None):
    """layers: list of (compressed, diff_id) → (manifest bytes, {digest: bytes})."""
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]}}
    config.update(config_extra or {})
    cbytes = json.dumps(config).encode()
    blobs = {sha256(cbytes): cbytes}
    descs = []
    for comp, _ in layers:
        blobs[sha256(comp)] = comp
        descs.append({"mediaType": OCI_LAYER, "digest": sha256(comp), "size": len(comp)})
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": sha256(cbytes), "size": len(cbytes)},
                "layers": descs}
    return json.dumps(manifest).encode(), blobs


class RegistryAPI:
    """Minimal registry client for pushing test images (plain HTTP, or TLS with Basic auth)."""

    def __init__(self, reg):
        self.reg = reg
        import ssl
        self.ctx = ssl.create_default_context(cafile=os.path.join(reg.ca, "ca.crt")) if reg.ca else None

    def request(self, method, path, data=None, headers=None):
        url = path if path.startswith("http") else self.reg.url + path
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if self.reg.user and self.reg.token_log is None:
            tok = base64.b64encode(f"{self.reg.user}:{self.reg.password}".encode()).decode()
            req.add_header("Authorization", "Basic " + tok)
        try:
            with urllib.request.urlopen(req, timeout=60, context=self.ctx) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def put_blob(self, repo, data):
        d = sha256(data)
        st, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{d}")
        if st == 200:
            return d
        st, h, body = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        check(st == 202, f"upload start: {st} {body[:200]}")
        loc = h["Location"]
        loc += ("&" if "?" in loc else "?") + "digest=" + d
        st, _, body = self.request("PUT", loc, data, {"Content-Type": "application/octet-stream",
                                                      "Content-Length": str(len(data))})
        check(st == 201, f"blob put {d}: {st} {body[:200]}")
        return d

    def put_manifest(self, repo, ref, data, media_type=OCI_MANIFEST):
        st, _, body = self.request("PUT", f"/v2/{repo}/manifests/{ref}", data, {"Content-Type": media_type})
        return st, body


def push_image(reg, repo, tag, layers, config_extra=None):
    """Pushes an image; returns its manifest digest."""
    manifest, blobs = image_blobs(layers, config_extra)
    api = RegistryAPI(reg)
    for data in blobs.values():
        api.put_blob(repo, data)
    st, body = api.put_manifest(repo, tag, manifest)
    check(st == 201, f"manifest put: {st} {body[:300]}")
    return sha256(manifest)


# ------------------------------------------------------------------ cache checks

def stray_files(cache):
    """Files a reader could mistake for content: anything unexpected at the top, temp names in
    blobs/, and blobs whose bytes do not hash to their name."""
    problems = []
    for name in os.listdir(cache):
        if name not in CACHE_TOP:
            problems.append(f"unexpected top-level entry {name}")
    blobs = os.path.join(cache, "blobs")
    if os.path.isdir(blobs):
        for alg in os.listdir(blobs):
            for name in os.listdir(os.path.join(blobs, alg)):
                p = os.path.join(blobs, alg, name)
                if alg != "sha256" or len(name) != 64 or not all(c in "0123456789abcdef" for c in name):
                    problems.append(f"stray file in blobs/: {alg}/{name}")
                    continue
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                if h.hexdigest() != name:
                    problems.append(f"blob {name} does not match its digest")
    return problems


def check_cache(cachectl, cache, what=""):
    """cachectl verify passes, every blob hashes to its name, nothing stray."""
    if not os.path.exists(os.path.join(cache, "index")):
        return  # never opened: nothing to check
    rc, out = run_tool([cachectl, "verify", "--cache-dir", cache], timeout=120)
    check(rc == 0, f"{what}: cachectl verify failed ({rc}):\n{out}")
    problems = stray_files(cache)
    check(not problems, f"{what}: " + "; ".join(problems))


def main_wrapper(fn):
    """Runs fn(); Failure → exit 1 with its message."""
    try:
        fn()
    except Failure as e:
        log(f"FAIL: {e}")
        sys.exit(1)
    log("PASS")
