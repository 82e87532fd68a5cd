#!/usr/bin/env python3
"""A Docker registry token server for integration tests (Python 3 stdlib + the openssl CLI).

The distribution spec's token flow: a registry configured with `auth.token` answers 401 with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`; the client asks this server for a
token (GET with optional Basic auth, or the OAuth2 POST form), then retries with
`Authorization: Bearer <token>`. The token is a JWT signed RS256 whose header carries the signing
certificate in `x5c`; the registry accepts it if that certificate chains to its
`rootcertbundle`, `iss` is its issuer, `aud` its service and the `access` claim covers the request.

Endpoints
  GET  /token?service=S&scope=T:NAME:ACTIONS[&scope=...][&offline_token=true][&account=U]
  POST /token   form: grant_type=password|refresh_token, username, password, refresh_token,
                service, scope, client_id, access_type
  GET  /stats   counters and the recent requests (also on the plain-HTTP admin port)
--token-log FILE appends every issued access and refresh token (tests grep outputs for them).

Grants: the configured user (Basic auth or password grant) or a holder of a refresh token gets
the requested actions that are in --allowed-actions; anonymous requests get `pull` only with
--anonymous-pull, else 401; wrong credentials get 401. --no-oauth makes POST answer 404, as
registries without OAuth2 support do, so clients' fallback to GET can be tested.

On start it prints "listening PORT ADMINPORT" on stdout.
"""
import argparse
import base64
import datetime
import http.server
import json
import os
import secrets
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_to_der_b64(path):
    lines = open(path).read().splitlines()
    body, inside = [], False
    for line in lines:
        if line.startswith("-----BEGIN CERTIFICATE"):
            inside = True
        elif line.startswith("-----END CERTIFICATE"):
            break
        elif inside:
            body.append(line.strip())
    return "".join(body)


def parse_scope(scope):
    """'repository:a/b:pull,push' -> (type, name, [actions]); names may not contain ':' but
    types may carry a '(class)' suffix."""
    first, last = scope.find(":"), scope.rfind(":")
    if first < 0 or first == last:
        return None
    return scope[:first], scope[first + 1:last], [a for a in scope[last + 1:].split(",") if a]


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.stats = {"token_requests": 0, "oauth_requests": 0, "refresh_requests": 0,
                      "denied": 0, "issued": 0, "requests": []}
        self.refresh_tokens = {}
        if args.refresh_token:
            self.refresh_tokens[args.refresh_token] = args.user
        self.x5c = [pem_to_der_b64(args.sign_cert)]
        self.allowed = set(a for a in args.allowed_actions.split(",") if a)

    def count(self, key, record):
        with self.lock:
            self.stats[key] += 1
            self.stats["requests"].append(record)
            del self.stats["requests"][:-1000]

    def bump(self, key):
        with self.lock:
            self.stats[key] += 1

    def sign(self, signing_input):
        out = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.args.sign_key],
                             input=signing_input, capture_output=True, check=True)
        return out.stdout

    def make_token(self, user, service, scopes, anonymous):
        access = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if not parsed:
                continue
            typ, name, actions = parsed
            if anonymous:
                granted = [a for a in actions if a == "pull"]
            else:
                granted = [a for a in actions if a in self.allowed]
            access.append({"type": typ, "name": name, "actions": granted})
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": self.x5c}
        claims = {"iss": self.args.issuer, "sub": user, "aud": service or self.args.service,
                  "exp": now + self.args.expires_in, "nbf": now - 10, "iat": now,
                  "jti": secrets.token_hex(16), "access": access}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode())).encode()
        token = signing_input.decode() + "." + b64url(self.sign(signing_input))
        self.bump("issued")
        self.log_token(token)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        return {"token": token, "access_token": token, "expires_in": self.args.expires_in,
                "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def log_token(self, token):
        """--token-log: every issued secret, one a line, so tests can grep outputs for them."""
        if self.args.token_log:
            with self.lock, open(self.args.token_log, "a") as f:
                f.write(token + "\n")

    def new_refresh_token(self, user):
        token = secrets.token_hex(24)
        self.log_token(token)
        with self.lock:
            self.refresh_tokens[token] = user
        return token


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("token-server: %s %s\n" % (self.address_string(), fmt % args))

        def reply(self, code, body, extra_headers=()):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra_headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def deny(self, message):
            state.bump("denied")
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": message}]},
                       [("WWW-Authenticate", 'Basic realm="strata-test-token"')])

        def basic_user(self):
            """None: no Authorization; False: wrong credentials; else the user name."""
            header = self.headers.get("Authorization")
            if not header:
                return None
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except Exception:
                return False
            if user == state.args.user and password == state.args.password:
                return user
            return False

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/stats":
                with state.lock:
                    return self.reply(200, state.stats)
            if url.path != "/token":
                return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            scopes = query.get("scope", [])
            service = query.get("service", [""])[0]
            user = self.basic_user()
            state.count("token_requests", {"method": "GET", "scopes": scopes, "service": service,
                                           "user": user if user else ""})
            if user is False:
                return self.deny("invalid credentials")
            if user is None and not state.args.anonymous_pull:
                return self.deny("authentication required")
            body = state.make_token(user or "", service, scopes, anonymous=user is None)
            if user and query.get("offline_token", [""])[0] == "true":
                body["refresh_token"] = state.new_refresh_token(user)
            self.reply(200, body)

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            if url.path != "/token" or state.args.no_oauth:
                return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            grant = form.get("grant_type", [""])[0]
            scopes = " ".join(form.get("scope", [])).split()
            service = form.get("service", [""])[0]
            if grant == "password":
                ok = (form.get("username", [""])[0] == state.args.user and
                      form.get("password", [""])[0] == state.args.password)
                user = state.args.user if ok else None
                state.count("oauth_requests", {"method": "POST", "grant_type": grant,
                                               "scopes": scopes, "service": service,
                                               "user": user or ""})
                if not ok:
                    return self.deny("invalid credentials")
                refresh = state.new_refresh_token(user)
            elif grant == "refresh_token":
                refresh = form.get("refresh_token", [""])[0]
                with state.lock:
                    user = state.refresh_tokens.get(refresh)
                state.count("refresh_requests", {"method": "POST", "grant_type": grant,
                                                 "scopes": scopes, "service": service,
                                                 "user": user or ""})
                if not user:
                    return self.deny("invalid refresh token")
            else:
                return self.reply(400, {"error": "unsupported_grant_type"})
            body = state.make_token(user, service, scopes, anonymous=False)
            body["refresh_token"] = refresh
            body["scope"] = " ".join(scopes)
            self.reply(200, body)

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--admin-port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--sign-cert", required=True)
    ap.add_argument("--sign-key", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--refresh-token", default="")
    ap.add_argument("--anonymous-pull", action="store_true")
    ap.add_argument("--no-oauth", action="store_true")
    ap.add_argument("--allowed-actions", default="pull,push,delete,*")
    ap.add_argument("--expires-in", type=int, default=300)
    ap.add_argument("--issuer", default="strata-test-issuer")
    ap.add_argument("--service", default="strata-test-registry")
    ap.add_argument("--token-log", default="", help="append every issued token to this file")
    args = ap.parse_args()

    state = State(args)
    handler = make_handler(state)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    admin = http.server.ThreadingHTTPServer(("127.0.0.1", args.admin_port), handler)
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    print("listening %d %d" % (server.server_address[1], admin.server_address[1]), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
