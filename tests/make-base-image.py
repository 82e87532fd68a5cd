#!/usr/bin/env python3
"""Make the busybox base image for tests and demos, without any download.

usage: make-base-image.py [--extra-layers N] [--multi-arch] [--push REF [--format oci|v2s2]
                          [--insecure] [--dest-cert-dir DIR] [--dest-creds USER:PASS]] OUTDIR TAG

Writes an OCI image layout to OUTDIR (replacing it) with TAG pointing at the image, prints the
digest of the tagged manifest (or index), and with --push copies it with skopeo to REF
("HOST/REPO:TAG"; --format v2s2 converts to Docker schema2 media types).

The rootfs: /bin/busybox from the host's busybox-static plus one symlink per applet
(`busybox --list`), /etc/passwd, /etc/group, /etc/shadow, /tmp (1777), /root (0700) and the usual
empty directories. The layer is written straight from Python's tarfile, so it is deterministic by
construction: entries sorted, mtime 0, uid/gid 0, GNU format; gzip with mtime 0 and no name.
Re-running gives byte-identical blobs on the same host.

--extra-layers N adds N small layers, layer K adding /layer-K.txt ("layer K\\n") and, from the
second on, deleting the previous one with a whiteout (.wh.layer-(K-1).txt), so tests see both
additions and deletions. --multi-arch tags an OCI index of linux/amd64 and linux/arm64/v8; the
arm64 entry reuses the same layers with its own config (the binaries are amd64: it exists for
platform-selection tests, not to run).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

EPOCH = "1970-01-01T00:00:00Z"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
wheel:x:10:root
mail:x:8:
www-data:x:33:
staff:x:50:
users:x:100:
nogroup:x:65534:
"""
DIRS = {"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o555, "root": 0o700,
        "sys": 0o555, "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
        "var": 0o755, "var/spool": 0o755, "var/spool/mail": 0o755, "var/www": 0o755}


def find_busybox():
    for path in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.isfile(path):
            return path
    sys.exit("make-base-image: busybox not found (apt-get install busybox-static)")


def tar_layer(entries):
    """entries: list of (name, kind, mode, payload) with kind in dir|file|symlink; returns the
    uncompressed tar bytes, entries sorted by name."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, mode, payload in sorted(entries, key=lambda e: e[0]):
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
            info.mode = mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = payload
                tar.addfile(info)
            else:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def gzip_bytes(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=6, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def busybox_entries():
    busybox = find_busybox()
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    entries = [(d, "dir", m, None) for d, m in DIRS.items()]
    entries.append(("bin/busybox", "file", 0o755, open(busybox, "rb").read()))
    entries += [("bin/" + a, "symlink", 0o777, "busybox") for a in sorted(set(applets))
                if a != "busybox"]
    entries.append(("etc/passwd", "file", 0o644, PASSWD.encode()))
    entries.append(("etc/group", "file", 0o644, GROUP.encode()))
    shadow = "".join(line.split(":")[0] + ":*:10933:0:99999:7:::\n"
                     for line in PASSWD.splitlines())
    entries.append(("etc/shadow", "file", 0o640, shadow.encode()))
    return entries


def extra_layer_entries(k):
    entries = [("layer-%d.txt" % k, "file", 0o644, b"layer %d\n" % k)]
    if k > 1:
        entries.append((".wh.layer-%d.txt" % (k - 1), "file", 0o644, b""))
    return entries


class Layout:
    def __init__(self, out):
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(os.path.join(out, "blobs", "sha256"))
        self.out = out
        with open(os.path.join(out, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(self, data):
        hexd = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.out, "blobs", "sha256", hexd), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + hexd, "size": len(data)}

    def put_json(self, obj):
        return self.put(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


def build(args):
    layout = Layout(args.outdir)
    tars = [tar_layer(busybox_entries())]
    tars += [tar_layer(extra_layer_entries(k)) for k in range(1, args.extra_layers + 1)]
    layers, diff_ids, history = [], [], []
    for i, t in enumerate(tars):
        desc = layout.put(gzip_bytes(t))
        layers.append(dict(mediaType=OCI_LAYER, **desc))
        diff_ids.append("sha256:" + hashlib.sha256(t).hexdigest())
        history.append({"created": EPOCH, "created_by": "make-base-image.py layer %d" % i})

    def image(arch, variant=None):
        config = {"architecture": arch, "os": "linux", "created": EPOCH,
                  "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                             "Cmd": ["sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history}
        platform = {"architecture": arch, "os": "linux"}
        if variant:
            config["variant"] = variant
            platform["variant"] = variant
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": dict(mediaType=OCI_CONFIG, **layout.put_json(config)),
                    "layers": layers}
        return dict(mediaType=OCI_MANIFEST, platform=platform, **layout.put_json(manifest))

    top = image("amd64")
    if args.multi_arch:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                 "manifests": [top, image("arm64", "v8")]}
        top = dict(mediaType=OCI_INDEX, **layout.put_json(index))
    top = dict(top, annotations={"org.opencontainers.image.ref.name": args.tag})
    top.pop("platform", None)
    with open(os.path.join(args.outdir, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f, sort_keys=True)
    return top["digest"]


def push(args):
    cmd = ["skopeo", "copy", "-q", "--all"]
    if args.format == "v2s2":
        cmd += ["--format", "v2s2"]
    if args.insecure:
        cmd.append("--dest-tls-verify=false")
    if args.dest_cert_dir:
        cmd += ["--dest-cert-dir", args.dest_cert_dir]
    if args.dest_creds:
        cmd += ["--dest-creds", args.dest_creds]
    cmd += ["oci:%s:%s" % (args.outdir, args.tag), "docker://" + args.push]
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("tag")
    ap.add_argument("--extra-layers", type=int, default=0)
    ap.add_argument("--multi-arch", action="store_true")
    ap.add_argument("--push", metavar="HOST/REPO:TAG")
    ap.add_argument("--format", choices=("oci", "v2s2"), default="oci")
    ap.add_argument("--insecure", action="store_true", help="plain HTTP / unverified TLS")
    ap.add_argument("--dest-cert-dir")
    ap.add_argument("--dest-creds")
    args = ap.parse_args()
    digest = build(args)
    if args.push:
        push(args)
    print(digest)


if __name__ == "__main__":
    main()
