#!/usr/bin/env python3
"""Unit tests of compare.py on hand-made OCI layouts (no network, no root, no builders).

Each test writes one or two tiny images whose layers exercise one rule (whiteouts, opaque dirs,
hard links, type changes, placeholders, ignore rules) and checks what compare.py reports.
Run: python3 tests/e2e/test_compare.py
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def entry(name, kind="f", data=b"", mode=0o644, uid=0, link="", xattrs=None, dev=(0, 0)):
    return dict(name=name, kind=kind, data=data, mode=mode, uid=uid, link=link, xattrs=xattrs or {}, dev=dev)


def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.mode, ti.uid, ti.gid, ti.mtime = e["mode"], e["uid"], e["uid"], 0
            ti.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in e["xattrs"].items()}
            kinds = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE, "c": tarfile.CHRTYPE,
                     "p": tarfile.FIFOTYPE}
            if e["kind"] == "f":
                ti.size = len(e["data"])
                tar.addfile(ti, io.BytesIO(e["data"]))
                continue
            ti.type, ti.linkname = kinds[e["kind"]], e["link"]
            ti.devmajor, ti.devminor = e["dev"]
            tar.addfile(ti)
    return gzip.compress(buf.getvalue(), mtime=0)


def write_image(root, layers, config=None):
    os.makedirs(os.path.join(root, "blobs", "sha256"))

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(root, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + d, "size": len(data)}

    cfg = {"architecture": "amd64", "os": "linux", "config": config or {}, "rootfs": {"type": "layers", "diff_ids": []}}
    manifest = {"schemaVersion": 2, "config": put(json.dumps(cfg).encode()),
                "layers": [dict(put(layer(l)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip") for l in layers]}
    desc = put(json.dumps(manifest).encode())
    desc["annotations"] = {"org.opencontainers.image.ref.name": "t"}
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [desc]}, f)
    return f"oci:{root}:t"


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.n = 0

    def tearDown(self):
        self.tmp.cleanup()

    def image(self, layers, config=None):
        self.n += 1
        return write_image(os.path.join(self.tmp.name, str(self.n)), layers, config)

    def diffs(self, a, b, rules=""):
        r = compare.Rules()
        if rules:
            path = os.path.join(self.tmp.name, f"rules{self.n}")
            with open(path, "w") as f:
                f.write(rules)
            r.read(path)
        _, ca, ta = compare.load(a)
        _, cb, tb = compare.load(b)
        return compare.compare_configs(ca, cb, r) + compare.compare_trees(ta, tb, r)

    def tree(self, spec):
        return compare.load(spec)[2]

    def test_identical_images_have_no_differences(self):
        l = [entry("a", "d", mode=0o755), entry("a/f", data=b"x")]
        self.assertEqual(self.diffs(self.image([l]), self.image([l])), [])

    def test_content_mode_owner_differences_are_reported(self):
        a = self.image([[entry("f", data=b"one", mode=0o644)]])
        b = self.image([[entry("f", data=b"two", mode=0o4755, uid=7)]])
        fields = {d.split(": ")[1] for d in self.diffs(a, b)}
        self.assertEqual(fields, {"mode", "uid", "gid", "content"})

    def test_whiteout_and_opaque_dir(self):
        base = [entry("d", "d", mode=0o755), entry("d/old", data=b"o"), entry("gone", data=b"g"),
                entry("keep", data=b"k")]
        upper = [entry(".wh.gone"), entry("d", "d", mode=0o700), entry("d/.wh..wh..opq"), entry("d/new", data=b"n")]
        t = self.tree(self.image([base, upper]))
        self.assertNotIn("/gone", t)
        self.assertNotIn("/d/old", t)
        self.assertIn("/d/new", t)
        self.assertEqual(t["/d"]["mode"], oct(0o700))
        flat = self.image([[entry("d", "d", mode=0o700), entry("d/new", data=b"n"), entry("keep", data=b"k")]])
        self.assertEqual(self.diffs(self.image([base, upper]), flat), [])

    def test_type_change_removes_subtree(self):
        t = self.tree(self.image([[entry("x", "d", mode=0o755), entry("x/child", data=b"c")],
                                  [entry("x", data=b"now a file")]]))
        self.assertEqual(t["/x"]["type"], "file")
        self.assertNotIn("/x/child", t)

    def test_hardlinks_share_content_and_group(self):
        img = self.image([[entry("a", data=b"data")], [entry("b", "h", link="a")]])
        t = self.tree(img)
        self.assertEqual(t["/b"]["content"], t["/a"]["content"])
        self.assertEqual(t["/a"]["links"], ["/b"])
        copies = self.image([[entry("a", data=b"data"), entry("b", data=b"data")]])
        self.assertEqual(self.diffs(img, copies), ["/a: links: ['/b'] != None", "/b: links: ['/a'] != None"])

    def test_symlink_device_fifo_xattrs(self):
        a = self.image([[entry("l", "l", link="/t"), entry("c", "c", dev=(1, 3)), entry("p", "p"),
                         entry("x", data=b"", xattrs={"user.k": "v"})]])
        b = self.image([[entry("l", "l", link="t"), entry("c", "c", dev=(1, 5)), entry("p", "p"),
                         entry("x", data=b"")]])
        self.assertEqual(sorted(d.split(": ")[0] + ":" + d.split(": ")[1] for d in self.diffs(a, b)),
                         ["/c:dev", "/l:link", "/x:xattrs"])

    def test_missing_subtree_reported_once(self):
        a = self.image([[entry("d", "d", mode=0o755), entry("d/e", "d", mode=0o755), entry("d/e/f")]])
        b = self.image([[entry("other")]])
        self.assertEqual([d.split(":")[0] for d in self.diffs(a, b)], ["/d", "/other"])

    def test_placeholders_are_not_reported(self):
        a = self.image([[entry("etc", "d", mode=0o755), entry("etc/hosts"), entry("run", "d", mode=0o755)]])
        b = self.image([[entry("etc", "d", mode=0o755)]])
        self.assertEqual(self.diffs(a, b), [])
        c = self.image([[entry("etc", "d", mode=0o755), entry("etc/hosts", data=b"127.0.0.1 x")]])
        self.assertEqual(len(self.diffs(c, b)), 1)

    def test_config_fields_and_normalization(self):
        a = self.image([[]], {"Env": ["A=1"], "Entrypoint": [], "Labels": {"io.buildah.version": "1.28"},
                              "Healthcheck": {"Test": ["CMD", "true"], "Interval": 0}})
        b = self.image([[]], {"Env": ["A=1"], "Healthcheck": {"Test": ["CMD", "true"]}})
        self.assertEqual(self.diffs(a, b), [])
        c = self.image([[]], {"Env": ["A=2"], "User": "nobody"})
        self.assertEqual(sorted(d.split(": ")[1] for d in self.diffs(a, c)), ["Env", "Healthcheck", "User"])

    def test_rules_ignore_fields_paths_config_and_add_mtime(self):
        a = self.image([[entry("date", data=b"mon"), entry("f", data=b"same")]], {"User": "a"})
        b = self.image([[entry("date", data=b"tue"), entry("f", data=b"same")]], {"User": "b"})
        self.assertEqual(len(self.diffs(a, b)), 2)
        self.assertEqual(self.diffs(a, b, "content /da* # the time\nconfig User # reason\n"), [])
        with self.assertRaises(compare.CompareError):
            self.diffs(a, b, "colour /x\n")

    def test_config_unordered_compares_values_not_order(self):
        a = self.image([[]], {"Env": ["A=1", "PATH=/x"]})
        b = self.image([[]], {"Env": ["PATH=/x", "A=1"]})
        c = self.image([[]], {"Env": ["PATH=/y", "A=1"]})
        self.assertEqual(len(self.diffs(a, b)), 1)
        self.assertEqual(self.diffs(a, b, "config-unordered Env # buildah moves a re-set variable last\n"), [])
        self.assertEqual(len(self.diffs(a, c, "config-unordered Env # reason\n")), 1)


if __name__ == "__main__":
    unittest.main()
