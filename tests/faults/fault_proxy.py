#!/usr/bin/env python3
"""A fault-injecting HTTP reverse proxy for the fault tests (docs/reliability.md).

Sits between the tools and a plain-HTTP docker-registry: the tools are given the proxy's address as
the registry (`--insecure-registry 127.0.0.1:PROXYPORT`). The Host header is forwarded unchanged,
so the registry's absolute `Location` URLs point back at the proxy. Threaded, HTTP/1.1 keep-alive.

Rules are matched in order against "METHOD PATH" (a regex, re.search); the first rule that matches
and still has uses left (`times`, -1 = forever) is applied and its count decremented. Actions:

  status    answer `code` (500/502/503...) without forwarding
  429       answer 429 with `Retry-After: retry_after` without forwarding
  cut       forward, send the headers and the first `fraction` of the body, then close the socket
            (the client sees fewer bytes than Content-Length); a response without a body is not
            sent at all (the request took effect, the client never hears of it)
  drop      read the request, do not forward it, close the socket without an answer
  delay     forward, wait `seconds`, then answer normally
  slow      forward, send the body at `rate` bytes/s (so a test can kill a client mid-transfer)
  stall     forward, send headers and `fraction` of the body, then send nothing for `seconds`,
            then close
  flip      forward, flip one byte at `fraction` of the body, send it all (Content-Length intact)
  truncate  forward, send only `fraction` of the body with a Content-Length that matches the
            shortened body: a well-formed but short response

In-process use (the tests): `p = FaultProxy(upstream_port); p.start(); p.set_rules([...]);
p.log` lists (method, path, range, action, status) of every request. Standalone:
`fault_proxy.py --upstream PORT [--port P]` prints "listening P"; POST /__faults__/rules with a
JSON list sets the rules, GET /__faults__/log returns the log.
"""
import argparse
import http.client
import http.server
import json
import re
import socket
import sys
import threading
import time

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class Rule:
    def __init__(self, match, action, times=1, **params):
        self.match = re.compile(match)
        self.action = action
        self.times = times
        self.params = params

    @staticmethod
    def from_json(d):
        d = dict(d)
        return Rule(d.pop("match"), d.pop("action"), d.pop("times", 1), **d)


class FaultProxy:
    def __init__(self, upstream_port, port=0):
        self.upstream = ("127.0.0.1", upstream_port)
        self.lock = threading.Lock()
        self.rules = []
        self.log = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def set_rules(self, rules):
        with self.lock:
            self.rules = [r if isinstance(r, Rule) else Rule.from_json(r) for r in rules]
            self.log = []

    def pick(self, method, path):
        key = f"{method} {path}"
        with self.lock:
            for r in self.rules:
                if r.times != 0 and r.match.search(key):
                    if r.times > 0:
                        r.times -= 1
                    return r
        return None

    def record(self, *entry):
        with self.lock:
            self.log.append(entry)

    def applied(self, action):
        with self.lock:
            return [e for e in self.log if e[3] == action]


def read_request_body(handler):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
    n = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(n) if n else b""


def make_handler(proxy):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def control(self):
            if self.command == "POST" and self.path == "/__faults__/rules":
                proxy.set_rules(json.loads(read_request_body(self)))
                body = b"{}"
            else:
                body = json.dumps(proxy.log).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def answer(self, code, extra=()):
            body = json.dumps({"errors": [{"code": "INJECTED", "message": f"fault proxy: {code}"}]}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_any(self):
            if self.path.startswith("/__faults__/"):
                return self.control()
            body = read_request_body(self)
            rule = proxy.pick(self.command, self.path)
            action = rule.action if rule else "pass"
            rng = self.headers.get("Range", "")
            if action == "status":
                proxy.record(self.command, self.path, rng, action, rule.params.get("code", 503))
                return self.answer(rule.params.get("code", 503))
            if action == "429":
                proxy.record(self.command, self.path, rng, action, 429)
                return self.answer(429, [("Retry-After", str(rule.params.get("retry_after", 1)))])
            if action == "drop":
                proxy.record(self.command, self.path, rng, action, 0)
                return self.hang_up()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            if body or self.command in ("PUT", "POST", "PATCH"):
                headers["Content-Length"] = str(len(body))
            conn = http.client.HTTPConnection(*proxy.upstream, timeout=120)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                rheaders = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
                status, reason = resp.status, resp.reason
            finally:
                conn.close()
            proxy.record(self.command, self.path, rng, action, status)
            has_body = self.command != "HEAD" and status not in (204, 304)
            if action == "delay":
                time.sleep(rule.params.get("seconds", 1))
                action = "pass"
            if action == "slow" and has_body:
                return self.send(status, reason, rheaders, data, rate=rule.params.get("rate", 1 << 20))
            if action == "cut" and (not has_body or not data):
                return self.hang_up()  # the request took effect, its answer is lost
            if not has_body or action == "pass" or not data:
                return self.send(status, reason, rheaders, data if has_body else b"")
            cut_at = int(len(data) * rule.params.get("fraction", 0.5))
            if action == "flip":
                data = bytearray(data)
                data[min(cut_at, len(data) - 1)] ^= 0xFF
                return self.send(status, reason, rheaders, bytes(data))
            if action == "truncate":
                return self.send(status, reason, rheaders, data[:cut_at])
            # cut / stall: the full Content-Length is announced, fewer bytes follow
            self.send(status, reason, rheaders, data[:cut_at], length=len(data))
            if action == "stall":
                time.sleep(rule.params.get("seconds", 30))
            self.hang_up()

        def hang_up(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def send(self, status, reason, headers, data, length=None, rate=None):
            self.send_response_only(status, reason)
            for k, v in headers:
                if k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data) if length is None else length))
            self.end_headers()
            try:
                if rate is None:
                    self.wfile.write(data)
                else:
                    step = 64 << 10
                    for i in range(0, len(data), step):
                        self.wfile.write(data[i:i + step])
                        self.wfile.flush()
                        time.sleep(step / rate)
                self.wfile.flush()
            except OSError:
                self.close_connection = True

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", type=int, required=True, help="port of the registry on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    proxy = FaultProxy(args.upstream, args.port)
    print(f"listening {proxy.port}", flush=True)
    proxy.server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
