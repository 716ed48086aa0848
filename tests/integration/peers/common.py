"""Shared helpers for the delivery tests: a test CA (openssl), free ports, configs, alerts, the
notifytool driver, and bounded waiting (never sleep to synchronise: poll for an outcome)."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("PCMON_TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.environ.get("PCMON_BUILD") or os.path.join(TOP, "build")
NOTIFYTOOL = os.path.join(BUILD, "tests", "notifytool")

_results = {"pass": 0, "fail": 0}


def check(name, ok, detail=""):
    """Prints PASS/FAIL name (with detail on failure) and counts it."""
    if ok:
        _results["pass"] += 1
        print("PASS", name, flush=True)
    else:
        _results["fail"] += 1
        print("FAIL", name, detail, flush=True)
    return ok


def finish():
    print("%d passed, %d failed" % (_results["pass"], _results["fail"]), flush=True)
    sys.exit(1 if _results["fail"] else 0)


def wait_for(pred, timeout, step=0.02):
    """Polls pred until it is truthy or timeout seconds pass; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca(d):
    """A CA and a server certificate for 127.0.0.1/localhost, made with openssl in d.
    Returns (ca_file, cert_file, key_file)."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, cert = os.path.join(d, "srv.key"), os.path.join(d, "srv.csr"), os.path.join(d, "srv.pem")
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    q = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
                    "-days", "2", "-subj", "/CN=pcmon test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"], **q)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=127.0.0.1"], **q)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-out", cert, "-days", "2", "-extfile", ext], **q)
    return ca, cert, key


def alert(i=0, rule="insufficient_capacity", state="firing", **kw):
    a = {"rule": rule, "state": state, "severity": "critical",
         "title": "Insufficient capacity on queue gpu #%d" % i,
         "text": "RunInstances failed for 7 nodes: InsufficientInstanceCapacity", "count": 7,
         "first_seen": "2026-01-23T18:06:34.184Z", "last_seen": "2026-01-23T18:07:02.010Z",
         "labels": {"cluster": "demo", "queue": "gpu"},
         "fields": {"nodes": "gpu-dy-g5-[1-7]", "instance_type": "g5.12xlarge"},
         "lines": ["var/log/parallelcluster/slurm_resume.log:%d" % (1000 + i)]}
    a.update(kw)
    return a


def write_alerts(path, alerts):
    with open(path, "w") as f:
        for a in alerts:
            f.write(json.dumps(a) + "\n")


def write_config(d, notifiers, extra=""):
    """A config with state_dir under d and the given notifier YAML items (strings)."""
    path = os.path.join(d, "pcmon.yaml")
    with open(path, "w") as f:
        f.write("state_dir: %s\ncluster: demo\n%s\nnotifiers:\n" % (os.path.join(d, "state"), extra))
        for n in notifiers:
            f.write(n)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    return path


class Run:
    """One notifytool process; out is its stdout text once done."""

    def __init__(self, config, input_path=None, timeout=20, args=(), stdin=None):
        cmd = [NOTIFYTOOL, "-c", config, "--timeout", str(timeout)] + list(args)
        if input_path:
            cmd += ["--input", input_path]
        self.outf = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(cmd, stdout=self.outf, stderr=subprocess.STDOUT, stdin=stdin, text=True)
        self.out = None

    def text(self):
        self.outf.seek(0)
        return self.outf.read()

    def wait(self, timeout=60):
        self.p.wait(timeout)
        self.out = self.text()
        return self.p.returncode

    def kill(self):
        self.p.kill()
        self.p.wait(10)
        self.out = self.text()


def run(config, input_path=None, timeout=20, args=()):
    r = Run(config, input_path, timeout, args)
    rc = r.wait(timeout + 30)
    return rc, r.out


def stat_line(out, name):
    """The notifier NAME ... line as a dict."""
    for line in out.splitlines():
        if line.startswith("notifier %s " % name):
            d = {}
            for part in line.split(" ")[2:]:
                if "=" in part:
                    k, v = part.split("=", 1)
                    d[k] = v
            d["line"] = line
            return d
    return {}


def file_alerts(path):
    """The alerts a file notifier wrote (complete JSON lines only)."""
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.endswith("\n") and l.strip()]
    except FileNotFoundError:
        return []
