"""Debian's prometheus-alertmanager on a loopback port, clustering off, for the delivery tests."""
import json
import os
import subprocess
import urllib.request

from .common import free_port, wait_for

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = """route:
  receiver: "null"
  group_wait: 1s
receivers:
  - name: "null"
"""


class Alertmanager:
    def __init__(self, d):
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(d, "alertmanager.log"), "w")
        self.p = subprocess.Popen([BINARY, "--config.file=" + cfg, "--storage.path=" + os.path.join(d, "data"),
                                   "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address="],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for(self.ready, 20, 0.05):
            self.close()
            raise RuntimeError("alertmanager did not become ready; see %s" % self.log.name)

    def ready(self):
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def alerts(self):
        with urllib.request.urlopen(self.url + "/api/v2/alerts", timeout=5) as r:
            return json.load(r)

    def close(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(10)
        self.log.close()
