#!/usr/bin/python3
"""Slack delivery against an HTTPS stand-in on 127.0.0.1 (CA made here with openssl): Block Kit
within Slack's limits and escaped, Retry-After honoured (T19), permanent errors parked as dead and
reported through another notifier (T20), pacing, endpoint down then back (in order), a hanging
endpoint not holding up other notifiers, SIGKILL during delivery (resent after restart), and the
webhook URL's secret never printed."""
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers.common import (Run, alert, check, file_alerts, finish, free_port, make_ca, run, stat_line,  # noqa: E402
                          wait_for, write_alerts, write_config)
from peers.slack import SECRET_PATH, Slack  # noqa: E402

SECRET = SECRET_PATH.split("/")[-1]


def slack_item(url, ca, url_file=None, extra=""):
    key = "url_file: %s" % url_file if url_file else "url: %s" % url
    return ("  - name: slack\n    type: slack\n    %s\n    ca_file: %s\n    timeout: 2s\n"
            "    retry_base: 200ms\n    retry_max: 1s\n%s" % (key, ca, extra))


def file_item(path, name="audit"):
    return "  - name: %s\n    type: file\n    path: %s\n" % (name, path)


def setup(tmp, name, slack_url, ca, with_file=True, url_file=False, n=1, alerts=None):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    uf = None
    if url_file:
        uf = os.path.join(d, "webhook.url")
        with open(uf, "w") as f:
            f.write(slack_url + "\n")
    items = [slack_item(slack_url, ca, uf)] + ([file_item(os.path.join(d, "audit.jsonl"))] if with_file else [])
    cfg = write_config(d, items)
    inp = os.path.join(d, "in.jsonl")
    write_alerts(inp, alerts if alerts is not None else [alert(i) for i in range(n)])
    return d, cfg, inp


def no_secret(name, out):
    check(name + ": webhook secret never printed", SECRET not in out, out[:2000])


def all_strings(o):
    if isinstance(o, str):
        yield o
    elif isinstance(o, dict):
        for v in o.values():
            yield from all_strings(v)
    elif isinstance(o, list):
        for v in o:
            yield from all_strings(v)


def test_payload(tmp, ca, cert, key):
    s = Slack(cert, key)
    hostile = "RunInstances failed <!channel> <https://evil.example|click here> & <@U123> " + "x" * 9000
    storm = alert(0, title="T" * 400, text=hostile,
                  lines=["var/log/parallelcluster/slurm_resume.log:%d" % i for i in range(1, 1001)],
                  fields={"f%02d" % i: "v<%d>" % i * 200 for i in range(40)})
    resolved = alert(1, state="resolved", rule="protected_mode", title="Cluster back from protected mode")
    d, cfg, inp = setup(tmp, "payload", s.url, ca, url_file=True, alerts=[storm, resolved])
    rc, out = run(cfg, inp, timeout=20)
    p = s.payloads()
    check("slack payload: both delivered", rc == 0 and len(p) == 2 and stat_line(out, "slack").get("ok") == "2", out)
    check("slack payload: within Slack's limits", not s.violations, s.violations)
    if len(p) == 2:
        strings = list(all_strings(p[0]))
        check("slack payload: no raw <!channel>, links or mentions from log text",
              not any("<!channel>" in t or "<https://evil" in t or "<@U123>" in t for t in strings), strings[:5])
        check("slack payload: & < > escaped", any("&lt;!channel&gt;" in t and "&amp;" in t for t in strings))
        sec = [b for b in p[0]["attachments"][0]["blocks"] if b["type"] == "section"]
        check("slack payload: lines truncated with '…and N more'",
              sec and "\u2026and " in sec[0]["text"]["text"] and "more" in sec[0]["text"]["text"], sec)
        check("slack payload: header, fallback text, colour",
              p[0]["blocks"][0]["type"] == "header" and p[0]["text"] and p[0]["attachments"][0]["color"] == "#d00000")
        check("slack payload: resolved shows the check mark",
              p[1]["blocks"][0]["text"]["text"].startswith("\u2705") and p[1]["attachments"][0]["color"] == "#2eb67d",
              p[1]["blocks"][0])
        check("slack payload: fields overflow counted", "\u2026and" in str(p[0]["blocks"]) and "more fields" in str(p[0]["blocks"]))
    check("slack payload: spool empty", "spool depth=0 dead=0" in out, out)
    no_secret("slack payload", out)
    s.close()
    return p


