#!/usr/bin/env python3
"""Checks of the Helm chart charts/strata: lint, render, inspect the manifests, schema rejections.

usage: test_chart.py [--helm PATH] [--chart DIR] [--tools-dir BUILD_DIR] [-v]

helm is $HELM, else `helm` on PATH, else /opt/strata-tools/helm/helm (scripts/install-deps.sh
--tests puts it there); without it the test exits 77 (skipped). No cluster is needed: `helm lint
--strict` and `helm template` only. The rendered YAML is parsed (PyYAML, python3-yaml) and checked:
which objects exist for each value set (tests/charts/values/*.yaml), where the cache volume and the
credentials Secret are mounted, the arguments each tool gets, the securityContext (every pod passes
the Kubernetes "baseline" Pod Security Standard by default; chroot mode adds SYS_ADMIN and
nothing else), that values.schema.json / the templates' own checks refuse bad values, and (with --tools-dir) that
every rendered argument is a flag of the built tool whose value parses.
NOTES.txt is rendered through a copy of the chart that wraps it in a ConfigMap (helm template
does not print notes and `helm install --dry-run` wants a cluster).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import yaml
except ImportError:  # pragma: no cover
    print("test_chart: python3-yaml is not installed (scripts/install-deps.sh --tests): skipped")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
VALUES = os.path.join(HERE, "values")
HELM = None
CHART = os.path.join(SOURCE, "charts", "strata")
HELM_ENV = None
TOOLS_DIR = None

# Pod Security Standards, "baseline" level (kubernetes.io/docs/concepts/security/pod-security-standards).
BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                 "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
BASELINE_SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
BASELINE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                    "net.ipv4.tcp_keepalive_probes"}


def baseline_violations(pod_spec, pod_annotations=None):
    """Every way this pod spec breaks the "baseline" Pod Security Standard, as strings."""
    out = []
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(key):
            out.append(f"{key}: true")
    for v in pod_spec.get("volumes") or []:
        if "hostPath" in v:
            out.append(f"hostPath volume {v['name']}")
    psc = pod_spec.get("securityContext") or {}
    out += _context_violations("pod", psc)
    for sysctl in psc.get("sysctls") or []:
        if sysctl.get("name") not in BASELINE_SYSCTLS:
            out.append(f"sysctl {sysctl.get('name')}")
    for k, v in (pod_annotations or {}).items():
        if k.startswith("container.apparmor.security.beta.kubernetes.io/") and v == "unconfined":
            out.append(f"annotation {k}: unconfined")
    containers = (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []) + \
        (pod_spec.get("ephemeralContainers") or [])
    for c in containers:
        sc = c.get("securityContext") or {}
        where = f"container {c['name']}"
        if sc.get("privileged"):
            out.append(f"{where}: privileged")
        for cap in (sc.get("capabilities") or {}).get("add") or []:
            if cap not in BASELINE_CAPS:
                out.append(f"{where}: capability {cap} added")
        if sc.get("procMount", "Default") != "Default":
            out.append(f"{where}: procMount {sc['procMount']}")
        out += _context_violations(where, sc)
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.append(f"{where}: hostPort {p['hostPort']}")
    return out


def _context_violations(where, sc):
    out = []
    if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        out.append(f"{where}: seccomp Unconfined")
    if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        out.append(f"{where}: AppArmor Unconfined")
    se = sc.get("seLinuxOptions") or {}
    if se.get("type", "") not in BASELINE_SELINUX_TYPES or se.get("user") or se.get("role"):
        out.append(f"{where}: seLinuxOptions {se}")
    if (sc.get("windowsOptions") or {}).get("hostProcess"):
        out.append(f"{where}: hostProcess")
    return out


def helm(*args, check=True):
    p = subprocess.run([HELM, *args], env=HELM_ENV, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p


def render(*value_files, sets=(), set_strings=(), chart=None):
    """helm template → {(kind, name): object}."""
    args = ["template", "rel", chart or CHART, "--namespace", "builds"]
    for f in value_files:
        args += ["-f", os.path.join(VALUES, f)]
    for s in sets:
        args += ["--set", s]
    for s in set_strings:
        args += ["--set-string", s]
    docs = [d for d in yaml.safe_load_all(helm(*args).stdout) if d]
    objects = {}
    for d in docs:
        key = (d["kind"], d["metadata"]["name"])
        assert key not in objects, f"{key} rendered twice"
        objects[key] = d
    return objects


def pod_of(obj):
    """(pod metadata, pod spec) of a Job or CronJob."""
    if obj["kind"] == "CronJob":
        obj = obj["spec"]["jobTemplate"]
    t = obj["spec"]["template"]
    return t.get("metadata") or {}, t["spec"]


def executor_job(objs):
    """The executor's Job: named <fullname>-build-<hash of its arguments>."""
    jobs = [o for (kind, name), o in objs.items() if kind == "Job" and name.startswith("rel-strata-build-")]
    assert len(jobs) == 1, sorted(objs)
    return jobs[0]


