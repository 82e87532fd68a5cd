#!/usr/bin/env python3
"""Make the e2e/xattrs base image: the busybox base plus one layer whose files carry xattrs.

usage: make-xattr-base.py BUSYBOX_LAYOUT OUT_LAYOUT

busybox and Debian's minbase have no setfattr, so a Dockerfile cannot make xattrs itself; this base
brings them in a layer (PAX SCHILY.xattr.* records, as containers/storage and BuildKit write them),
and the e2e case checks that both builders keep them, also on a file a RUN step rewrites.
BUSYBOX_LAYOUT is the OCI layout written by tests/make-base-image.py (tag "latest"); the new image
reuses its layer and config and is tagged "latest" in OUT_LAYOUT. Deterministic (mtime 0, sorted).
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def xattr_layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data=None, mode=0o644, xattrs=None):
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.mode = 0, mode
            ti.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in (xattrs or {}).items()}
            if data is None:
                ti.type = tarfile.DIRTYPE
                tar.addfile(ti)
            else:
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
        add("x", mode=0o755, xattrs={"user.dir": "on-a-dir"})
        add("x/changed", b"changed by RUN\n", xattrs={"user.note": "kept", "trusted.e2e": "t"})
        add("x/untouched", b"left alone\n", xattrs={"user.a": "1", "user.b": "two"})
    return gzip.compress(buf.getvalue(), mtime=0)


def main(src, out):
    def blob_path(layout, digest):
        return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])

    with open(os.path.join(src, "index.json")) as f:
        index = json.load(f)
    entry = next(m for m in index["manifests"]
                 if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest")
    with open(blob_path(src, entry["digest"])) as f:
        manifest = json.load(f)
    with open(blob_path(src, manifest["config"]["digest"])) as f:
        config = json.load(f)

    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "blobs", "sha256"))

    def put(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(blob_path(out, digest), "wb") as f:
            f.write(data)
        return {"digest": digest, "size": len(data)}

    for layer in manifest["layers"]:
        with open(blob_path(src, layer["digest"]), "rb") as f:
            put(f.read())
    layer = xattr_layer()
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest())
    config.setdefault("history", []).append({"created_by": "make-xattr-base.py", "created": "1970-01-01T00:00:00Z"})
    manifest["layers"].append(dict(put(layer), mediaType=OCI_LAYER))
    manifest["config"] = dict(put(json.dumps(config, sort_keys=True).encode()), mediaType=manifest["config"]["mediaType"])
    desc = dict(put(json.dumps(manifest, sort_keys=True).encode()), mediaType=OCI_MANIFEST,
                annotations={"org.opencontainers.image.ref.name": "latest"})
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [desc]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