def test_retry_after(tmp, ca, cert, key):
    s = Slack(cert, key)
    s.script = [(429, '{"retry_after":3,"ok":false,"error":"rate_limited"}', {"Retry-After": "3"})]
    d, cfg, inp = setup(tmp, "retry_after", s.url, ca)
    rc, out = run(cfg, inp, timeout=20)
    t = [r[0] for r in s.requests]
    check("slack 429: delivered once after the retry", rc == 0 and len(t) == 2, out)
    check("slack 429: no request before Retry-After (3 s)", len(t) == 2 and t[1] - t[0] >= 2.95, t)
    check("slack 429: audit file also got it", len(file_alerts(os.path.join(d, "audit.jsonl"))) == 1)
    check("slack 429: spool empty", "spool depth=0 dead=0" in out, out)
    s.close()


def test_server_error(tmp, ca, cert, key):
    s = Slack(cert, key)
    s.script = [(500, "rollup_error", {}), (503, "", {})]
    d, cfg, inp = setup(tmp, "server_error", s.url, ca)
    rc, out = run(cfg, inp, timeout=20)
    check("slack 5xx: retried with backoff, delivered", rc == 0 and len(s.requests) == 3 and
          "event retry notifier=slack" in out, out)
    s.close()


def test_permanent(tmp, ca, cert, key):
    cases = [(400, "invalid_payload"), (403, "action_prohibited"), (404, "channel_not_found"),
             (410, "channel_is_archived"), (200, "not ok")]
    for status, body in cases:
        s = Slack(cert, key)
        s.script = [(status, body, {})]
        name = "permanent_%d_%s" % (status, body.replace(" ", "_"))
        d, cfg, inp = setup(tmp, name, s.url, ca)
        rc, out = run(cfg, inp, timeout=15)
        st = stat_line(out, "slack")
        audit = file_alerts(os.path.join(d, "audit.jsonl"))
        label = "slack %d %s" % (status, body)
        check(label + ": dead after one request, no retry", rc == 4 and len(s.requests) == 1 and st.get("dead") == "1"
              and "event dead notifier=slack" in out, out)
        check(label + ": reason names the error", body.split()[0] in st.get("line", ""), st.get("line"))
        check(label + ": kept in the spool as dead", "spool depth=0 dead=1" in out, out)
        check(label + ": operator told through the other notifier",
              [a["rule"] for a in audit] == ["insufficient_capacity", "pcmon_notifier_failed"], audit)
        no_secret(label, out + "".join(open(p).read() for p in
                                       [os.path.join(d, "audit.jsonl")] if os.path.exists(p)))
        s.close()


def test_pacing(tmp, ca, cert, key):
    s = Slack(cert, key)
    d, cfg, inp = setup(tmp, "pacing", s.url, ca, with_file=False, n=4)
    rc, out = run(cfg, inp, timeout=20)
    t = [r[0] for r in s.requests]
    gaps = [b - a for a, b in zip(t, t[1:])]
    check("slack pacing: ~1 msg/s per webhook", rc == 0 and len(t) == 4 and min(gaps) >= 0.95, gaps)
    titles = [p["blocks"][0]["text"]["text"][-2:] for p in s.payloads()]
    check("slack pacing: in order", titles == ["#0", "#1", "#2", "#3"], titles)
    s.close()


