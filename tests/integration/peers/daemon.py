"""The real `pcmon run` for the faults_*.py tests: a temporary log tree (--root), a test NOTIFY_SOCKET
read at once (as systemd does), stderr kept in a file, and a config built from conf/pcmon.yaml with
the state directory, metrics and notifiers replaced. Every wait is a bounded poll."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

from .common import TOP, file_alerts as alerts, wait_for  # noqa: F401 (alerts: for the tests)

PCMON = os.environ.get("PCMON") or os.path.join(TOP, "build", "pcmon")
CLUSTERMGTD = "var/log/parallelcluster/clustermgtd"
EVENTS = "var/log/parallelcluster/clustermgtd.events"


def pcmon_config(tmp, notifiers, extra_rules="", name="pcmon.yaml", mode=0o640):
    """conf/pcmon.yaml with state_dir, metrics and notifiers (YAML items) replaced, rules prepended."""
    with open(os.path.join(TOP, "conf", "pcmon.yaml")) as f:
        text = f.read()
    text = text.replace("state_dir: /var/lib/pcmon",
                        "state_dir: %s/state\nmetrics: {path: %s/pcmon.prom, interval: 1s}" % (tmp, tmp))
    text = text.replace("notifiers: []", "notifiers:\n" + "".join(notifiers))
    text = text.replace("rules:\n", "rules:\n" + extra_rules, 1)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def append(tmp, rel, line):
    p = os.path.join(tmp, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "a") as f:
        f.write(line + "\n")


class Daemon:
    def __init__(self, tmp, config, args=(), prefix=(), name="daemon"):
        self.tmp, self.config = tmp, config
        self.args, self.prefix = list(args), list(prefix)
        self.sock_path = os.path.join(tmp, name + ".sock")
        self.log_path = os.path.join(tmp, name + ".log")
        self.msgs = []
        self.lock = threading.Lock()
        self.proc = None

    def start(self, wait_ready=True, timeout=45):
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        os.chmod(self.sock_path, 0o777)   # a daemon run as another user must reach it
        self.sock.settimeout(0.2)
        self.reading = True
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path)
        env.pop("JOURNAL_STREAM", None)
        self.err = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.prefix + [PCMON, "run", "-v", "-c", self.config, "--root", self.tmp] +
                                     self.args, env=env, stdout=self.err, stderr=self.err)
        if not wait_ready:
            return True
        return wait_for(lambda: self.saw("READY=1") or self.proc.poll() is not None, timeout) and self.saw("READY=1")

    def _reader(self):
        while self.reading:
            try:
                m = self.sock.recv(4096).decode(errors="replace")
            except (socket.timeout, OSError):
                continue
            with self.lock:
                self.msgs.append(m)

    def saw(self, text, since=0):
        with self.lock:
            return any(text in m for m in self.msgs[since:])

    def mark(self):
        with self.lock:
            return len(self.msgs)

    def notify_text(self):
        with self.lock:
            return "\n".join(self.msgs)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def reload(self, timeout=30):
        """SIGHUP; returns the index of the messages after it once READY=1 came back."""
        n = self.mark()
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.saw("READY=1", n), timeout)
        return n

    def stop(self, sig=signal.SIGTERM):
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(sig)
            try:
                rc = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(10)
        self.reading = False
        self.thread.join(timeout=2)
        self.sock.close()
        self.err.close()
        return rc


def status_json(config):
    st = subprocess.run([PCMON, "status", "-c", config, "--json"], capture_output=True, text=True, timeout=30)
    try:
        return st.stdout + st.stderr, json.loads(st.stdout) if st.returncode == 0 else {}
    except ValueError:
        return st.stdout + st.stderr, {}


def elapsed(t0):
    return time.monotonic() - t0
