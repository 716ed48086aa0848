#!/usr/bin/python3
"""Security faults against the real `pcmon run` (docs/security.md), with a real HTTPS Slack stand-in
(CA made here with openssl) and a real SMTP server (aiosmtpd, STARTTLS + AUTH) on 127.0.0.1:

- secret files: check-config warns about a world-readable url_file, a group-writable password_file
  and a world-readable config with an inline webhook (file, mode, fix named); `pcmon run` refuses
  each of them; a SIGHUP reload refuses one and the old config keeps alerting;
- hostile log text: <!channel>, <!here>, @here, <http://evil|click>, <@U1> and & from a log line
  arrive escaped at Slack (no link_names/parse); CR/LF from a text line and from a JSON event's
  field never become an email header at the SMTP server;
- secrets never leak: the webhook token and the SMTP password (also when the Slack endpoint echoes
  the token in an error) appear in none of: the daemon's stderr (-v), the sd_notify messages,
  `pcmon status --json`, `pcmon check-config`, the metrics textfile, the state directory (offsets,
  groups, last alerts, the spool), the audit file, the messages that reach Slack and SMTP;
- TLS: a certificate from an unknown CA is refused; insecure_skip_verify is loud in check-config, at
  every start and at every reload.
"""
import email
import email.policy
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
warnings.simplefilter("ignore")
from peers.common import check, finish, free_port, make_ca, wait_for  # noqa: E402
from peers.daemon import CLUSTERMGTD, EVENTS, PCMON, Daemon, alerts, append, pcmon_config, status_json  # noqa: E402
from peers.slack import SECRET_PATH, Slack  # noqa: E402
from peers.smtp import Smtp  # noqa: E402

TOKEN = SECRET_PATH.rsplit("/", 1)[1]
PASSWORD = "Sm7p-pa55word-never-printed"
SECRETS = [TOKEN, PASSWORD]

RULES = ("  - id: hostile_probe\n    sources: [clustermgtd]\n    match: 'HOSTILE-PROBE (?<msg>.*)$'\n"
         "    group_wait: 0s\n    title: 'probe {msg}'\n    text: 'log said: {msg}'\n"
         "  - id: hostile_json\n    sources: [clustermgtd_events]\n    json: {event-type: hostile-probe}\n"
         "    fields: {msg: detail.message}\n    group_wait: 0s\n    title: 'json probe {msg}'\n"
         "    text: 'event said: {msg}'\n"
         "  - id: plain_probe\n    sources: [clustermgtd]\n    match: 'PLAIN-PROBE (?<n>[0-9]+)'\n"
         "    group_wait: 0s\n    group_by: [n]\n    title: 'plain probe {n}'\n")
HOSTILE = "<!channel> <!here> @here <http://evil.example|click> <@U1> & \rBcc: victim@example.com"


def ts_line(msg, sec=0):
    return "2024-10-14 09:%02d:%02d,000 - [slurm_plugin.clustermgtd:x] - INFO - %s" % (sec // 60, sec % 60, msg)


def write_secret(path, text, mode=0o640):
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, mode)


def notifiers(tmp, slack, smtp_url, ca, insecure=False):
    return ["  - name: slack\n    type: slack\n    url_file: %s/slack.url\n    ca_file: %s\n    timeout: 5s\n"
            "    retry_base: 200ms\n    retry_max: 1s\n" % (tmp, ca),
            "  - name: mail\n    type: smtp\n    url: %s\n    from: pcmon <pcmon@head.example>\n"
            "    to: [ops@example.com]\n    username: pcmon\n    password_file: %s/smtp.password\n"
            "    ca_file: %s\n    timeout: 5s\n    retry_base: 200ms\n    retry_max: 1s\n" % (smtp_url, tmp, ca),
            "  - name: audit\n    type: file\n    path: %s/alerts.jsonl\n" % tmp]


