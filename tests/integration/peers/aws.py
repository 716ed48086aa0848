"""IMDSv2 and SNS stand-ins on 127.0.0.1. The IMDS one hands out a token (PUT with the TTL header
only), the role name and temporary credentials that expire after `expires_in` seconds, a new set
per fetch. The SNS one (HTTPS) checks each Publish's SigV4 signature with python3-botocore against
the credentials IMDS issued, and the x-amz-security-token header, then answers like SNS."""
import datetime
import http.server
import json
import ssl
import threading
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROLE = "pcmon-head-node-role"


class Imds:
    def __init__(self, expires_in=3600):
        self.expires_in = expires_in
        self.tokens = set()
        self.creds = {}          # akid -> (secret, token, expiry epoch)
        self.token_puts = 0
        self.cred_fetches = 0
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, status, body, ctype="text/plain"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self.reply(400, "missing TTL header")
                with outer.lock:
                    outer.token_puts += 1
                    tok = "imds-token-%d" % outer.token_puts
                    outer.tokens.add(tok)
                self.reply(200, tok)

            def do_GET(self):
                with outer.lock:
                    if self.headers.get("X-aws-ec2-metadata-token") not in outer.tokens:
                        return self.reply(401, "")   # IMDSv2 only: no token, no answer
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    return self.reply(200, ROLE)
                if self.path != base + ROLE:
                    return self.reply(404, "")
                with outer.lock:
                    outer.cred_fetches += 1
                    n = outer.cred_fetches
                    akid, secret, token = "ASIATESTKEY%04d" % n, "secret/key+%d" % n, "session-token-%d" % n
                    exp = time.time() + outer.expires_in
                    outer.creds[akid] = (secret, token, exp)
                expiry = datetime.datetime.fromtimestamp(exp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                self.reply(200, json.dumps({"Code": "Success", "LastUpdated": "2026-01-01T00:00:00Z",
                                            "Type": "AWS-HMAC", "AccessKeyId": akid, "SecretAccessKey": secret,
                                            "Token": token, "Expiration": expiry}), "application/json")

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _parse_auth(h):
    # AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/sns/aws4_request, SignedHeaders=a;b, Signature=hex
    algo, rest = h.split(" ", 1)
    parts = dict(p.strip().split("=", 1) for p in rest.split(","))
    akid, date, region, service, _ = parts["Credential"].split("/")
    return algo, akid, date, region, service, parts["SignedHeaders"].split(";"), parts["Signature"]


class Sns:
    def __init__(self, imds, cert, key):
        self.imds = imds
        self.published = []      # (akid, params dict)
        self.errors = []
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, status, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def error(self, status, code):
                with outer.lock:
                    outer.errors.append(code)
                self.reply(status, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message>"
                                   "</Error></ErrorResponse>" % (code, code))

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    algo, akid, date, region, service, signed, sig = _parse_auth(self.headers["Authorization"])
                except (KeyError, ValueError):
                    return self.error(403, "MissingAuthenticationToken")
                with outer.imds.lock:
                    cred = outer.imds.creds.get(akid)
                if not cred:
                    return self.error(403, "InvalidClientTokenId")
                secret, token, exp = cred
                if self.headers.get("x-amz-security-token") != token or "x-amz-security-token" not in signed:
                    return self.error(403, "InvalidClientTokenId")
                if time.time() > exp:
                    return self.error(403, "ExpiredToken")
                req = AWSRequest(method="POST", url="https://%s%s" % (self.headers["Host"], self.path), data=body,
                                 headers={h: self.headers[h] for h in signed})
                req.context["timestamp"] = self.headers["X-Amz-Date"]
                auth = SigV4Auth(Credentials(akid, secret, token), service, region)
                want = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
                if algo != "AWS4-HMAC-SHA256" or service != "sns" or want != sig:
                    return self.error(403, "SignatureDoesNotMatch")
                params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
                with outer.lock:
                    outer.published.append((akid, region, params))
                self.reply(200, "<PublishResponse><PublishResult><MessageId>%d</MessageId></PublishResult>"
                                "</PublishResponse>" % len(outer.published))

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