def test_down_then_back(tmp, ca, cert, key):
    port = free_port()
    url = "https://127.0.0.1:%d%s" % (port, SECRET_PATH)
    d, cfg, inp = setup(tmp, "down_back", url, ca, n=4)
    r = Run(cfg, inp, timeout=30)
    retried = wait_for(lambda: r.text().count("event retry notifier=slack") >= 2, 10)
    check("slack down: connection failures retried", retried, r.text())
    check("slack down: other notifier unaffected", wait_for(lambda: len(file_alerts(os.path.join(d, "audit.jsonl")))
                                                            == 4, 5))
    s = Slack(cert, key, port=port)
    rc = r.wait(40)
    titles = [p["blocks"][0]["text"]["text"][-2:] for p in s.payloads()]
    check("slack down then back: all arrive once, in order", rc == 0 and titles == ["#0", "#1", "#2", "#3"],
          (titles, r.out[-1500:]))
    no_secret("slack down then back", r.out)
    s.close()


def test_hang(tmp, ca, cert, key):
    s = Slack(cert, key)
    s.script = ["hang"]
    d, cfg, inp = setup(tmp, "hang", s.url, ca, n=3)
    r = Run(cfg, inp, timeout=30)
    got = wait_for(lambda: len(file_alerts(os.path.join(d, "audit.jsonl"))) == 3, 5)
    early = r.text()
    check("slack hanging: other notifier delivers while the Slack request hangs",
          got and "timed out" not in early and "event delivered notifier=slack" not in early, early)
    check("slack hanging: the Slack request was made", wait_for(lambda: len(s.requests) == 1, 5))
    rc = r.wait(40)
    check("slack hanging: total timeout, retry, all delivered", rc == 0 and len(s.requests) == 4 and
          "timed out" in r.out, r.out[-1500:])
    s.close()


def test_sigkill(tmp, ca, cert, key):
    s = Slack(cert, key)
    s.script = ["hang"]
    d, cfg, inp = setup(tmp, "sigkill", s.url, ca, with_file=False, n=2)
    r = Run(cfg, inp, timeout=30)
    check("sigkill: first send in flight", wait_for(lambda: len(s.requests) == 1, 10))
    spool = os.path.join(d, "state", "spool")
    files = sorted(f for f in os.listdir(spool) if f.endswith(".json"))
    r.p.send_signal(signal.SIGKILL)
    r.p.wait(10)
    check("sigkill: both alerts durable in the spool", len(files) == 2, files)
    s.stop_hang.set()
    rc, out = run(cfg, None, timeout=20)
    titles = [p["blocks"][0]["text"]["text"][-2:] for p in s.payloads()]
    check("sigkill: pending alerts resent after restart, in order", rc == 0 and titles[-2:] == ["#0", "#1"],
          (titles, out[-1500:]))
    check("sigkill: spool empty after", not [f for f in os.listdir(spool) if f.endswith(".json")])
    s.close()


def test_notify_tool(tmp, ca, cert, key):
    s = Slack(cert, key)
    s.script = [(404, "channel_not_found", {})]
    d, cfg, inp = setup(tmp, "test_notify", s.url, ca)
    rc, out = run(cfg, None, timeout=15, args=["--test-notify", "slack", "audit"])
    check("test-notify: precise failure for slack, ok for file",
          rc == 4 and "test slack FAILED: " in out and "channel_not_found" in out and "test audit ok" in out, out)
    p = s.payloads()
    check("test-notify: the alert is marked as a test", p and "TEST" in p[0]["blocks"][0]["text"]["text"], p)
    check("test-notify: nothing left in the state dir spool",
          not os.path.exists(os.path.join(d, "state", "spool")) or not os.listdir(os.path.join(d, "state", "spool")))
    no_secret("test-notify", out)
    s.close()


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-slack-")
    ca, cert, key = make_ca(tmp)
    test_payload(tmp, ca, cert, key)
    test_retry_after(tmp, ca, cert, key)
    test_server_error(tmp, ca, cert, key)
    test_permanent(tmp, ca, cert, key)
    test_pacing(tmp, ca, cert, key)
    test_down_then_back(tmp, ca, cert, key)
    test_hang(tmp, ca, cert, key)
    test_sigkill(tmp, ca, cert, key)
    test_notify_tool(tmp, ca, cert, key)
    finish()


if __name__ == "__main__":
    main()