def check_config(cfg):
    p = subprocess.run([PCMON, "check-config", "-c", cfg], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def run_refused(tmp, cfg, name):
    """pcmon run must exit 1 without READY=1."""
    d = Daemon(tmp, cfg, name=name)
    d.start(wait_ready=False)
    try:
        rc = d.proc.wait(30)
    except subprocess.TimeoutExpired:
        rc = None
    d.stop()
    return rc, d.saw("READY=1"), d.log()


def no_secret(label, text):
    leaked = [s[:4] + "..." for s in SECRETS if s in text]
    check(label + ": no secret in it", not leaked, "leaked %s" % leaked)


def test_secret_files(tmp, slack, smtp, ca):
    d = os.path.join(tmp, "files")
    os.makedirs(d)
    write_secret(os.path.join(d, "slack.url"), slack.url, 0o644)
    write_secret(os.path.join(d, "smtp.password"), PASSWORD, 0o660)
    cfg = pcmon_config(d, notifiers(d, slack, smtp.url, ca))
    rc, out = check_config(cfg)
    url_file, pw_file = os.path.join(d, "slack.url"), os.path.join(d, "smtp.password")
    check("check-config: exit 0 but warns about the world-readable url_file (file, mode, fix)",
          rc == 0 and "warning: notifiers[slack]: url_file %s holds a secret and is world-readable (mode 0644" % url_file
          in out and "chmod 0640 %s && chown root:pcmon %s" % (url_file, url_file) in out, out)
    check("check-config: warns about the group-writable password_file",
          "password_file %s holds a secret and is group-writable (mode 0660" % pw_file in out, out)
    check("check-config: says pcmon run refuses it", "pcmon run refuses to start" in out, out)
    no_secret("check-config output", out)
    rc, ready, log = run_refused(d, cfg, "refused1")
    check("run: refuses an insecure url_file and password_file (exit 1, never READY)",
          rc == 1 and not ready and "refusing to start" in log and url_file in log and pw_file in log, log[-2000:])
    no_secret("refused run's stderr", log)
    p = subprocess.run([PCMON, "test-notify", "-c", cfg, "audit"], capture_output=True, text=True, timeout=60)
    check("test-notify: same warning, and the test still goes out", p.returncode == 0 and
          "url_file %s holds a secret and is world-readable" % url_file in p.stderr and "audit" in p.stdout,
          p.stdout + p.stderr)
    no_secret("test-notify output", p.stdout + p.stderr)

    # A webhook inline in a world-readable config: the config itself is the secret file.
    os.chmod(url_file, 0o640)
    os.chmod(pw_file, 0o640)
    items = notifiers(d, slack, smtp.url, ca)
    items[0] = "  - name: slack\n    type: slack\n    url: %s\n    ca_file: %s\n" % (slack.url, ca)
    cfg2 = pcmon_config(d, items, name="inline.yaml", mode=0o644)
    rc, out = check_config(cfg2)
    check("check-config: warns about a world-readable config with an inline webhook",
          rc == 0 and "the configuration (the Slack webhook URL in \"url\") %s holds a secret and is world-readable"
          % cfg2 in out and "or move the secret to url_file" in out, out)
    no_secret("check-config output (inline)", out)
    rc, ready, log = run_refused(d, cfg2, "refused2")
    check("run: refuses a world-readable config holding a webhook", rc == 1 and not ready and cfg2 in log, log[-2000:])
    no_secret("refused run's stderr (inline)", log)
    os.chmod(cfg2, 0o640)
    rc, out = check_config(cfg2)
    check("check-config: quiet once the modes are fixed", rc == 0 and "warning" not in out, out)


def test_running(tmp, slack, smtp, ca):
    d = os.path.join(tmp, "run")
    os.makedirs(os.path.join(d, "var/log/parallelcluster"))
    write_secret(os.path.join(d, "slack.url"), slack.url)
    write_secret(os.path.join(d, "smtp.password"), PASSWORD)
    cfg = pcmon_config(d, notifiers(d, slack, smtp.url, ca), RULES)
    audit = os.path.join(d, "alerts.jsonl")
    dm = Daemon(d, cfg)
    check("run: starts with 0640 secret files", dm.start(), dm.log()[-2000:])

    # Hostile text in a text log line and in a JSON event field.
    slack.script = [(200, "ok", {}), (404, "invalid_token for %s (token %s)" % (SECRET_PATH, TOKEN), {})]
    append(d, CLUSTERMGTD, ts_line("HOSTILE-PROBE " + HOSTILE))
    check("hostile line: reaches Slack", wait_for(lambda: len(slack.payloads()) >= 1, 30))
    append(d, EVENTS, '{"datetime": "2024-10-14T09:00:01.000+00:00", "version": 0, "scheduler": "slurm", '
           '"cluster-name": "demo", "node-role": "HeadNode", "component": "clustermgtd", "level": "WARNING", '
           '"instance-id": "i-0", "event-type": "hostile-probe", "message": "x", "detail": {"message": '
           '"evil\\r\\nBcc: json-victim@example.com\\r\\nX-Injected: yes\\n\\nbody <!channel>"}}')
    got = wait_for(lambda: len(smtp.messages()) >= 3 and len(slack.requests) >= 2, 40)
    check("hostile line and event: delivered by mail and attempted on Slack", got,
          "mail %d slack %d\n%s" % (len(smtp.messages()), len(slack.requests), dm.log()[-3000:]))
    p = slack.payloads()[0] if slack.payloads() else {}
    # Slack parses mentions and links in mrkdwn text and in the fallback `text`; plain_text (the
    # header) is shown literally.
    strings = [p.get("text", "")] + list(mrkdwn_strings(p))
    check("slack: no raw <!channel>, <!here>, link or user mention from log text",
          p and not any(s in t for t in strings for s in ("<!channel>", "<!here>", "<http://evil", "<@U1>")), strings[:4])
    check("slack: & < > arrive as &amp; &lt; &gt;", any("&lt;!channel&gt;" in t and "&lt;!here&gt;" in t and
                                                       "&lt;http://evil.example|click&gt;" in t and "&amp;" in t
                                                       for t in strings), strings[:4])
    check("slack: no link_names and no parse=full (bare @here stays text)",
          p and not p.get("link_names") and p.get("parse") in (None, "none"), {k: p.get(k) for k in ("link_names", "parse")})
    mails = [email.message_from_bytes(raw, policy=email.policy.default) for _, raw in smtp.messages()]
    probes = [m for m in mails if "probe" in str(m["Subject"])]
    check("smtp: both probes arrived", len(probes) == 2, [str(m["Subject"]) for m in mails])
    for m, raw in zip(mails, [r for _, r in smtp.messages()]):
        head = raw.split(b"\r\n\r\n", 1)[0]
        names = [l.split(b":", 1)[0].lower() for l in head.split(b"\r\n") if l[:1] not in (b" ", b"\t")]
        check("smtp: no header injected from log text (%s)" % str(m["Subject"])[:30],
              m["Bcc"] is None and m["X-Injected"] is None and b"bcc" not in names and b"x-injected" not in names
              and b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b""),
              head.decode("ascii", "replace"))
    check("smtp: Message-ID has the host's name as domain", all(str(m["Message-ID"]).endswith("@%s>" % socket.gethostname())
                                                               for m in mails), [str(m["Message-ID"]) for m in mails])
    check("smtp: the injected text stays in the body, inert", any("json-victim@example.com" in m.get_content()
                                                                 for m in probes))

    log = dm.log()
    check("daemon log: CR/LF from log text escaped, no forged log line",
          "\\r\\nBcc: json-victim@example.com" in log and
          not any(l.startswith(("Bcc:", "X-Injected", "body <!channel>")) for l in log.splitlines()), log[-1500:])

    # Slack answered 404 echoing the token: the reason is scrubbed everywhere it goes.
    check("slack 404 echoing the token: dead, reported", wait_for(lambda: "invalid_token" in dm.log(), 20),
          dm.log()[-2000:])
    check("meta alert about the dead notifier reached the audit file",
          wait_for(lambda: any(a["rule"] == "pcmon_notifier_failed" for a in alerts(audit)), 20))

    # Reload refused for an insecure secret file; the old config keeps alerting.
    os.chmod(os.path.join(d, "slack.url"), 0o604)
    n = dm.reload()
    check("reload: insecure url_file refused, said in STATUS", dm.saw("reload failed", n) and
          dm.saw("insecure secret file", n), dm.notify_text()[-600:])
    check("reload: refusal names the file and mode in the log", wait_for(
        lambda: "reload refused" in dm.log() and "world-readable (mode 0604" in dm.log(), 10), dm.log()[-1500:])
    append(d, CLUSTERMGTD, ts_line("PLAIN-PROBE 1", 5))
    check("reload refused: old config still alerts", wait_for(
        lambda: any(a["rule"] == "plain_probe" for a in alerts(audit)), 20))
    os.chmod(os.path.join(d, "slack.url"), 0o640)
    n = dm.reload()
    check("reload: accepted once fixed", wait_for(lambda: "configuration reloaded" in dm.log(), 10) and
          not dm.saw("reload failed", n))

    # Every output the daemon produces, grepped for the secrets.
    wait_for(lambda: os.path.exists(os.path.join(d, "pcmon.prom")), 10)
    st_text, st = status_json(cfg)
    check("status --json answers", bool(st), st_text[:500])
    _, cc = check_config(cfg)
    rc = dm.stop()
    check("sigterm: exit 0", rc == 0, dm.log()[-1500:])
    outputs = {"daemon stderr (-v)": dm.log(), "sd_notify messages": dm.notify_text(), "status --json": st_text,
               "check-config": cc}
    for root, _, files in os.walk(d):
        for f in files:
            path = os.path.join(root, f)
            if path.endswith((".url", ".password", ".yaml", ".sock")) or "/var/log/" in path:
                continue   # the secrets themselves, the config, the logs fed in
            with open(path, "rb") as fh:
                outputs[os.path.relpath(path, d)] = fh.read().decode("utf-8", "replace")
    outputs["Slack requests"] = "".join(r[3].decode("utf-8", "replace") for r in slack.requests)
    outputs["SMTP messages"] = "".join(raw.decode("ascii", "replace") for _, raw in smtp.messages())
    check("outputs grepped: log, notify, status, metrics, state, spool, audit, Slack, SMTP",
          {"pcmon.prom", "state/offsets.json", "state/groups.json", "alerts.jsonl"} <= set(outputs) and
          any(k.startswith("state/spool/") for k in outputs), sorted(outputs))
    for name, text in sorted(outputs.items()):
        no_secret(name, text)


