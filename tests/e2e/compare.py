#!/usr/bin/env python3
"""Compare two container images: their file trees and the config fields a Dockerfile sets.

usage: compare.py [--ignore FILE]... [--quiet] IMAGE_A IMAGE_B
       compare.py --dump IMAGE            (print the tree and config of one image)

IMAGE is one of
  oci:DIR[:TAG]   an OCI image layout (TAG = org.opencontainers.image.ref.name; optional if the
                  index holds one manifest)
  dir:DIR         the containers/image "dir:" transport (manifest.json + blobs named by hex digest),
                  what `buildah push IMG dir:DIR` writes; keeps Docker-format configs intact
  registry:HOST:PORT/REPO:TAG   a plain-HTTP registry on loopback (no auth)

The file tree is computed without unpacking anything to disk: the layers are read in order with
tarfile and applied to an in-memory model the way an OCI runtime applies them:
  - `.wh.NAME` deletes NAME (and everything under it) from the layers below;
  - `.wh..wh..opq` hides every entry of its directory that came from a lower layer;
  - an entry replaces what was at its path, except that a directory over a directory only updates
    the metadata (its children stay);
  - a hard link shares the "inode" of its target, so both paths report the same content, and the
    set of paths sharing an inode is compared too;
  - a parent missing from a layer is created as root:root 0755, as umoci and containerd do.
Compared per path: type, permission bits (with setuid/setgid/sticky), uid, gid, size, SHA-256 of
the content, symlink target, device numbers, xattrs (PAX SCHILY.xattr.*), hard-link group.
Not compared: mtimes (RUN steps run at different times; directory mtimes change whenever a child
changes) unless a rule `+mtime GLOB` asks for them, and the root directory itself.

Config fields compared (Docker "config" object; null, [] and {} are the same):
  Env Cmd Entrypoint WorkingDir User ExposedPorts Volumes Labels StopSignal Healthcheck OnBuild
  Shell, and the platform (os, architecture, variant). The label io.buildah.version is dropped.

Ignore rules (--ignore FILE, repeatable; the format of the conformance cases' facts.ignore):
  FIELD GLOB     ignore FIELD for paths matching GLOB (fnmatch, "*" crosses "/"); FIELD is one of
                 type mode uid gid size content link dev xattrs links exists, or "*" for all
  config FIELD   ignore that config field
  config-unordered FIELD   compare that list field (Env) as a set: order only, values still count
  +mtime GLOB    also compare the mtime of non-directories matching GLOB
  "# ..." comments; anything after " # " on a line is the reason (kept for the report).
Placeholders: /etc/hosts, /etc/resolv.conf, /etc/hostname and /run/.containerenv that exist on only
one side as empty regular files, and an empty /run directory on one side only, are not reported:
they are mount targets a builder's RUN leaves behind (buildah creates /run), not content.

Exit status: 0 same, 1 differences (printed, one per line, "path: field: A != B"), 2 error.
"""
import argparse
import fnmatch
import gzip
import hashlib
import io
import json
import os
import posixpath
import subprocess
import sys
import tarfile
import urllib.request

CONFIG_FIELDS = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes",
                 "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell")
TREE_FIELDS = ("type", "mode", "uid", "gid", "size", "content", "link", "dev", "xattrs", "links")
PLACEHOLDERS = ("/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/run/.containerenv")
DROPPED_LABELS = ("io.buildah.version",)


class CompareError(Exception):
    pass


# ---------------------------------------------------------------- image sources

class Source:
    """Reads a manifest, a config and layer blobs from one place."""

    def blob(self, digest):
        raise NotImplementedError

    def manifest(self):
        raise NotImplementedError


