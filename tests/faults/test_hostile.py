#!/usr/bin/env python3
"""Hostile images and contexts against the real tools (docs/reliability.md, "Hostile input").

usage: test_hostile.py --warmer PATH --executor PATH --cachectl PATH [--keep] [CASE...]

Layers (pushed to a real docker-registry; the executor builds `FROM` each image, which extracts
the layer into its build root): `..` traversal, absolute paths, absolute and relative symlink
escapes, hardlinks to a file outside, a symlink swapped under a directory, a whiteout through a
symlink, a 8 MiB PAX header, a header claiming a 1 TiB file, a gzip bomb (150 MiB of zeros in
150 KiB, past the 1000:1 ratio limit). Each must end with exit 0 (contained) or exit 1 with the
expected message, and nothing may appear in or vanish from a directory outside the root whose
absolute path the layers aim at.

Manifests and configs (served by a tiny static registry in this script, since docker-registry
refuses to store most of them): invalid JSON, 5 MiB, nested 100000 deep, an index of 100000
entries, digests of the wrong algorithm, the wrong length or with `/..`, a body that does not
match the digest it was asked by, a config nested too deep. The warmer and the executor must
exit 1 with a clear message (the warmer stores configs as opaque verified blobs, so only the
executor judges the config); the cache must verify and must not list a rejected image.

Context: a FIFO and a /dev/zero device node in a local context are copied as nodes (the build
neither hangs nor reads them); symlinks in the context aiming outside it (`/`, `../..`, an
absolute file) resolve inside the context (COPY through them: "not found"), `COPY .` keeps them
as links and never copies the file they point at.
Exit 0 pass, 1 fail, 77 skipped.
"""
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import sys
import tarfile
import threading
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as F  # noqa: E402


# ------------------------------------------------------------------ crafted layers

def entry(name, kind="file", data=b"", target="", pax=None, size=None):
    info = tarfile.TarInfo(name)
    info.mtime, info.mode = 0, 0o755 if kind == "dir" else 0o644
    if kind == "dir":
        info.type = tarfile.DIRTYPE
    elif kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, target
    elif kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, target
    if pax:
        info.pax_headers = pax
    info.size = len(data) if size is None else size
    return info, (data if kind == "file" and size is None else None)


def raw_tar(entries):
    """Like tarfile, but keeps names exactly as given (tarfile would keep them too; this also lets a
    header claim a size its data does not have)."""
    buf = io.BytesIO()
    tar = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
    for info, data in entries:
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
    tar.close()
    return buf.getvalue()


def layer(entries):
    raw = raw_tar(entries)
    return gzip.compress(raw, compresslevel=6, mtime=0), F.sha256(raw)


def bomb_layer(size):
    info = tarfile.TarInfo("zeros")
    info.size, info.mtime = size, 0
    head = info.tobuf(tarfile.PAX_FORMAT)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    out = [c.compress(head)]
    chunk = bytes(1 << 20)
    for _ in range(size >> 20):
        out.append(c.compress(chunk))
    out.append(c.compress(bytes(1024)))  # end-of-archive blocks
    out.append(c.flush())
    diff = hashlib.sha256(head)
    for _ in range(size >> 20):
        diff.update(chunk)
    diff.update(bytes(1024))
    return b"".join(out), "sha256:" + diff.hexdigest()


def layer_cases(out):
    """(name, layer, expected: 'ok' | regex of the error)."""
    up = "../" * 12
    return [
        ("dotdot", layer([entry(f"{up}{out[1:]}/dotdot")]), r"\.\./"),
        ("absolute", layer([entry(f"{out}/absolute", data=b"x")]), "ok"),
        ("symlink-abs", layer([entry("evil", "symlink", target=out), entry("evil/symlink-abs", data=b"x")]), "any"),
        ("symlink-rel", layer([entry("rel", "symlink", target=f"{up}{out[1:]}"), entry("rel/symlink-rel")]), "any"),
        ("symlink-chain", layer([entry("c1", "symlink", target="c2"), entry("c2", "symlink", target="c3/../.."),
                                 entry("c3", "symlink", target="/.."), entry(f"c1{out}/chain")]), "any"),
        ("hardlink-rel", layer([entry("link", "hardlink", target=f"{up}{out[1:]}/secret")]), r"link|hard"),
        ("hardlink-abs", layer([entry("link", "hardlink", target=f"{out}/secret")]), r"link|hard|secret"),
        ("swapped-dir", layer([entry("d", "dir"), entry("d/first", data=b"1"), entry("d", "symlink", target=out),
                               entry("d/swapped", data=b"2")]), r"d/swapped"),
        ("whiteout-escape", layer([entry("up", "symlink", target=out), entry("up/.wh.secret")]), "any"),
        ("huge-pax", layer([entry("big", data=b"x", pax={"SCHILY.xattr.user.big": "x" * (8 << 20)})]),
         r"header|big|corrupt|large"),
        ("claims-1tib", layer([entry("huge", size=1 << 40)]), r"truncat|unexpected|corrupt|end"),
        ("gzip-bomb", bomb_layer(150 << 20), r"ratio|bomb"),
    ]


