#!/usr/bin/python3
"""The configuration file broken under a running `pcmon run`, then SIGHUP: deleted, replaced by a
directory, emptied, and made unreadable. Each reload is refused, said in STATUS= (the test's
NOTIFY_SOCKET) and on stderr, and the old configuration keeps matching and alerting; once the
file is back, a reload applies it.

Tests run as root, and root reads a file whatever its mode: for "unreadable" the daemon runs as
the unprivileged user nobody (setpriv --reuid/--regid, no supplementary groups), as pcmon.service
runs it as user pcmon. That part is skipped, and says so, when setpriv or user nobody is missing.
"""
import os
import pwd
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers.common import check, finish, wait_for  # noqa: E402
from peers.daemon import CLUSTERMGTD, Daemon, alerts, append, pcmon_config  # noqa: E402

RULE = ("  - id: cfg_probe\n    sources: [clustermgtd]\n    match: 'CFG-PROBE (?<n>[0-9]+)'\n"
        "    group_wait: 0s\n    group_by: [n]\n    title: 'config probe {n}'\n")


def setup(tmp, mode=0o644):
    os.makedirs(os.path.join(tmp, "var/log/parallelcluster"), exist_ok=True)
    open(os.path.join(tmp, CLUSTERMGTD), "a").close()
    items = ["  - name: audit\n    type: file\n    path: %s/out/alerts.jsonl\n" % tmp]
    os.makedirs(os.path.join(tmp, "out"), exist_ok=True)
    return pcmon_config(tmp, items, RULE, mode=mode)


def probe(d, tmp, n):
    """Appends probe n and waits for its alert at the file notifier."""
    append(tmp, CLUSTERMGTD, "2024-10-14 09:00:%02d,000 - [x] - INFO - CFG-PROBE %d" % (n % 60, n))
    return wait_for(lambda: any(a["rule"] == "cfg_probe" and a["labels"].get("n") == str(n)
                                for a in alerts(os.path.join(tmp, "out", "alerts.jsonl"))), 30)


def refused(d, label, why, n):
    check("%s: reload refused, said in STATUS" % label, d.saw("STATUS=reload failed", n), d.notify_text()[-400:])
    check("%s: the reason on stderr" % label, wait_for(lambda: why in d.log() and "reload refused" in d.log(), 10),
          d.log()[-1200:])


def test_as_root(tmp):
    cfg = setup(tmp)
    saved = open(cfg).read()
    d = Daemon(tmp, cfg)
    check("daemon ready", d.start(), d.log()[-1500:])
    check("alerts before any fault", probe(d, tmp, 1))

    os.unlink(cfg)
    n = d.reload()
    refused(d, "config deleted", "cannot read: No such file or directory", n)
    check("config deleted: old config still alerts", probe(d, tmp, 2))

    os.mkdir(cfg)
    n = d.reload()
    refused(d, "config is a directory", "cannot read: Is a directory", n)
    check("config is a directory: old config still alerts", probe(d, tmp, 3))
    os.rmdir(cfg)

    with open(cfg, "w") as f:
        pass
    n = d.reload()
    refused(d, "config emptied", "empty configuration", n)
    check("config emptied: old config still alerts", probe(d, tmp, 4))

    with open(cfg, "w") as f:
        f.write(saved[:len(saved) // 2] + "\n  - [unclosed\n")
    n = d.reload()
    refused(d, "config cut in half mid-write", "reload refused: the configuration has errors", n)
    check("config cut in half: old config still alerts", probe(d, tmp, 5))

    with open(cfg, "w") as f:
        f.write(saved)
    n = d.reload()
    check("config restored: reload applied", wait_for(lambda: "configuration reloaded" in d.log(), 10) and
          not d.saw("reload failed", n), d.notify_text()[-300:])
    check("config restored: alerts", probe(d, tmp, 6))
    check("sigterm: exit 0", d.stop() == 0, d.log()[-800:])


def test_unreadable(tmp):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        nobody = None
    if os.geteuid() != 0 or not shutil.which("setpriv") or not nobody:
        print("SKIP unreadable config: needs root, setpriv and user nobody")
        return
    os.makedirs(tmp)
    for p in (os.path.dirname(tmp), tmp):   # mkdtemp made the parent 0700
        os.chmod(p, 0o755)
    cfg = setup(tmp)
    for p in ("state", "out"):
        os.makedirs(os.path.join(tmp, p), exist_ok=True)
        os.chown(os.path.join(tmp, p), nobody.pw_uid, nobody.pw_gid)
    for root, dirs, files in os.walk(os.path.join(tmp, "var")):
        for x in dirs:
            os.chmod(os.path.join(root, x), 0o755)
    prefix = ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups"]
    d = Daemon(tmp, cfg, prefix=prefix, name="nobody")
    check("unprivileged daemon (nobody) ready", d.start(), d.log()[-1500:])
    check("the daemon really runs as nobody", os.stat("/proc/%d" % d.proc.pid).st_uid == nobody.pw_uid)
    check("unprivileged daemon alerts", probe(d, tmp, 11))
    os.chmod(cfg, 0o600)   # root's alone now: nobody cannot read it
    n = d.reload()
    refused(d, "config unreadable (0600 root)", "cannot read: Permission denied", n)
    check("config unreadable: old config still alerts", probe(d, tmp, 12))
    os.chmod(cfg, 0o644)
    n = d.reload()
    check("config readable again: reload applied", wait_for(lambda: "configuration reloaded" in d.log(), 10) and
          not d.saw("reload failed", n))
    check("unprivileged daemon: sigterm exit 0", d.stop() == 0, d.log()[-800:])


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-cfgfault-")
    try:
        test_as_root(os.path.join(tmp, "root"))
        test_unreadable(os.path.join(tmp, "nobody"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