class OciLayout(Source):
    def __init__(self, spec):
        path, tag = spec, ""
        if not os.path.isdir(spec) and ":" in spec:
            path, _, tag = spec.rpartition(":")
        self.dir, self.tag = path, tag

    def blob(self, digest):
        algo, _, hexd = digest.partition(":")
        with open(os.path.join(self.dir, "blobs", algo, hexd), "rb") as f:
            return f.read()

    def manifest(self):
        with open(os.path.join(self.dir, "index.json")) as f:
            index = json.load(f)
        entries = index.get("manifests", [])
        if self.tag:
            entries = [m for m in entries
                       if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == self.tag]
        if len(entries) != 1:
            raise CompareError(f"{self.dir}: expected one manifest tagged {self.tag!r}, found {len(entries)}")
        return resolve_index(self, json.loads(self.blob(entries[0]["digest"])))


class DirTransport(Source):
    def __init__(self, path):
        self.dir = path

    def blob(self, digest):
        with open(os.path.join(self.dir, digest.partition(":")[2]), "rb") as f:
            return f.read()

    def manifest(self):
        with open(os.path.join(self.dir, "manifest.json"), "rb") as f:
            return resolve_index(self, json.loads(f.read()))


class Registry(Source):
    ACCEPT = ", ".join((
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json"))

    def __init__(self, spec):
        host, _, rest = spec.partition("/")
        repo, _, ref = rest.rpartition(":") if "@" not in rest else rest.partition("@")
        self.base, self.repo, self.ref = f"http://{host}/v2/{repo}", repo, ref or "latest"

    def _get(self, url):
        req = urllib.request.Request(url, headers={"Accept": self.ACCEPT})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()

    def blob(self, digest):
        return self._get(f"{self.base}/blobs/{digest}")

    def manifest(self):
        return resolve_index(self, json.loads(self._get(f"{self.base}/manifests/{self.ref}")),
                             lambda d: json.loads(self._get(f"{self.base}/manifests/{d}")))


def resolve_index(src, doc, fetch=None):
    """An index resolves to its linux/amd64 manifest (this machine's platform)."""
    if "manifests" not in doc:
        return doc
    for m in doc["manifests"]:
        p = m.get("platform", {})
        if p.get("os", "linux") == "linux" and p.get("architecture", "amd64") == "amd64":
            return fetch(m["digest"]) if fetch else json.loads(src.blob(m["digest"]))
    raise CompareError("index has no linux/amd64 manifest")


def open_source(spec):
    kind, _, rest = spec.partition(":")
    if kind == "oci":
        return OciLayout(rest)
    if kind == "dir":
        return DirTransport(rest)
    if kind == "registry":
        return Registry(rest)
    raise CompareError(f"unknown image kind in {spec!r} (oci:, dir:, registry:)")


# ---------------------------------------------------------------- layers → tree

class Inode:
    __slots__ = ("type", "mode", "uid", "gid", "size", "content", "link", "dev", "xattrs", "mtime")


def norm(name):
    return posixpath.normpath("/" + name.lstrip("/"))


def decompress(data, media_type):
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    if "gzip" in media_type or "zstd" in media_type:
        raise CompareError(f"layer of type {media_type} has unexpected magic {data[:4].hex()}")
    return data


def type_of(ti):
    if ti.isreg():
        return "file"
    return {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.CHRTYPE: "char",
            tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}.get(ti.type, f"tar-type-{ti.type!r}")


class Tree:
    def __init__(self):
        self.paths = {}  # path -> Inode

    def remove(self, path):
        prefix = path.rstrip("/") + "/"
        for p in [p for p in self.paths if p == path or p.startswith(prefix)]:
            del self.paths[p]

    def ensure_parents(self, path):
        parent = posixpath.dirname(path)
        while parent != "/" and parent not in self.paths:
            ino = Inode()
            ino.type, ino.mode, ino.uid, ino.gid, ino.size = "dir", 0o755, 0, 0, 0
            ino.content = ino.link = ino.dev = None
            ino.xattrs, ino.mtime = {}, 0
            self.paths[parent] = ino
            parent = posixpath.dirname(parent)

    def apply_layer(self, data):
        added = set()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for ti in tar:
                path = norm(ti.name)
                if path == "/":
                    continue
                base, parent = posixpath.basename(path), posixpath.dirname(path)
                if base == ".wh..wh..opq":
                    prefix = parent.rstrip("/") + "/"
                    for p in [p for p in self.paths if p.startswith(prefix) and p not in added]:
                        del self.paths[p]
                    continue
                if base.startswith(".wh."):
                    self.remove(posixpath.join(parent, base[4:]))
                    continue
                if ti.islnk():
                    target = self.paths.get(norm(ti.linkname))
                    if target is None:
                        raise CompareError(f"hard link {path} -> {ti.linkname}: target missing")
                    if path in self.paths and self.paths[path].type == "dir":
                        self.remove(path)
                    self.paths[path] = target
                    added.add(path)
                    continue
                old = self.paths.get(path)
                if old is not None and not (old.type == "dir" and ti.isdir()):
                    self.remove(path)
                self.ensure_parents(path)
                ino = Inode()
                ino.type = type_of(ti)
                ino.mode, ino.uid, ino.gid = ti.mode & 0o7777, ti.uid, ti.gid
                ino.size = ti.size if ti.isreg() else 0
                ino.content = hashlib.sha256(tar.extractfile(ti).read()).hexdigest() if ti.isreg() else None
                ino.link = ti.linkname if ti.issym() else None
                ino.dev = f"{ti.devmajor},{ti.devminor}" if ti.ischr() or ti.isblk() else None
                ino.xattrs = {k[len("SCHILY.xattr."):]: v for k, v in ti.pax_headers.items()
                              if k.startswith("SCHILY.xattr.")}
                ino.mtime = int(ti.mtime)
                self.paths[path] = ino
                added.add(path)

    def facts(self):
        """path -> {field: value}, with hard-link groups resolved."""
        groups = {}
        for p, ino in self.paths.items():
            groups.setdefault(id(ino), []).append(p)
        out = {}
        for p, ino in self.paths.items():
            f = {k: getattr(ino, k) for k in ("type", "mode", "uid", "gid", "size", "content", "link",
                                              "dev", "xattrs", "mtime")}
            f["mode"] = oct(f["mode"])
            others = sorted(q for q in groups[id(ino)] if q != p)
            f["links"] = others or None
            out[p] = f
        return out


def load(spec):
    src = open_source(spec)
    manifest = src.manifest()
    config = json.loads(src.blob(manifest["config"]["digest"]))
    tree = Tree()
    for layer in manifest.get("layers", []):
        tree.apply_layer(decompress(src.blob(layer["digest"]), layer.get("mediaType", "")))
    return manifest, config, tree.facts()


# ---------------------------------------------------------------- rules and comparison

class Rules:
    def __init__(self):
        self.ignored = []  # (field, glob, reason)
        self.config_ignored = {}
        self.config_unordered = {}  # list fields compared as sets (config-unordered FIELD)
        self.mtime_globs = []

    def read(self, path):
        with open(path) as f:
            for raw in f:
                line, _, reason = raw.partition(" # ")
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split(None, 1)
                if len(parts) != 2:
                    raise CompareError(f"{path}: bad rule {raw.strip()!r}")
                field, arg = parts
                if field == "config":
                    self.config_ignored[arg] = reason.strip()
                elif field == "config-unordered":
                    self.config_unordered[arg] = reason.strip()
                elif field == "+mtime":
                    self.mtime_globs.append(arg)
                elif field in TREE_FIELDS + ("exists", "*"):
                    self.ignored.append((field, arg, reason.strip()))
                else:
                    raise CompareError(f"{path}: unknown field {field!r}")

    def ignores(self, field, path):
        return any((f == field or f == "*") and fnmatch.fnmatchcase(path, g) for f, g, _ in self.ignored)


def norm_config_value(v):
    return None if v in (None, [], {}, "") else v


def compare_configs(ca, cb, rules):
    diffs = []
    a, b = ca.get("config") or {}, cb.get("config") or {}
    for field in CONFIG_FIELDS:
        if field in rules.config_ignored:
            continue
        va, vb = norm_config_value(a.get(field)), norm_config_value(b.get(field))
        if field == "Labels":
            va = norm_config_value({k: v for k, v in (va or {}).items() if k not in DROPPED_LABELS})
            vb = norm_config_value({k: v for k, v in (vb or {}).items() if k not in DROPPED_LABELS})
        if field == "Healthcheck" and va and vb:
            # Docker omits zero durations; a 0 and a missing one mean the same default.
            va = {k: v for k, v in va.items() if v not in (0, None)}
            vb = {k: v for k, v in vb.items() if v not in (0, None)}
        if field in rules.config_unordered and isinstance(va, list) and isinstance(vb, list):
            va, vb = sorted(va), sorted(vb)
        if va != vb:
            diffs.append(f"config: {field}: {json.dumps(va)} != {json.dumps(vb)}")
    for field in ("os", "architecture", "variant"):
        if field not in rules.config_ignored and ca.get(field) != cb.get(field):
            diffs.append(f"config: {field}: {ca.get(field)!r} != {cb.get(field)!r}")
    return diffs


def is_placeholder(path, f, tree):
    if path in PLACEHOLDERS and f["type"] == "file" and f["size"] == 0:
        return True
    # buildah's RUN leaves /run behind (the mount point of its secrets and .containerenv), empty.
    return path == "/run" and f["type"] == "dir" and not any(p.startswith("/run/") for p in tree)


def compare_trees(ta, tb, rules):
    diffs = []
    for path in sorted(set(ta) | set(tb)):
        fa, fb = ta.get(path), tb.get(path)
        if fa is None or fb is None:
            present = fa or fb
            if rules.ignores("exists", path) or is_placeholder(path, present, ta if fa else tb):
                continue
            # Report the top of a missing subtree only.
            parent = posixpath.dirname(path)
            if parent != "/" and ((parent in ta) != (parent in tb)):
                continue
            side = "only in A" if fa else "only in B"
            diffs.append(f"{path}: {side} ({present['type']} {present['mode']} "
                         f"{present['uid']}:{present['gid']})")
            continue
        fields = list(TREE_FIELDS)
        if fa["type"] != "dir" and any(fnmatch.fnmatchcase(path, g) for g in rules.mtime_globs):
            fields.append("mtime")
        for field in fields:
            if fa[field] != fb[field] and not rules.ignores(field, path):
                diffs.append(f"{path}: {field}: {fa[field]!r} != {fb[field]!r}")
    return diffs


def dump(spec):
    manifest, config, tree = load(spec)
    print(json.dumps({k: (config.get("config") or {}).get(k) for k in CONFIG_FIELDS}, indent=1))
    print(f"layers: {len(manifest.get('layers', []))}")
    for path in sorted(tree):
        f = tree[path]
        extra = f["link"] or (f["content"] or "")[:12] or f["dev"] or ""
        links = f" links={','.join(f['links'])}" if f["links"] else ""
        xattrs = f" xattrs={sorted(f['xattrs'])}" if f["xattrs"] else ""
        print(f"{f['type']:7} {f['mode']:>7} {f['uid']}:{f['gid']} {f['size']:>8} {path} {extra}{links}{xattrs}")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ignore", action="append", default=[], help="rules file (repeatable)")
    ap.add_argument("--dump", action="store_true", help="print one image instead of comparing")
    ap.add_argument("--quiet", action="store_true", help="no summary line")
    ap.add_argument("images", nargs="+")
    args = ap.parse_args(argv)
    try:
        if args.dump:
            for spec in args.images:
                dump(spec)
            return 0
        if len(args.images) != 2:
            ap.error("need IMAGE_A and IMAGE_B")
        rules = Rules()
        for path in args.ignore:
            if os.path.exists(path):
                rules.read(path)
        _, ca, ta = load(args.images[0])
        _, cb, tb = load(args.images[1])
    except (CompareError, OSError, ValueError, tarfile.TarError, subprocess.CalledProcessError) as e:
        print(f"compare.py: error: {e}", file=sys.stderr)
        return 2
    diffs = compare_configs(ca, cb, rules) + compare_trees(ta, tb, rules)
    for d in diffs:
        print(d)
    if not args.quiet:
        print(f"compare: {len(diffs)} difference(s), {len(ta)} vs {len(tb)} paths "
              f"(A={args.images[0]}, B={args.images[1]})")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