# ------------------------------------------------------------------ hostile registry

class Static(http.server.ThreadingHTTPServer):
    daemon_threads = True


def static_registry(routes):
    """routes: {path: (content_type, body)}; GET/HEAD only."""
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/v2/":
                ctype, body = "application/json", b"{}"
            elif path in routes:
                ctype, body = routes[path]
            else:
                ctype, body = "application/json", b'{"errors":[{"code":"NOT_FOUND"}]}'
                self.send_response(404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Content-Digest", F.sha256(body))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        do_HEAD = do_GET

    srv = Static(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def manifest_cases():
    """(name, {path: (type, body)}, ref suffix, expected error regex)."""
    good_layer, diff = F.random_layer(77, 4096)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                                                                           "diff_ids": [diff]}}).encode()

    def desc(mt, body=None, digest=None, size=None):
        return {"mediaType": mt, "digest": digest or F.sha256(body), "size": len(body) if size is None else size}

    def manifest(cfg=config, layers=None, extra=None):
        m = {"schemaVersion": 2, "mediaType": F.OCI_MANIFEST, "config": desc(F.OCI_CONFIG, cfg),
             "layers": layers if layers is not None else [desc(F.OCI_LAYER, good_layer)]}
        m.update(extra or {})
        return json.dumps(m).encode()

    def routes(repo, body, mt=F.OCI_MANIFEST, tag="v1", cfg=config):
        r = {f"/v2/{repo}/manifests/{tag}": (mt, body), f"/v2/{repo}/manifests/{F.sha256(body)}": (mt, body),
             f"/v2/{repo}/blobs/{F.sha256(cfg)}": ("application/octet-stream", cfg),
             f"/v2/{repo}/blobs/{F.sha256(good_layer)}": ("application/octet-stream", good_layer)}
        return r

    cases = []
    cases.append(("invalid-json", routes("h/invalid", b'{"schemaVersion": 2, "config": {'), ":v1",
                  r"JSON|parse|invalid"))
    big = manifest(extra={"annotations": {"pad": "x" * (5 << 20)}})
    cases.append(("huge-manifest", routes("h/huge", big), ":v1", r"larger|too large|size|limit"))
    nested = b'{"schemaVersion":2,"mediaType":"%s","x":' % F.OCI_MANIFEST.encode() + b"[" * 100000 + \
        b"]" * 100000 + b"}"
    cases.append(("nested-manifest", routes("h/nested", nested), ":v1", r"nested|deep"))
    entries = [{"mediaType": F.OCI_MANIFEST, "digest": F.sha256(str(i).encode()), "size": 100,
                "platform": {"os": "linux", "architecture": "s390x"}} for i in range(100000)]
    index = json.dumps({"schemaVersion": 2, "mediaType": F.OCI_INDEX, "manifests": entries}).encode()
    cases.append(("huge-index", routes("h/index", index, F.OCI_INDEX), ":v1", r"larger|too large|size|limit"))
    md5 = manifest(layers=[desc(F.OCI_LAYER, good_layer, digest="md5:" + "0" * 32)])
    cases.append(("md5-digest", routes("h/md5", md5), ":v1", r"md5|algorithm|unsupported"))
    short = manifest(layers=[desc(F.OCI_LAYER, good_layer, digest="sha256:abc")])
    cases.append(("short-digest", routes("h/short", short), ":v1", r"64 hex|digest"))
    trav = manifest(layers=[desc(F.OCI_LAYER, good_layer, digest="sha256:../../../../../../etc/passwd" + "0" * 34)])
    cases.append(("traversal-digest", routes("h/trav", trav), ":v1", r"digest"))
    neg = manifest(layers=[desc(F.OCI_LAYER, good_layer, size=-5)])
    cases.append(("negative-size", routes("h/neg", neg), ":v1", r"size"))
    # Asked by digest, served other bytes.
    real = manifest()
    other = manifest(extra={"annotations": {"swapped": "yes"}})
    r = routes("h/swap", real)
    r[f"/v2/h/swap/manifests/{F.sha256(real)}"] = (F.OCI_MANIFEST, other)
    cases.append(("manifest-digest-mismatch", r, "@" + F.sha256(real), r"digest"))
    deep_cfg = b'{"architecture":"amd64","os":"linux","config":{"Labels":' + b'{"a":' * 10000 + b'1' + \
        b'}' * 10000 + b'}}'
    # The warmer caches configs as verified opaque blobs (it never interprets them); the executor,
    # which does, must refuse this one.
    cases.append(("nested-config", routes("h/deepcfg", manifest(cfg=deep_cfg), cfg=deep_cfg), ":v1",
                  r"nested|deep|config", "any"))
    return cases


