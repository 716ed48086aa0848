#!/usr/bin/python3
"""The state directory on a full, then a read-only file system, under the real `pcmon run` (issue 9).

The state directory (offsets, groups, the spool) is a small tmpfs the test mounts. Alerts go to a
file notifier outside it and to an HTTPS Slack stand-in. The test holds one alert in the spool (Slack
answers 503), fills the file system, and checks that:
  - pcmon keeps matching and alerting (the file notifier gets every probe while the disk is full),
    and says why the spool failed (ENOSPC) on stderr;
  - nothing spooled is lost: once space returns and Slack answers again, Slack gets the alert that
    was spooled before the disk filled and the one that could not be spooled;
  - it recovers: the next alert is spooled and removed again, and offsets.json moves on;
then the same with the file system remounted read-only (EROFS), and SIGTERM exits 0.

Mounting needs CAP_SYS_ADMIN (CI runs as root): without it the test says SKIP.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers.common import check, finish, make_ca, wait_for  # noqa: E402
from peers.daemon import CLUSTERMGTD, Daemon, alerts, append, pcmon_config  # noqa: E402
from peers.slack import Slack  # noqa: E402

RULE = ("  - id: disk_probe\n    sources: [clustermgtd]\n    match: 'DISK-PROBE (?<n>[0-9]+)'\n"
        "    group_wait: 0s\n    group_by: [n]\n    title: 'disk probe {n}'\n")
FAIL = (503, "service unavailable", {})


def mount(path, *opts):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(opts), "tmpfs", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def remount(path, opt):
    subprocess.run(["mount", "-o", "remount," + opt, path], check=True)


def fill(path):
    """Writes a filler file until the file system is full (bounded by its size: 256 KiB)."""
    fd = os.open(os.path.join(path, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(512):
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def spooled(state):
    try:
        return [f for f in os.listdir(os.path.join(state, "spool")) if f.endswith(".json")]
    except FileNotFoundError:
        return []


def offset_of(state):
    try:
        with open(os.path.join(state, "offsets.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return -1
    # {"version": N, "sources": {NAME: {"path": ..., "file": {"offset": ...}, ...}}}
    srcs = doc.get("sources", {}) if isinstance(doc, dict) else {}
    return sum(int(e.get("file", {}).get("offset", 0)) for e in srcs.values() if isinstance(e, dict))


def slack_titles(slack, since):
    with slack.lock:
        reqs = [r for r in slack.requests if r[0] >= since]
    return " ".join(json.dumps(p) for _, _, p, _ in reqs if p)


class Probe:
    def __init__(self, tmp):
        self.tmp, self.n = tmp, 0
        self.out = os.path.join(tmp, "out", "alerts.jsonl")

    def send(self):
        """Appends the next probe line and waits for its alert at the file notifier."""
        self.n += 1
        n = self.n
        append(self.tmp, CLUSTERMGTD, "2024-10-14 09:00:%02d,000 - [x] - INFO - DISK-PROBE %d" % (n, n))
        return n, wait_for(lambda: any(a["labels"].get("n") == str(n) for a in alerts(self.out)), 30)


def phase(d, slack, probe, state, kind, breaking, why):
    """One fault: an alert spooled behind a failing Slack, then the file system broken by
    breaking(), an alert while it is broken, then repair and recovery."""
    slack.script[:] = [FAIL] * 1000
    held, ok = probe.send()
    check("%s: alert %d delivered to the file notifier and held in the spool for Slack" % (kind, held),
          ok and wait_for(lambda: len(spooled(state)) == 1, 15), spooled(state))
    breaking()
    n, ok = probe.send()
    check("%s: still matching and alerting while the state directory is broken (alert %d)" % (kind, n), ok,
          d.log()[-800:])
    check("%s: the spool failure said on stderr (%s)" % (kind, why), wait_for(lambda: why in d.log(), 10),
          d.log()[-800:])
    check("%s: the daemon is still running" % kind, d.proc.poll() is None)
    return held, n


def recover(d, slack, probe, state, kind, held, lost, repair):
    off = offset_of(state)
    repair()
    with slack.lock:
        since = max([r[0] for r in slack.requests] or [0])
        slack.script[:] = []
    check("%s: after repair, Slack gets the alert spooled before (%d) and the one that could not be (%d)"
          % (kind, held, lost),
          wait_for(lambda: all("disk probe %d" % i in slack_titles(slack, since) for i in (held, lost)), 30),
          slack_titles(slack, since)[-600:])
    n, ok = probe.send()
    check("%s: recovered: alert %d delivered everywhere, the spool empty again" % (kind, n),
          ok and wait_for(lambda: "disk probe %d" % n in slack_titles(slack, since) and not spooled(state), 30),
          spooled(state))
    check("%s: recovered: offsets.json moves on" % kind, wait_for(lambda: offset_of(state) > off, 15),
          "%d -> %d" % (off, offset_of(state)))


def run(tmp):
    state = os.path.join(tmp, "state")
    os.makedirs(state)
    if not mount(state, "size=256k", "nr_inodes=256", "mode=0700"):
        print("SKIP faults_statedir: cannot mount a tmpfs here (needs CAP_SYS_ADMIN)", flush=True)
        return
    slack = None
    try:
        ca, cert, key = make_ca(tmp)
        slack = Slack(cert, key)
        os.makedirs(os.path.join(tmp, "var/log/parallelcluster"))
        os.makedirs(os.path.join(tmp, "out"))
        open(os.path.join(tmp, CLUSTERMGTD), "a").close()
        items = ["  - name: audit\n    type: file\n    path: %s/out/alerts.jsonl\n" % tmp,
                 "  - name: slack\n    type: slack\n    url: %s\n    ca_file: %s\n    timeout: 5s\n"
                 "    retry_base: 200ms\n    retry_max: 1s\n" % (slack.url, ca)]
        cfg = pcmon_config(tmp, items, RULE)
        d = Daemon(tmp, cfg)
        check("daemon ready with its state directory on a 256 KiB tmpfs", d.start(), d.log()[-1500:])
        probe = Probe(tmp)

        filler = os.path.join(state, "filler")
        held, lost = phase(d, slack, probe, state, "full", lambda: fill(state), "No space left on device")
        recover(d, slack, probe, state, "full", held, lost, lambda: os.unlink(filler))

        held, lost = phase(d, slack, probe, state, "read-only", lambda: remount(state, "ro"),
                           "Read-only file system")
        recover(d, slack, probe, state, "read-only", held, lost, lambda: remount(state, "rw"))

        rc = d.stop()
        check("SIGTERM exits 0", rc == 0, "rc=%s" % rc)
        check("the Slack payloads kept within Slack's limits", not slack.violations, slack.violations[:3])
    finally:
        if slack:
            slack.close()
        subprocess.run(["umount", "-l", state], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-statedir-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
