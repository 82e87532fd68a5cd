#!/usr/bin/env python3
"""Credentials never appear in any output, at any verbosity (docs/reliability.md).

usage: test_credentials.py --warmer PATH --executor PATH --cachectl PATH [--keep]

Two TLS registries: htpasswd (Basic) and token auth (tests/integration/support/token_server.py,
which writes every token it issues to a log). DOCKER_CONFIG/config.json holds the `auth` field
(base64 user:password) for the first, and once `auth`, once an `identitytoken` (OAuth2 refresh
grant) for the second. For each of those three, at -v trace, debug, info and --log-format json:
the executor builds and pushes an image, the warmer pulls it, `cachectl verify --repair --refetch`
fetches a damaged blob again, cachectl ls/inspect/verify/du read the cache.
Then the same with a wrong password (the runs must fail). Every stdout/stderr is searched for
the passwords, the base64 auth strings, the identity token, every token the token server issued
(whole, and the signature part), and any `Authorization`/Basic/Bearer header value. Any hit fails.
Exit 0 pass, 1 fail, 77 skipped.
"""
import base64
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as F  # noqa: E402

HEADER_VALUE = re.compile(r"(authorization\s*[:=]\s*\S+)|((basic|bearer)\s+[A-Za-z0-9+/=._~-]{12,})", re.I)
LEVELS = [["-v", "trace"], ["-v", "debug"], ["-v", "info"], ["-v", "trace", "--log-format", "json"]]


def b64(user, password):
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def main():
    args = F.tool_args(sys.argv[1:])
    F.require(["docker-registry", "openssl", "htpasswd", args.warmer, args.executor, args.cachectl])
    with F.Session("creds", args.keep) as s:
        user = "tester"
        password = "pw-" + os.urandom(9).hex()
        wrong = "wrong-" + os.urandom(9).hex()
        basic = s.registry("basic", auth="htpasswd", user=user, password=password)
        token = s.registry("token", auth="token", user=user, password=password)
        ca = os.path.join(s.ca_dir, "ca.crt")
        secrets = {password, wrong, b64(user, password), b64(user, wrong), token.identity_token}

        ctx = s.path("ctx")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY hello.txt /hello.txt\n")
        with open(os.path.join(ctx, "hello.txt"), "w") as f:
            f.write("hello\n")

        outputs = []  # (what, text)

        def config(name, reg, entry):
            d = s.path("docker-" + name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump({"auths": {reg.host: entry}}, f)
            return dict(os.environ, DOCKER_CONFIG=d)

        setups = [("basic-auth", basic, {"auth": b64(user, password)}, {"auth": b64(user, wrong)}),
                  ("token-auth", token, {"auth": b64(user, password)}, {"auth": b64(user, wrong)}),
                  ("token-identity", token, {"auth": b64(user, ""), "identitytoken": token.identity_token},
                   {"auth": b64(user, ""), "identitytoken": "not-" + token.identity_token})]
        secrets.add("not-" + token.identity_token)
        n = 0
        for name, reg, good, bad in setups:
            env = config(name, reg, good)
            certs = ["--registry-certificate", f"{reg.host}={ca}"]
            for level in LEVELS:
                n += 1
                what = f"{name} {' '.join(level)}"
                dest = f"{reg.host}/creds/img:{name}"
                cache = s.path(f"cache-{n}")
                rc, out = F.run_tool([args.executor, "--context", ctx, "--destination", dest, "--cache-dir", cache,
                                      "--kaniko-dir", s.path(f"kaniko-{n}"), *certs, *level], env=env, timeout=120)
                outputs.append((f"executor {what}", out))
                F.check(rc == 0, f"executor push ({what}) failed: {rc}\n{out[-2000:]}")
                rc, out = F.run_tool([args.warmer, "--cache-dir", cache, "--image", dest, *certs, *level], env=env)
                outputs.append((f"warmer {what}", out))
                F.check(rc == 0, f"warmer ({what}) failed: {rc}\n{out[-2000:]}")
                # cachectl talks to the registry in `verify --repair --refetch`: damage a blob first.
                blobs = os.path.join(cache, "blobs", "sha256")
                victim = max((os.path.join(blobs, b) for b in os.listdir(blobs)), key=os.path.getsize)
                with open(victim, "ab") as f:
                    f.write(b"damage")
                rc, out = F.run_tool([args.cachectl, "verify", "--repair", "--refetch", "--cache-dir", cache, *certs,
                                      *level], env=env)
                outputs.append((f"cachectl verify --refetch {what}", out))
                F.check(rc == 0, f"cachectl verify --repair --refetch ({what}) failed: {rc}\n{out[-2000:]}")
                F.check(os.path.exists(victim) and not F.stray_files(cache),
                        f"cachectl verify --repair --refetch ({what}) did not fetch the blob again")
                for sub in (["ls"], ["inspect", dest], ["verify"], ["du"]):
                    rc, out = F.run_tool([args.cachectl, *sub, "--cache-dir", cache, *level], env=env)
                    outputs.append((f"cachectl {sub[0]} {what}", out))
                    F.check(rc == 0, f"cachectl {sub[0]} ({what}) failed: {rc}\n{out[-2000:]}")
            env = config(name + "-bad", reg, bad)
            for level in LEVELS:
                what = f"{name} wrong credentials {' '.join(level)}"
                dest = f"{reg.host}/creds/img:{name}"
                rc, out = F.run_tool([args.warmer, "--cache-dir", s.path("cache-bad"), "--image", dest, "--force",
                                      *certs, *level], env=env)
                outputs.append((f"warmer {what}", out))
                F.check(rc != 0, f"warmer ({what}) should fail")
                F.check(re.search(r"unauthori[sz]ed|denied|401|credentials", out, re.I),
                        f"warmer ({what}): the error does not say the login failed:\n{out[-1500:]}")
                rc, out = F.run_tool([args.executor, "--context", ctx, "--destination", dest + "-bad", "--cache-dir",
                                      s.path("cache-bad"), "--kaniko-dir", s.path("kaniko-bad"), "--push-retry", "0",
                                      *certs, *level], env=env, timeout=120)
                outputs.append((f"executor {what}", out))
                F.check(rc != 0, f"executor push ({what}) should fail")
        with open(token.token_log) as f:
            issued = [t.strip() for t in f if t.strip()]
        F.check(len(issued) > 0, "the token server issued no tokens: token auth was not exercised")
        for t in issued:
            secrets.add(t)
            if t.count(".") == 2:
                secrets.add(t.rsplit(".", 1)[1])  # the JWT signature alone
        # The scanner itself must see a leak (a test that cannot fail proves nothing).
        planted = [("planted", f"x Authorization: Basic {b64(user, password)}"), ("planted", f"token={issued[0]}")]
        hits = []
        for what, text in planted + outputs:
            for secret in secrets:
                if secret and secret in text:
                    hits.append(f"{what}: contains a secret ({secret[:6]}...)")
            m = HEADER_VALUE.search(text)
            if m:
                hits.append(f"{what}: header value in output: {m.group(0)[:40]}")
        F.log(f"{len(outputs)} outputs ({sum(len(t) for _, t in outputs)} bytes) searched for "
              f"{len(secrets)} secrets ({len(issued)} issued tokens)")
        F.check(len([h for h in hits if h.startswith("planted")]) >= 3, f"the scanner missed planted leaks: {hits}")
        hits = [h for h in hits if not h.startswith("planted")]
        F.check(not hits, "credentials in output:\n" + "\n".join(hits[:30]))


if __name__ == "__main__":
    F.main_wrapper(main)