# ------------------------------------------------------------------ checks

def snapshot(d):
    out = {}
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[os.path.relpath(p, d)] = (st.st_mode, st.st_size, open(p, "rb").read() if os.path.isfile(p) and
                                          not os.path.islink(p) else None)
    return out


def main():
    args = F.tool_args(sys.argv[1:])
    only = args.cases
    F.require(["docker-registry", "mknod", "mkfifo", args.warmer, args.executor, args.cachectl])
    failures = []
    with F.Session("hostile", args.keep) as s:
        env = dict(os.environ, DOCKER_CONFIG=s.dir)
        outside = s.path("outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "secret"), "w") as f:
            f.write("secret\n")
        before = snapshot(outside)
        reg = s.registry()
        ctx = s.path("ctx")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "a.txt"), "w") as f:
            f.write("a\n")

        def build(ref, n):
            with open(os.path.join(ctx, "Dockerfile"), "w") as f:
                f.write(f"FROM {ref}\nCOPY a.txt /a.txt\n")
            return F.run_tool([args.executor, "--context", ctx, "--no-push", "--cache-dir", s.path(f"cache-{n}"),
                               "--kaniko-dir", s.path(f"kaniko-{n}"), "--insecure-registry", reg.host,
                               "--insecure-registry", hostile_host], env=env, timeout=120)

        def verdict(name, rc, out, expect):
            last = (out.strip().splitlines() or [""])[-1]
            if expect == "ok":
                ok = rc == 0
            elif expect == "any":
                ok = rc == 0 or (rc == 1 and "error" in out.lower())
            else:
                ok = rc == 1 and re.search(expect, out, re.I) is not None
            F.log(f"  {name:26} exit {rc}: {last[-170:]}")
            if not ok:
                failures.append(f"{name}: exit {rc}, expected {expect}:\n{out[-1500:]}")
            after = snapshot(outside)
            if after != before:
                failures.append(f"{name}: the directory outside the root changed: {sorted(set(after) ^ set(before))}")

        srv = static_registry({})
        s.cleanups.append(srv.shutdown)
        hostile_host = f"127.0.0.1:{srv.server_address[1]}"

        F.log("crafted layers, executor FROM each")
        for n, (name, lay, expect) in enumerate(layer_cases(outside)):
            if only and name not in only:
                continue
            F.push_image(reg, f"hostile/{name}", "v1", [lay])
            rc, out = build(f"{reg.host}/hostile/{name}:v1", n)
            verdict(name, rc, out, expect)

        F.log("hostile manifests and configs: warmer, then executor")
        for n, (name, routes, suffix, expect, *warmer_expect) in enumerate(manifest_cases()):
            if only and name not in only:
                continue
            srv.shutdown()
            srv.server_close()
            srv = static_registry(routes)
            s.cleanups.append(srv.shutdown)
            hostile_host = f"127.0.0.1:{srv.server_address[1]}"
            repo = next(p for p in routes if "/manifests/" in p).split("/manifests/")[0][len("/v2/"):]
            ref = f"{hostile_host}/{repo}{suffix}"
            cache = s.path(f"mcache-{n}")
            rc, out = F.run_tool([args.warmer, "--cache-dir", cache, "--image", ref, "--insecure-registry",
                                  hostile_host], env=env)
            verdict(f"warmer {name}", rc, out, (warmer_expect or [expect])[0])
            F.check_cache(args.cachectl, cache, name)
            rc2, listing = F.run_tool([args.cachectl, "ls", "--cache-dir", cache])
            if rc != 0 and repo in listing:
                failures.append(f"{name}: the rejected image is listed in the cache:\n{listing}")
            rc, out = build(ref, 100 + n)
            verdict(f"executor {name}", rc, out, expect)

        F.log("special files in a local context")
        if not only or "context-devices" in only:
            cdir = s.path("ctx-dev")
            os.makedirs(cdir)
            os.mkfifo(os.path.join(cdir, "fifo"))
            os.mknod(os.path.join(cdir, "zero"), 0o644 | 0o020000, os.makedev(1, 5))
            with open(os.path.join(cdir, "Dockerfile"), "w") as f:
                f.write("FROM scratch\nCOPY . /ctx/\n")
            layout = s.path("ctx-dev-out")
            rc, out = F.run_tool([args.executor, "--context", cdir, "--no-push", "--cache-dir", s.path("cache-dev"),
                                  "--kaniko-dir", s.path("kaniko-dev"), "--oci-layout-path", layout], env=env,
                                 timeout=60)
            verdict("context-devices", rc, out, "ok")
            if rc == 0:
                index = json.load(open(os.path.join(layout, "index.json")))
                m = json.load(open(os.path.join(layout, "blobs/sha256", index["manifests"][0]["digest"][7:])))
                data = open(os.path.join(layout, "blobs/sha256", m["layers"][-1]["digest"][7:]), "rb").read()
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    kinds = {i.name: (i.type, i.size) for i in tar.getmembers()}
                if kinds.get("ctx/fifo", (None,))[0] != tarfile.FIFOTYPE or \
                        kinds.get("ctx/zero", (None,))[0] != tarfile.CHRTYPE:
                    failures.append(f"context-devices: special files not kept as nodes: {kinds}")
        F.log("symlinks in a local context pointing outside it")
        if not only or "context-symlinks" in only:
            cdir = s.path("ctx-links")
            os.makedirs(cdir)
            os.symlink("/", os.path.join(cdir, "root"))
            os.symlink("../" * 12 + outside[1:], os.path.join(cdir, "up"))
            os.symlink(os.path.join(outside, "secret"), os.path.join(cdir, "secret-link"))
            for n, src in enumerate([f"root{outside}/secret", "up/secret", "secret-link"]):
                with open(os.path.join(cdir, "Dockerfile"), "w") as f:
                    f.write(f"FROM scratch\nCOPY {src} /copied\n")
                rc, out = F.run_tool([args.executor, "--context", cdir, "--no-push", "--cache-dir",
                                      s.path("cache-links"), "--kaniko-dir", s.path(f"kaniko-links-{n}")], env=env)
                verdict(f"context COPY {src}", rc, out, r"not found")
            with open(os.path.join(cdir, "Dockerfile"), "w") as f:
                f.write("FROM scratch\nCOPY . /all/\n")
            layout = s.path("ctx-links-out")
            rc, out = F.run_tool([args.executor, "--context", cdir, "--no-push", "--cache-dir", s.path("cache-links"),
                                  "--kaniko-dir", s.path("kaniko-links"), "--oci-layout-path", layout], env=env)
            verdict("context COPY . (links)", rc, out, "ok")
            if rc == 0:
                for b in os.listdir(os.path.join(layout, "blobs/sha256")):
                    data = open(os.path.join(layout, "blobs/sha256", b), "rb").read()
                    if data[:2] == b"\x1f\x8b":
                        data = gzip.decompress(data)
                    if b"secret\n" in data.replace(b"secret-link", b""):
                        failures.append("context COPY .: a file outside the context was copied")
    F.check(not failures, "\n".join(failures))


if __name__ == "__main__":
    F.main_wrapper(main)
