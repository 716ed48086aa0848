"""An HTTPS Slack incoming-webhook stand-in on 127.0.0.1. It answers from a script of responses
(then 200 "ok"), records every request with its arrival time, and checks each payload against
Slack's documented limits (blocks <= 50, section text <= 3000, header <= 150, field <= 2000,
payload < 40000, a `text` fallback present); violations are collected in .violations."""
import http.server
import json
import ssl
import threading
import time

SECRET_PATH = "/services/T000SECRET/B000SECRET/XXXXsecrettokenXXXX"


def _check_limits(p):
    bad = []
    if not isinstance(p.get("text"), str) or not p["text"]:
        bad.append("no text fallback")
    blocks = list(p.get("blocks", []))
    for att in p.get("attachments", []):
        blocks += att.get("blocks", [])
    if len(blocks) > 50:
        bad.append("%d blocks" % len(blocks))
    total = 0
    for b in blocks:
        t = b.get("text", {}).get("text", "") if isinstance(b.get("text"), dict) else ""
        total += len(t)
        if b["type"] == "header" and len(t) > 150:
            bad.append("header %d chars" % len(t))
        if b["type"] == "section" and len(t) > 3000:
            bad.append("section %d chars" % len(t))
        for f in b.get("fields", []):
            total += len(f["text"])
            if len(f["text"]) > 2000:
                bad.append("field %d chars" % len(f["text"]))
        if len(b.get("fields", [])) > 10:
            bad.append("%d fields in a section" % len(b["fields"]))
        for e in b.get("elements", []):
            total += len(e.get("text", ""))
    if total > 12000:
        bad.append("blocks total %d chars" % total)
    return bad


class Slack:
    def __init__(self, cert, key, port=0):
        self.script = []          # list of (status, body, headers) or "hang"
        self.requests = []        # (monotonic time, path, payload dict or None, raw bytes)
        self.violations = []
        self.lock = threading.Lock()
        self.stop_hang = threading.Event()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = None
                with outer.lock:
                    outer.requests.append((time.monotonic(), self.path, payload, raw))
                    if payload is None:
                        outer.violations.append("not JSON")
                    else:
                        outer.violations += _check_limits(payload)
                    if len(raw) >= 40000:
                        outer.violations.append("payload %d bytes" % len(raw))
                    step = outer.script.pop(0) if outer.script else (200, "ok", {})
                if step == "hang":
                    outer.stop_hang.wait(60)
                    self.close_connection = True
                    return
                status, body, headers = step
                if self.path != SECRET_PATH:
                    status, body = 404, "no_service"
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.srv.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.url = "https://127.0.0.1:%d%s" % (self.port, SECRET_PATH)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self):
        with self.lock:
            return [p for _, _, p, _ in self.requests]

    def close(self):
        self.stop_hang.set()
        self.srv.shutdown()
        self.srv.server_close()
