#!/usr/bin/python3
"""Alertmanager delivery to Debian's prometheus-alertmanager on loopback ports: the v2 API with
labels (alertname = rule id, cluster, severity, queue), annotations and startsAt; a resolved alert
(endsAt) resolves it; several URLs (HA) each get the alert, and one peer down does not stop it."""
import datetime
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers.alertmanager import Alertmanager  # noqa: E402
from peers.common import alert, check, finish, free_port, run, wait_for, write_alerts, write_config  # noqa: E402


def ts(delta):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def am_item(urls):
    us = "".join("      - %s\n" % u for u in urls)
    return ("  - name: am\n    type: alertmanager\n    urls:\n%s    timeout: 3s\n    retry_base: 200ms\n"
            "    retry_max: 1s\n" % us)


def ours(am):
    return [a for a in am.alerts() if a["labels"].get("alertname") == "insufficient_capacity"
            and a["labels"].get("queue") == "gpu"]


def send(tmp, name, urls, alerts, timeout=20):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    cfg = write_config(d, [am_item(urls)])
    inp = os.path.join(d, "in.jsonl")
    write_alerts(inp, alerts)
    return run(cfg, inp, timeout=timeout)


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-am-")
    a1 = Alertmanager(os.path.join(tmp, "am1"))
    a2 = Alertmanager(os.path.join(tmp, "am2"))
    try:
        start = ts(-60)
        fire = alert(0, first_seen=start, last_seen=ts(-5))
        rc, out = send(tmp, "fire", [a1.url, a2.url], [fire])
        check("alertmanager: POST accepted", rc == 0 and "event delivered notifier=am" in out, out)
        got = wait_for(lambda: ours(a1) and ours(a2), 10)
        check("alertmanager HA: both peers have the alert", bool(got))
        if got:
            a = ours(a1)[0]
            check("alertmanager: labels alertname, cluster, severity, queue",
                  a["labels"] == {"alertname": "insufficient_capacity", "cluster": "demo", "severity": "critical",
                                  "queue": "gpu"}, a["labels"])
            check("alertmanager: annotations summary/description and fields",
                  a["annotations"].get("summary") == fire["title"] and
                  a["annotations"].get("description") == fire["text"] and
                  a["annotations"].get("nodes") == "gpu-dy-g5-[1-7]", a["annotations"])
            check("alertmanager: firing (active), startsAt from first_seen",
                  a["status"]["state"] == "active" and a["startsAt"].startswith(start[:19]), (a["status"], a["startsAt"]))
        resolve = alert(0, state="resolved", first_seen=start, last_seen=ts(-1))
        rc, out = send(tmp, "resolve", [a1.url, a2.url], [resolve])
        check("alertmanager: resolve accepted", rc == 0, out)
        check("alertmanager: endsAt resolves the alert on both peers",
              wait_for(lambda: not ours(a1) and not ours(a2), 10), (ours(a1), ours(a2)))
        down = "http://127.0.0.1:%d" % free_port()
        rc, out = send(tmp, "one_down", [down, a1.url], [alert(0, first_seen=ts(-30), last_seen=ts(-2))])
        check("alertmanager HA: one peer down, delivered through the other",
              rc == 0 and wait_for(lambda: ours(a1), 10), out)
        rc, out = send(tmp, "all_down", [down], [alert(1)], timeout=3)
        check("alertmanager: every peer down is retried, not dead", rc == 3 and "event retry notifier=am" in out and
              "event dead" not in out, out)
    finally:
        a1.close()
        a2.close()
    finish()


if __name__ == "__main__":
    main()
