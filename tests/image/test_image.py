#!/usr/bin/env python3
"""Strata's own runtime image (the repository's Dockerfile), built by scripts/build-image.sh with
Strata's own executor, checked from outside.

usage: test_image.py --build-dir DIR [--keep]

1. scripts/build-image.sh --build-dir DIR writes the image into an OCI layout (temp dir).
2. The build is reproducible (a second run gives the same digest). The image config: entrypoint /kaniko/executor, PATH with /kaniko/bin (docker-credential-*
   helpers) first, DOCKER_CONFIG=/kaniko/.docker, working dir /workspace.
3. `umoci unpack` gives the rootfs: the tools and their libraries live under /kaniko only (no
   /lib, /lib64, /usr: the tools' ELF interpreter and RPATH point at /kaniko/lib), CA bundle, busybox.
4. chroot into the rootfs with the image's environment only (env -i): `executor --help`,
   `warmer --help`, `cachectl --help` run (exit 0, their own first line), found through PATH.
5. The credential-helper lookup path works for real: a docker-credential-* helper dropped into
   /kaniko/bin and named in /kaniko/.docker/config.json answers for a local docker-registry with
   htpasswd auth; the warmer inside the chroot caches the image that needs those credentials.

Needs root (chroot), umoci, docker-registry, htpasswd, skopeo, patchelf, busybox-static and the
three built tools; exits 77 (skipped) without them.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
BUILD_DIR = None
KEEP = False
TOOLS = ("executor", "warmer", "cachectl")
FIRST_LINES = {
    "executor": "executor builds a container image from a Dockerfile without a Docker daemon",
    "warmer": "warmer pre-fetches base images into a cache directory",
    "cachectl": "cachectl administers a strata cache directory",
}


def run(argv, timeout=300, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Image(unittest.TestCase):
    tmp = None
    rootfs = None
    config = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="strata-image-test-")
        oci = os.path.join(cls.tmp, "oci")
        p = run(["bash", os.path.join(SOURCE, "scripts", "build-image.sh"), "--build-dir", BUILD_DIR,
                 "--oci-layout-path", oci], timeout=900)
        if p.returncode != 0:
            raise AssertionError(f"build-image.sh failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        cls.digest = p.stdout.strip().splitlines()[-1]
        with open(os.path.join(oci, "index.json")) as f:
            index = json.load(f)
        cls.index = index
        bundle = os.path.join(cls.tmp, "bundle")
        p = run(["umoci", "unpack", "--image", f"{oci}:latest", bundle])
        if p.returncode != 0:
            raise AssertionError(f"umoci unpack failed:\n{p.stderr}")
        cls.rootfs = os.path.join(bundle, "rootfs")
        with open(os.path.join(bundle, "config.json")) as f:
            cls.runtime = json.load(f)  # the OCI runtime config umoci derived from the image config
        blob = os.path.join(oci, "blobs", *cls.digest.split(":"))
        with open(blob) as f:
            manifest = json.load(f)
        with open(os.path.join(oci, "blobs", *manifest["config"]["digest"].split(":"))) as f:
            cls.config = json.load(f)["config"]

    @classmethod
    def tearDownClass(cls):
        if cls.tmp and not KEEP:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        elif cls.tmp:
            print(f"test_image: keeping {cls.tmp}", file=sys.stderr)

    def image_env(self):
        return list(self.config["Env"])

    def in_image(self, *argv, extra_env=(), timeout=120):
        """Runs argv chrooted into the rootfs with the image's environment and nothing else."""
        return run(["chroot", self.rootfs, "/busybox/env", "-i", *self.image_env(), *extra_env, *argv],
                   timeout=timeout)

    def test_config(self):
        self.assertEqual(self.index["manifests"][0]["digest"], self.digest)
        self.assertEqual(self.config["Entrypoint"], ["/kaniko/executor"])
        self.assertEqual(self.config["WorkingDir"], "/workspace")
        env = dict(e.split("=", 1) for e in self.config["Env"])
        self.assertEqual(env["PATH"].split(":")[:3], ["/kaniko/bin", "/kaniko", "/busybox"])
        self.assertEqual(env["DOCKER_CONFIG"], "/kaniko/.docker")
        self.assertEqual(env["SSL_CERT_FILE"], "/kaniko/ssl/certs/ca-certificates.crt")

    def test_reproducible(self):
        """--reproducible: the same binaries give the same image digest."""
        p = run(["bash", os.path.join(SOURCE, "scripts", "build-image.sh"), "--build-dir", BUILD_DIR,
                 "--oci-layout-path", os.path.join(self.tmp, "oci-again")], timeout=900)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip().splitlines()[-1], self.digest)

    def test_layout(self):
        r = self.rootfs
        for t in TOOLS:
            self.assertTrue(os.access(os.path.join(r, "kaniko", t), os.X_OK), t)
        for absent in ("lib", "lib64", "usr"):
            self.assertFalse(os.path.lexists(os.path.join(r, absent)), f"/{absent} in the image")
        libs = os.listdir(os.path.join(r, "kaniko", "lib"))
        self.assertIn("ld-linux-x86-64.so.2", libs)
        for lib in ("libc.so.6", "libcurl.so.4", "librocksdb.so.7.8", "libstdc++.so.6", "libssl.so.3"):
            self.assertIn(lib, libs)
        for t in TOOLS:  # every library a tool needs is in the image, found through its RPATH
            p = run(["patchelf", "--print-interpreter", "--print-rpath", os.path.join(r, "kaniko", t)])
            self.assertEqual(p.stdout.split(), ["/kaniko/lib/ld-linux-x86-64.so.2", "/kaniko/lib"], t)
        for ca in ("kaniko/ssl/certs/ca-certificates.crt", "etc/ssl/certs/ca-certificates.crt"):
            with open(os.path.join(r, ca)) as f:
                self.assertIn("BEGIN CERTIFICATE", f.read(), ca)
        self.assertTrue(os.path.isdir(os.path.join(r, "kaniko", "bin")))
        self.assertTrue(os.path.isdir(os.path.join(r, "kaniko", ".docker")))
        self.assertEqual(os.stat(os.path.join(r, "tmp")).st_mode & 0o7777, 0o1777)
        self.assertEqual(os.readlink(os.path.join(r, "busybox", "sh")), "busybox")

    def test_help_runs_inside(self):
        for t in TOOLS:
            with self.subTest(tool=t):
                p = self.in_image(t, "--help")  # found through the image's PATH
                self.assertEqual(p.returncode, 0, f"{t} --help: {p.stderr}")
                self.assertTrue(p.stdout.startswith(FIRST_LINES[t]), p.stdout[:200])
        p = self.in_image("/kaniko/executor", "--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.in_image("sh", "-c", "command -v warmer; echo $DOCKER_CONFIG")
        self.assertEqual(p.stdout.split(), ["/kaniko/warmer", "/kaniko/.docker"])

    def test_credential_helper_on_path(self):
        for tool in ("docker-registry", "htpasswd", "skopeo"):
            if not shutil.which(tool):
                self.skipTest(f"{tool} not installed")
        work = tempfile.mkdtemp(prefix="registry-", dir=self.tmp)
        user, password = "strata", "s3cret-" + str(os.getpid())
        htpasswd = os.path.join(work, "htpasswd")
        subprocess.run(["htpasswd", "-Bbc", htpasswd, user, password], check=True, capture_output=True)
        port = free_port()
        cfg = os.path.join(work, "config.yml")
        with open(cfg, "w") as f:
            f.write(f"version: 0.1\nstorage: {{filesystem: {{rootdirectory: {work}/data}}}}\n"
                    f"http: {{addr: 127.0.0.1:{port}}}\n"
                    f"auth: {{htpasswd: {{realm: strata, path: {htpasswd}}}}}\n")
        log = open(os.path.join(work, "registry.log"), "w")
        registry = subprocess.Popen(["docker-registry", "serve", cfg], stdout=log, stderr=log)
        try:
            deadline = time.time() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline or registry.poll() is not None:
                        self.fail(f"docker-registry did not start (log in {work})")
                    time.sleep(0.05)
            host = f"127.0.0.1:{port}"
            p = run([sys.executable, os.path.join(SOURCE, "tests", "make-base-image.py"), "--push",
                     f"{host}/base/busybox:1", "--insecure", "--dest-creds", f"{user}:{password}",
                     os.path.join(work, "base-oci"), "1"])
            self.assertEqual(p.returncode, 0, p.stderr)

            # The helper: a busybox sh script in /kaniko/bin, named by credHelpers in config.json.
            helper = os.path.join(self.rootfs, "kaniko", "bin", "docker-credential-strata-test")
            calls = "/tmp/helper-calls"
            with open(helper, "w") as f:
                f.write("#!/busybox/sh\nread server\necho \"$1 $server\" >> " + calls + "\n"
                        f"printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}' "
                        "\"$server\"\n")
            os.chmod(helper, 0o755)
            with open(os.path.join(self.rootfs, "kaniko", ".docker", "config.json"), "w") as f:
                json.dump({"credHelpers": {host: "strata-test"}}, f)
            try:
                p = self.in_image("warmer", "--cache-dir", "/tmp/cache", "--insecure-registry", host,
                                  "--image", f"{host}/base/busybox:1")
                self.assertEqual(p.returncode, 0, f"warmer in the image: {p.stdout}\n{p.stderr}")
                with open(os.path.join(self.rootfs, calls.lstrip("/"))) as f:
                    self.assertIn(f"get {host}", f.read())
                self.assertNotIn(password, p.stdout + p.stderr, "credentials in the log")
                p = self.in_image("cachectl", "ls", "--cache-dir", "/tmp/cache", "--json")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(f"{host}/base/busybox:1", p.stdout)
                # The helper is looked up on PATH: gone from /kaniko/bin, it is not found.
                os.unlink(helper)
                warm_again = ["warmer", "--cache-dir", "/tmp/cache2", "--insecure-registry", host,
                              "--image", f"{host}/base/busybox:1"]
                p = self.in_image(*warm_again)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn("docker-credential-strata-test not found", p.stderr)
                # Without any credentials the registry refuses: the helper really was what answered.
                os.unlink(os.path.join(self.rootfs, "kaniko", ".docker", "config.json"))
                p = self.in_image(*warm_again)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn("unauthorized", p.stderr.lower())
            finally:
                for path in (helper, os.path.join(self.rootfs, "kaniko", ".docker", "config.json")):
                    if os.path.exists(path):
                        os.unlink(path)
        finally:
            registry.kill()
            registry.wait()
            log.close()


def main():
    global BUILD_DIR, KEEP
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (image, rootfs)")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args()
    BUILD_DIR = os.path.abspath(opts.build_dir)
    KEEP = opts.keep
    if os.geteuid() != 0:
        print("test_image: needs root (chroot): skipped")
        return 77
    missing = [t for t in ("umoci", "patchelf", "busybox", "chroot", "strip") if not shutil.which(t)]
    missing += [t for t in TOOLS if not os.access(os.path.join(BUILD_DIR, t), os.X_OK)]
    if missing:
        print(f"test_image: missing {', '.join(missing)} (scripts/install-deps.sh --tests; build the tools): skipped")
        return 77
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Image)
    result = unittest.TextTestRunner(verbosity=2 if opts.verbose else 1).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