def test_insecure_loud(tmp, slack):
    d = os.path.join(tmp, "insecure")
    os.makedirs(os.path.join(d, "var/log/parallelcluster"))
    port = free_port()
    items = ["  - name: am\n    type: alertmanager\n    url: https://127.0.0.1:%d\n    insecure_skip_verify: true\n"
             % port, "  - name: audit\n    type: file\n    path: %s/alerts.jsonl\n" % d,
             # no ca_file: the system CAs do not know the test CA, so this must fail verification
             "  - name: noca\n    type: slack\n    url: %s\n    timeout: 5s\n    retry_base: 5s\n" % slack.url]
    cfg = pcmon_config(d, items, RULES)
    rc, out = check_config(cfg)
    check("insecure_skip_verify: check-config warns", rc == 0 and "notifiers[am]: insecure_skip_verify is on" in out,
          out)
    dm = Daemon(d, cfg)
    check("insecure_skip_verify: daemon starts", dm.start(), dm.log()[-1500:])
    loud = "insecure_skip_verify is on: TLS certificates of https://127.0.0.1:%d are NOT verified" % port
    check("insecure_skip_verify: an error at start", wait_for(lambda: dm.log().count(loud) == 1, 10) and
          "pcmon: error: am: " + loud in dm.log() and "am: am:" not in dm.log(), dm.log()[-1500:])
    dm.reload()
    check("insecure_skip_verify: again at every reload", wait_for(lambda: dm.log().count(loud) == 2, 10),
          dm.log()[-1500:])
    before = len(slack.requests)
    append(d, CLUSTERMGTD, ts_line("PLAIN-PROBE 7", 7))
    check("TLS: a server certificate from an unknown CA is refused (no ca_file)",
          wait_for(lambda: "noca (https://127.0.0.1:%d): alert plain_probe" % slack.port in dm.log(), 20) and
          "certificate" in dm.log().split("noca (https://127.0.0.1")[1].lower(), dm.log()[-1500:])
    check("TLS: nothing reached that server's HTTP handler", len(slack.requests) == before)
    check("insecure_skip_verify: sigterm exit 0", dm.stop() == 0)


def mrkdwn_strings(o):
    """The text of every mrkdwn text object in a Block Kit payload."""
    if isinstance(o, dict):
        if o.get("type") == "mrkdwn" and isinstance(o.get("text"), str):
            yield o["text"]
        for v in o.values():
            yield from mrkdwn_strings(v)
    elif isinstance(o, list):
        for v in o:
            yield from mrkdwn_strings(v)


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-sec-")
    try:
        ca, cert, key = make_ca(tmp)
        slack = Slack(cert, key)
        smtp = Smtp(cert, key, mode="starttls", password=PASSWORD)
        try:
            test_secret_files(tmp, slack, smtp, ca)
            test_running(tmp, slack, smtp, ca)
            test_insecure_loud(tmp, slack)
        finally:
            slack.close()
            smtp.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