def all_containers(spec):
    return (spec.get("initContainers") or []) + spec["containers"]


def mount(container, name):
    ms = [m for m in container.get("volumeMounts") or [] if m["name"] == name]
    return ms[0] if ms else None


def volume(spec, name):
    vs = [v for v in spec.get("volumes") or [] if v["name"] == name]
    return vs[0] if vs else None


def env(container):
    return {e["name"]: e.get("value") for e in container.get("env") or []}


class ChartTest(unittest.TestCase):
    maxDiff = None

    def assert_baseline(self, objects):
        for (kind, name), obj in objects.items():
            if kind in ("Job", "CronJob"):
                meta, spec = pod_of(obj)
                self.assertEqual(baseline_violations(spec, meta.get("annotations")), [], f"{kind}/{name}")

    def test_lint(self):
        helm("lint", "--strict", CHART)
        for f in sorted(os.listdir(VALUES)):
            with self.subTest(values=f):
                helm("lint", "--strict", CHART, "-f", os.path.join(VALUES, f))

    def test_defaults(self):
        objs = render()
        self.assertEqual(sorted(objs), [("CronJob", "rel-strata-prune"), ("PersistentVolumeClaim", "rel-strata-cache"),
                                        ("ServiceAccount", "rel-strata")])
        pvc = objs[("PersistentVolumeClaim", "rel-strata-cache")]
        self.assertEqual(pvc["spec"]["accessModes"], ["ReadWriteMany"])
        self.assertEqual(pvc["spec"]["resources"]["requests"]["storage"], "50Gi")
        self.assertNotIn("storageClassName", pvc["spec"])
        self.assertEqual(pvc["metadata"]["annotations"]["helm.sh/resource-policy"], "keep")
        self.assertFalse(objs[("ServiceAccount", "rel-strata")]["automountServiceAccountToken"])

        cron = objs[("CronJob", "rel-strata-prune")]
        self.assertEqual(cron["spec"]["schedule"], "30 3 * * *")
        self.assertEqual(cron["spec"]["concurrencyPolicy"], "Forbid")
        _, spec = pod_of(cron)
        self.assertEqual(spec["serviceAccountName"], "rel-strata")
        prune, gc = all_containers(spec)
        self.assertEqual(prune["command"], ["/kaniko/cachectl"])
        self.assertEqual(prune["args"], ["prune", "--cache-dir=/cache", "--older-than=14d"])
        self.assertEqual(gc["args"], ["gc", "--cache-dir=/cache"])
        self.assertEqual(volume(spec, "cache")["persistentVolumeClaim"]["claimName"], "rel-strata-cache")
        for c in (prune, gc):
            self.assertEqual(mount(c, "cache")["mountPath"], "/cache")
            self.assertFalse(mount(c, "cache").get("readOnly", False), "prune must write")
            self.assertEqual(c["securityContext"]["capabilities"], {"drop": ["ALL"]})
            self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
            self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
            self.assertEqual(mount(c, "tmp")["mountPath"], "/tmp")
        self.assert_baseline(objs)

    def test_default_executor_is_baseline_in_place_read_only(self):
        objs = render(sets=["executor.enabled=true", "executor.destinations[0]=registry.local:5000/team/app:1"])
        job = executor_job(objs)
        meta, spec = pod_of(job)
        self.assertEqual(meta["labels"]["app.kubernetes.io/component"], "executor")
        (c,) = spec["containers"]
        self.assertEqual(c["image"], "registry.example/strata:0.1.0")
        self.assertEqual(c["command"], ["/kaniko/executor"])
        self.assertEqual(c["args"], ["--context=dir:///workspace", "--dockerfile=Dockerfile",
                                     "--destination=registry.local:5000/team/app:1", "--cache-dir=/cache",
                                     "--cache-ttl=336h", "--isolation=in-place"])
        sc = c["securityContext"]
        self.assertIs(sc["privileged"], False)
        self.assertNotIn("capabilities", sc, "in-place runs with the runtime's default capabilities")
        self.assertNotIn("appArmorProfile", sc)
        self.assertEqual(spec["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertEqual(mount(c, "cache"), {"name": "cache", "mountPath": "/cache", "readOnly": True})
        self.assertIsNone(mount(c, "registry-credentials"), "no Secret named, none mounted")
        self.assertIsNone(volume(spec, "registry-credentials"))
        self.assertEqual(env(c)["DOCKER_CONFIG"], "/kaniko/.docker")
        self.assertEqual(spec["restartPolicy"], "Never")
        self.assertEqual(job["spec"]["backoffLimit"], 0)
        self.assert_baseline(objs)
        # Other arguments, another Job name (Jobs are immutable: an upgrade replaces the Job).
        other = render(sets=["executor.enabled=true", "executor.destinations[0]=registry.local:5000/team/app:2"])
        self.assertNotEqual(executor_job(other)["metadata"]["name"], job["metadata"]["name"])
        self.assertEqual(executor_job(render(sets=["executor.enabled=true",
                                                   "executor.destinations[0]=registry.local:5000/team/app:1"]))
                         ["metadata"]["name"], job["metadata"]["name"], "same values, same name")
        # The layer cache with the read-only mount: remote only (<destination repo>/cache), allowed.
        objs = render(sets=["executor.enabled=true", "executor.destinations[0]=registry.local:5000/team/app:1",
                            "executor.layerCache.enabled=true"])
        (c,) = pod_of(executor_job(objs))[1]["containers"]
        self.assertIn("--cache=true", c["args"])
        self.assertNotIn("--cache-repo", " ".join(c["args"]))
        self.assertTrue(mount(c, "cache")["readOnly"])

    def test_full_values(self):
        objs = render("full.yaml")
        self.assertEqual(sorted(k for k, _ in objs), ["ConfigMap", "CronJob", "CronJob", "Job", "Job",
                                                      "PersistentVolumeClaim", "ServiceAccount"])
        pvc = objs[("PersistentVolumeClaim", "rel-strata-cache")]
        self.assertEqual(pvc["spec"]["storageClassName"], "fast-rwx")
        self.assertEqual(pvc["spec"]["resources"]["requests"]["storage"], "200Gi")

        # Warmer: the images in one run, then one run per Dockerfile, in order, the last as the container.
        cm = objs[("ConfigMap", "rel-strata-warmer-dockerfiles")]
        self.assertEqual(cm["data"]["app"], "ARG BASE_TAG=3.12\nFROM registry.local:5000/base/python:${BASE_TAG}\n")
        self.assertIn("FROM alpine:3.20 AS build\n", cm["data"]["tools"])
        job = objs[("Job", "rel-strata-warmer")]
        self.assertEqual(job["metadata"]["annotations"]["helm.sh/hook"], "post-install,post-upgrade")
        for warmer in (job, objs[("CronJob", "rel-strata-warmer")]):
            meta, spec = pod_of(warmer)
            self.assertEqual([c["name"] for c in spec["initContainers"]], ["warm-images", "warm-app"])
            self.assertEqual([c["name"] for c in spec["containers"]], ["warm-tools"])
            common = ["--parallel-downloads=4", "--force", "--registry-mirror=mirror.local"]
            images, app = spec["initContainers"]
            (tools,) = spec["containers"]
            self.assertEqual(images["args"], ["--cache-dir=/cache", "--cache-ttl=72h", "--image=debian:bookworm",
                                              "--image=registry.local:5000/base/python:3.12", *common])
            self.assertEqual(app["args"], ["--cache-dir=/cache", "--cache-ttl=72h",
                                           "--dockerfile=/warmer/dockerfiles/app", "--build-arg=BASE_TAG=3.12",
                                           *common])
            self.assertEqual(tools["args"][2], "--dockerfile=/warmer/dockerfiles/tools")
            for c in spec["initContainers"] + spec["containers"]:
                self.assertEqual(c["command"], ["/kaniko/warmer"])
                self.assertEqual(c["image"], "registry.local:5000/strata:1.2.3")
                self.assertFalse(mount(c, "cache").get("readOnly", False), "the warmer writes the cache")
                self.assertEqual(mount(c, "registry-credentials"),
                                 {"name": "registry-credentials", "mountPath": "/kaniko/.docker", "readOnly": True})
                self.assertEqual(mount(c, "dockerfiles")["mountPath"], "/warmer/dockerfiles")
                self.assertEqual(env(c), {"DOCKER_CONFIG": "/kaniko/.docker", "HTTPS_PROXY": "http://proxy.local:3128"})
            self.assertEqual(volume(spec, "dockerfiles")["configMap"]["name"], "rel-strata-warmer-dockerfiles")
            self.assertEqual(spec["imagePullSecrets"], [{"name": "pull-strata"}])
            self.assertEqual(spec["nodeSelector"], {"pool": "builds"})
            self.assertEqual(spec["tolerations"][0]["key"], "dedicated")
            self.assertIn("nodeAffinity", spec["affinity"])
        self.assertEqual(objs[("CronJob", "rel-strata-warmer")]["spec"]["schedule"], "0 */4 * * *")

        # The credentials Secret: a dockerconfigjson key, exposed as config.json, read-only.
        _, spec = pod_of(executor_job(objs))
        self.assertEqual(volume(spec, "registry-credentials")["secret"],
                         {"secretName": "regcred", "defaultMode": 0o400,
                          "items": [{"key": ".dockerconfigjson", "path": "config.json"}]})

        # Executor: every value becomes its flag; the local layer cache needs the rw mount.
        (c,) = spec["containers"]
        self.assertEqual(c["args"], [
            "--context=dir:///workspace", "--dockerfile=docker/Dockerfile",
            "--destination=registry.local:5000/team/app:1.2", "--destination=registry.local:5000/team/app:latest",
            "--build-arg=VERSION=1.2", "--build-arg=HTTP_PROXY", "--label=org.opencontainers.image.version=1.2",
            "--target=runtime", "--reproducible", "--cache-dir=/cache", "--cache=true", "--cache-ttl=72h",
            "--cache-run-layers=true", "--cache-copy-layers=true", "--compressed-caching=true",
            "--isolation=in-place"])
        self.assertEqual(mount(c, "cache")["readOnly"], False)
        self.assertEqual(mount(c, "registry-credentials")["mountPath"], "/kaniko/.docker")
        self.assertEqual(mount(c, "workspace"), {"name": "workspace", "mountPath": "/workspace", "readOnly": True})
        self.assertEqual(volume(spec, "workspace")["persistentVolumeClaim"], {"claimName": "app-src", "readOnly": True})
        self.assertEqual(c["resources"]["limits"]["memory"], "8Gi")
        self.assertEqual(spec["nodeSelector"], {"pool": "big-builds"}, "the component's own value wins")

        # Prune policy.
        _, spec = pod_of(objs[("CronJob", "rel-strata-prune")])
        self.assertEqual(spec["initContainers"][0]["args"], [
            "prune", "--cache-dir=/cache", "--older-than=7d", "--max-used-space=150GiB", "--keep-last=3",
            "--keep=registry.local:5000/base/python:3.12"])
        self.assertEqual(objs[("CronJob", "rel-strata-prune")]["spec"]["schedule"], "15 2 * * 0")
        self.assert_baseline(objs)

    def test_chroot_adds_only_sys_admin(self):
        objs = render("chroot.yaml")
        meta, spec = pod_of(executor_job(objs))
        (c,) = spec["containers"]
        self.assertIn("--isolation=chroot", c["args"])
        sc = c["securityContext"]
        self.assertEqual(sc["capabilities"], {"add": ["SYS_ADMIN"]})
        self.assertIs(sc["privileged"], False)
        self.assertEqual(sc["appArmorProfile"], {"type": "Unconfined"})
        self.assertEqual(sorted(baseline_violations(spec, meta.get("annotations"))),
                         ["container executor: AppArmor Unconfined", "container executor: capability SYS_ADMIN added"])
        # The warmer does not change with the isolation mode.
        _, wspec = pod_of(objs[("Job", "rel-strata-warmer")])
        self.assertEqual(baseline_violations(wspec), [])
        self.assertEqual(wspec["containers"][0]["securityContext"]["capabilities"], {"drop": ["ALL"]})
        # Without AppArmor on the nodes the profile can be left out: only the capability remains.
        objs = render("chroot.yaml", set_strings=["isolation.chroot.appArmorProfile="])
        meta, spec = pod_of(executor_job(objs))
        self.assertNotIn("appArmorProfile", spec["containers"][0]["securityContext"])
        self.assertEqual(baseline_violations(spec), ["container executor: capability SYS_ADMIN added"])

    def test_existing_rwo_claim(self):
        objs = render("rwo-existing.yaml")
        self.assertEqual([k for k, _ in objs], ["Job"], "no PVC, no ServiceAccount, no prune CronJob")
        _, spec = pod_of(executor_job(objs))
        self.assertEqual(spec["serviceAccountName"], "builder")
        self.assertEqual(volume(spec, "cache")["persistentVolumeClaim"]["claimName"], "strata-cache")
        args = spec["containers"][0]["args"]
        self.assertIn("--no-push", args)
        self.assertFalse([a for a in args if a.startswith("--destination")])
        self.assertEqual(args[:3], ["--context=git://git.local/app.git#refs/heads/main", "--dockerfile=Dockerfile",
                                    "--context-sub-path=svc"])
        self.assertIsNone(volume(spec, "workspace"), "a remote context needs no workspace volume")
        # RWO: the claim is created with that mode when the chart makes it.
        objs = render(set_strings=["cache.persistence.accessMode=ReadWriteOnce", "cache.persistence.storageClass=-"])
        pvc = objs[("PersistentVolumeClaim", "rel-strata-cache")]
        self.assertEqual(pvc["spec"]["accessModes"], ["ReadWriteOnce"])
        self.assertEqual(pvc["spec"]["storageClassName"], "", '"-" means no storage class')

    def test_image_digest_and_fullname(self):
        digest = "sha256:" + "ab" * 32
        objs = render(sets=["fullnameOverride=ci-cache", "warmer.images[0]=debian:bookworm", "warmer.hookJob=false"],
                      set_strings=[f"image.digest={digest}"])
        job = objs[("Job", "ci-cache-warmer")]
        self.assertNotIn("annotations", job["metadata"])
        self.assertEqual(pod_of(job)[1]["containers"][0]["image"], f"registry.example/strata@{digest}")
        self.assertIn(("PersistentVolumeClaim", "ci-cache-cache"), objs)

    def test_pod_security_context_merges(self):
        objs = render(sets=["podSecurityContext.fsGroup=1000", "podSecurityContext.runAsUser=1000"])
        _, spec = pod_of(objs[("CronJob", "rel-strata-prune")])
        self.assertEqual(spec["securityContext"], {"fsGroup": 1000, "runAsUser": 1000,
                                                   "seccompProfile": {"type": "RuntimeDefault"}})
        # The executor stays root in its container whatever the pod says.
        objs = render(sets=["podSecurityContext.runAsUser=1000", "executor.enabled=true", "executor.noPush=true"])
        _, spec = pod_of(executor_job(objs))
        self.assertEqual(spec["containers"][0]["securityContext"]["runAsUser"], 0)
        # An explicit Unconfined seccomp profile is the user's choice, and the checker sees it.
        objs = render(set_strings=["podSecurityContext.seccompProfile.type=Unconfined"])
        _, spec = pod_of(objs[("CronJob", "rel-strata-prune")])
        self.assertEqual(baseline_violations(spec), ["pod: seccomp Unconfined"])

    def test_schema_and_template_checks_reject_bad_values(self):
        bad = [
            (["--set-string", "cache.persistence.accessMode=ReadOnlyMany"], "cache.persistence.accessMode"),
            (["--set-string", "cache.persistence.accessMode=ReadWriteOncePod"], "cache.persistence.accessMode"),
            (["--set-string", "warmer.parallelDownloads=four"], "warmer.parallelDownloads"),
            (["--set", "warmer.images=debian"], "warmer.images"),
            (["--set-string", "executor.cacheMount.readOnly=yes"], "executor.cacheMount.readOnly"),
            (["--set-string", "isolation.mode=privileged"], "isolation.mode"),
            (["--set-string", "cache.persistence.size=lots"], "cache.persistence.size"),
            (["--set-string", "cache.ttl=two weeks"], "cache.ttl"),
            (["--set-string", "cachectl.prune.schedule=daily"], "cachectl.prune.schedule"),
            (["--set-string", "cachectl.prune.maxUsedSpace=big"], "cachectl.prune.maxUsedSpace"),
            (["--set", "cachectl.prune.keepLast=-1"], "cachectl.prune.keepLast"),
            (["--set", "privileged=true"], "privileged"),
            (["--set", "executor.privileged=true"], "executor"),
            (["--set", "warmer.dockerfiles[0].name=App", "--set", "warmer.dockerfiles[0].content=FROM x"],
             "warmer.dockerfiles.0.name"),
            (["--set", "warmer.dockerfiles[0].name=app"], "content"),
            (["--set-string", "image.digest=latest"], "image.digest"),
            (["--set", "executor.enabled=true"], "executor.destinations is empty"),
            (["--set", "executor.enabled=true", "--set", "executor.noPush=true",
              "--set", "executor.layerCache.enabled=true"], "nowhere to keep layers"),
        ]
        for args, expect in bad:
            with self.subTest(args=args):
                p = helm("template", "rel", CHART, *args, check=False)
                self.assertNotEqual(p.returncode, 0, f"accepted: {args}\n{p.stdout[:400]}")
                self.assertIn(expect, p.stderr)
        # The same values with the right types pass.
        render(sets=["warmer.parallelDownloads=8", "cachectl.prune.keepLast=2", "executor.enabled=true",
                     "executor.noPush=true", "executor.layerCache.enabled=true",
                     "executor.layerCache.repo=registry.local:5000/cache"],
               set_strings=["cache.persistence.size=1Ti", "cache.ttl=24h", "cachectl.prune.maxUsedSpace=40GiB",
                            "cachectl.prune.schedule=@daily"])

    def test_args_are_real_flags_of_the_tools(self):
        """Every argument the chart renders is a flag of the built tool and its value parses:
        the flag's name is in `TOOL [SUBCOMMAND] --help`, and `TOOL ARGS... --help` exits 0 (CLI11
        converts and checks every value before it acts on --help; nothing is built or fetched)."""
        if not TOOLS_DIR or not all(os.access(os.path.join(TOOLS_DIR, t), os.X_OK)
                                    for t in ("executor", "warmer", "cachectl")):
            self.skipTest("no --tools-dir with the built executor, warmer, cachectl")
        help_flags = {}

        def flags_of(argv):
            key = tuple(argv)
            if key not in help_flags:
                p = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 0, p.stderr)
                help_flags[key] = set(re.findall(r"--[a-z0-9][a-z0-9-]*", p.stdout))
            return help_flags[key]

        checked = 0
        for values in (["full.yaml"], ["chroot.yaml"], ["rwo-existing.yaml"], []):
            objs = render(*values, sets=["warmer.images[0]=debian:bookworm"] if not values else [])
            for (kind, name), obj in objs.items():
                if kind not in ("Job", "CronJob"):
                    continue
                for c in all_containers(pod_of(obj)[1]):
                    tool = os.path.basename(c["command"][0])
                    argv = [os.path.join(TOOLS_DIR, tool)]
                    args = list(c["args"])
                    if tool == "cachectl":
                        argv.append(args.pop(0))  # the subcommand
                    known = flags_of(argv)
                    for a in args:
                        self.assertTrue(a.startswith("--"), f"{kind}/{name} {c['name']}: {a}")
                        self.assertIn(a.split("=", 1)[0], known, f"{kind}/{name} {c['name']}: {a}")
                    p = subprocess.run([*argv, *args, "--help"], capture_output=True, text=True, timeout=30)
                    self.assertEqual(p.returncode, 0, f"{kind}/{name} {c['name']}: {args}\n{p.stderr}")
                    checked += 1
        self.assertGreaterEqual(checked, 10)

    def test_notes(self):
        with tempfile.TemporaryDirectory(prefix="strata-chart-") as tmp:
            chart = os.path.join(tmp, "strata")
            shutil.copytree(CHART, chart)
            shutil.copy(os.path.join(chart, "templates", "NOTES.txt"), os.path.join(chart, "notes.txt"))
            with open(os.path.join(chart, "templates", "zz-notes.yaml"), "w") as f:
                f.write('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n'
                        'data:\n  notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n')
            notes = render(chart=chart)[("ConfigMap", "notes")]["data"]["notes"]
            self.assertIn("PVC rel-strata-cache (50Gi, ReadWriteMany)", notes)
            self.assertIn("nothing to warm", notes)
            self.assertIn('"baseline"', notes)
            notes = render("full.yaml", chart=chart)[("ConfigMap", "notes")]["data"]["notes"]
            self.assertIn("fetches 2 image(s) and the FROM images of 2 Dockerfile(s)", notes)
            self.assertIn("Secret regcred at /kaniko/.docker", notes)
            self.assertIn("mounted read-write at /cache", notes)
            notes = render("chroot.yaml", chart=chart)[("ConfigMap", "notes")]["data"]["notes"]
            self.assertIn("CAP_SYS_ADMIN", notes)
            self.assertIn("mounted read-only at /cache", notes)


def find_helm(explicit):
    for candidate in (explicit, os.environ.get("HELM"), shutil.which("helm"), "/opt/strata-tools/helm/helm"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main():
    global HELM, CHART, HELM_ENV, TOOLS_DIR
    ap = argparse.ArgumentParser()
    ap.add_argument("--helm")
    ap.add_argument("--chart", default=CHART)
    ap.add_argument("--tools-dir", help="build dir with executor, warmer, cachectl: check the rendered args")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args()
    TOOLS_DIR = opts.tools_dir
    HELM = find_helm(opts.helm)
    if not HELM:
        print("test_chart: helm not found ($HELM, PATH, /opt/strata-tools/helm/helm; "
              "scripts/install-deps.sh --tests installs it): skipped")
        return 77
    CHART = os.path.abspath(opts.chart)
    with tempfile.TemporaryDirectory(prefix="strata-helm-home-") as home:
        HELM_ENV = dict(os.environ, HELM_CACHE_HOME=f"{home}/cache", HELM_CONFIG_HOME=f"{home}/config",
                        HELM_DATA_HOME=f"{home}/data", KUBECONFIG=os.devnull)
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(ChartTest)
        result = unittest.TextTestRunner(verbosity=2 if opts.verbose else 1).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
