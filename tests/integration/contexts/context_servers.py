#!/usr/bin/env python3
"""Small servers and clients the context tests need, Python stdlib + the openssl CLI only.

  https  --dir D --cert C --key K         static files over TLS (the test CA's server cert)
  gcs    --dir D --pubkey P --email E     a fake of Google's token endpoint (POST /token: checks the
                                          RS256 JWT with the service account's public key, its
                                          iss/aud/scope/exp) and of the GCS JSON API media download
                                          (GET /storage/v1/b/B/o/O?alt=media with the Bearer token
                                          it issued; files from D/B/O)
  azure-put --endpoint URL --account A --key K --container C --blob B --file F
                                          creates the container and uploads a block blob to azurite,
                                          signing with SharedKey (an implementation independent of
                                          the C++ one)
  azure-sas --account A --key K           prints an account SAS query string (read, blob service)

Servers bind 127.0.0.1 port 0 and print "PORT <n>" on stdout once listening.
"""
import argparse, base64, email.utils, hashlib, hmac, http.server, json, os, secrets, ssl, subprocess, sys, tempfile, time
import urllib.parse, urllib.request


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def serve(handler, tls=None):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print("PORT %d" % httpd.server_address[1], flush=True)
    httpd.serve_forever()


def https_main(a):
    root = a.dir

    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kw):
            super().__init__(*args, directory=root, **kw)

    serve(H, (a.cert, a.key))


def gcs_main(a):
    tokens = set()
    stats = {"tokens": 0, "downloads": 0}

    def verify_jwt(jwt, token_uri):
        parts = jwt.split(".")
        if len(parts) != 3:
            return "not a JWT"
        header, claims = json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))
        if header.get("alg") != "RS256":
            return "alg is not RS256"
        with tempfile.TemporaryDirectory() as d:
            with open(d + "/data", "wb") as f:
                f.write((parts[0] + "." + parts[1]).encode())
            with open(d + "/sig", "wb") as f:
                f.write(b64url_decode(parts[2]))
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", a.pubkey, "-signature", d + "/sig", d + "/data"],
                               capture_output=True)
            if r.returncode != 0:
                return "bad signature"
        now = time.time()
        if claims.get("iss") != a.email:
            return "wrong iss"
        if claims.get("aud") != token_uri:
            return "wrong aud %r" % claims.get("aud")
        if "devstorage" not in claims.get("scope", ""):
            return "wrong scope"
        if not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0)):
            return "expired"
        return None

    class H(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body, ctype="application/json"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if self.path != "/token":
                return self.reply(404, b'{"error":"not_found"}')
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = urllib.parse.parse_qs(body)
            if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
                return self.reply(400, b'{"error":"unsupported_grant_type"}')
            why = verify_jwt(form.get("assertion", [""])[0], "http://127.0.0.1:%d/token" % self.server.server_address[1])
            if why:
                return self.reply(400, json.dumps({"error": "invalid_grant", "error_description": why}).encode())
            token = "ya29." + secrets.token_hex(16)
            tokens.add(token)
            stats["tokens"] += 1
            self.reply(200, json.dumps({"access_token": token, "expires_in": 3600, "token_type": "Bearer"}).encode())

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/stats":
                return self.reply(200, json.dumps(stats).encode())
            prefix = "/storage/v1/b/"
            if not url.path.startswith(prefix) or "/o/" not in url.path:
                return self.reply(404, b'{"error":{"code":404,"message":"Not Found"}}')
            if urllib.parse.parse_qs(url.query).get("alt") != ["media"]:
                return self.reply(400, b'{"error":{"code":400,"message":"alt=media expected"}}')
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in tokens:
                return self.reply(401, b'{"error":{"code":401,"message":"Invalid Credentials"}}')
            bucket, obj = url.path[len(prefix):].split("/o/", 1)
            path = os.path.join(a.dir, urllib.parse.unquote(bucket), urllib.parse.unquote(obj))
            if not os.path.isfile(path):
                return self.reply(404, b'{"error":{"code":404,"message":"No such object"}}')
            stats["downloads"] += 1
            with open(path, "rb") as f:
                self.reply(200, f.read(), "application/octet-stream")

        def log_message(self, *args):
            pass

    serve(H)


def shared_key(method, account, key, path, query, headers):
    h = {k.lower(): v for k, v in headers.items()}
    length = h.get("content-length", "")
    if length == "0":
        length = ""
    sts = "\n".join([method, h.get("content-encoding", ""), h.get("content-language", ""), length,
                     h.get("content-md5", ""), h.get("content-type", ""), h.get("date", ""),
                     h.get("if-modified-since", ""), h.get("if-match", ""), h.get("if-none-match", ""),
                     h.get("if-unmodified-since", ""), h.get("range", "")]) + "\n"
    for k in sorted(k for k in h if k.startswith("x-ms-")):
        sts += "%s:%s\n" % (k, h[k])
    sts += "/" + account + path
    for k in sorted(query):
        sts += "\n%s:%s" % (k.lower(), query[k])
    sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
    return "SharedKey %s:%s" % (account, sig)


def azure_request(a, method, path, query, body, extra):
    headers = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": "2021-08-06",
               "Content-Length": str(len(body)), "Content-Type": "application/octet-stream"}
    headers.update(extra)
    base = urllib.parse.urlsplit(a.endpoint)
    full_path = base.path.rstrip("/") + path
    headers["Authorization"] = shared_key(method, a.account, a.key, full_path, query, headers)
    url = a.endpoint.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    req = urllib.request.Request(url, data=body if method == "PUT" else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        if e.code == 409:  # the container exists
            return e.code
        sys.exit("azure %s %s: %d %s" % (method, url, e.code, e.read()[:500]))


def azure_put_main(a):
    azure_request(a, "PUT", "/" + a.container, {"restype": "container"}, b"", {})
    with open(a.file, "rb") as f:
        data = f.read()
    azure_request(a, "PUT", "/%s/%s" % (a.container, a.blob), {}, data,
                  {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/octet-stream"})


def azure_sas_main(a):
    sv, ss, srt, sp, spr = "2019-12-12", "b", "sco", "rl", "https,http"
    se = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    sts = "\n".join([a.account, sp, ss, srt, "", se, "", spr, sv]) + "\n"
    sig = base64.b64encode(hmac.new(base64.b64decode(a.key), sts.encode(), hashlib.sha256).digest()).decode()
    print(urllib.parse.urlencode({"sv": sv, "ss": ss, "srt": srt, "sp": sp, "se": se, "spr": spr, "sig": sig}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("https"); s.add_argument("--dir"); s.add_argument("--cert"); s.add_argument("--key")
    s = sub.add_parser("gcs"); s.add_argument("--dir"); s.add_argument("--pubkey"); s.add_argument("--email")
    for name in ("azure-put", "azure-sas"):
        s = sub.add_parser(name)
        for arg in ("--endpoint", "--account", "--key", "--container", "--blob", "--file"):
            s.add_argument(arg)
    a = p.parse_args()
    {"https": https_main, "gcs": gcs_main, "azure-put": azure_put_main, "azure-sas": azure_sas_main}[a.cmd](a)


if __name__ == "__main__":
    main()
