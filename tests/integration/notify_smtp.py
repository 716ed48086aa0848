#!/usr/bin/python3
"""SMTP delivery to a real SMTP server (python3-aiosmtpd) on 127.0.0.1 (T23): STARTTLS required and
AUTH with a password from a file; one of three recipients refused (the others still get it); the
received message parsed: Date, Message-ID, From, To, RFC 2047 subject with non-ASCII node names,
UTF-8 text body, no header injection from log text; a server without STARTTLS is refused (never
plaintext); a wrong password and a 5xx are permanent, a 451 is retried; smtps:// works."""
import email
import email.policy
import email.utils
import os
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
warnings.simplefilter("ignore")
from peers.common import alert, check, finish, make_ca, run, stat_line, write_alerts, write_config  # noqa: E402
from peers.smtp import Smtp  # noqa: E402

PASSWORD = "s3cret-Pa55word-for-test"
TITLE = "Knoten gpu-dy-\u00e4\u00f6\u00fc-[1-3] \u2713 \u8282\u70b9 down\r\nBcc: victim@example.com"
TEXT = "Launch failed.\nX-Injected: yes\nline with = sign and trailing space \n\u00e9t\u00e9 " + "long " * 60


def smtp_item(url, ca, pwfile, to, extra=""):
    tos = "".join("      - %s\n" % t for t in to)
    return ("  - name: mail\n    type: smtp\n    url: %s\n    from: pcmon <pcmon@head.example>\n    to:\n%s"
            "    username: pcmon\n    password_file: %s\n    ca_file: %s\n    timeout: 5s\n"
            "    retry_base: 200ms\n    retry_max: 1s\n%s" % (url, tos, pwfile, ca, extra))


def setup(tmp, name, url, ca, to=("ops@example.com",), password=PASSWORD, alerts=None):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    pw = os.path.join(d, "smtp.password")
    with open(pw, "w") as f:
        f.write(password + "\n")
    cfg = write_config(d, [smtp_item(url, ca, pw, to)])
    inp = os.path.join(d, "in.jsonl")
    write_alerts(inp, alerts or [alert(0, title=TITLE, text=TEXT, group_key="insufficient_capacity/demo/gpu")])
    return d, cfg, inp


def test_starttls(tmp, ca, cert, key):
    s = Smtp(cert, key, mode="starttls", password=PASSWORD, refuse=["nobody@example.com"])
    to = ["ops@example.com", "nobody@example.com", "admin@example.com"]
    d, cfg, inp = setup(tmp, "starttls", s.url, ca, to=to)
    rc, out = run(cfg, inp, timeout=20)
    msgs = s.messages()
    check("smtp starttls+auth: delivered once", rc == 0 and len(msgs) == 1, out)
    if not msgs:
        s.close()
        return None
    rcpts, raw = msgs[0]
    check("smtp: refused recipient skipped, others delivered", sorted(rcpts) == ["admin@example.com", "ops@example.com"],
          rcpts)
    m = email.message_from_bytes(raw, policy=email.policy.default)
    subj = str(m["Subject"])
    check("smtp: RFC 2047 subject decodes to the non-ASCII title",
          "\u00e4\u00f6\u00fc" in subj and "\u8282\u70b9" in subj and "=?UTF-8?B?" in raw.decode("ascii"), subj)
    check("smtp: no header injection (CR/LF stripped)", m["Bcc"] is None and m["X-Injected"] is None and
          "\nBcc:" not in raw.decode("ascii"), list(m.keys()))
    check("smtp: Date parses, Message-ID present", email.utils.parsedate_to_datetime(m["Date"]) is not None and
          m["Message-ID"].startswith("<pcmon.") and m["Message-ID"].endswith("@pcmon-test>"), (m["Date"], m["Message-ID"]))
    check("smtp: From and To", "pcmon@head.example" in str(m["From"]) and "admin@example.com" in str(m["To"]), str(m["To"]))
    check("smtp: MIME UTF-8 text/plain, quoted-printable", m["MIME-Version"] == "1.0" and
          m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8" and
          m["Content-Transfer-Encoding"] == "quoted-printable")
    body = m.get_content()
    check("smtp: body has the text, fields and contributing lines", "\u00e9t\u00e9" in body and "gpu-dy-g5-[1-7]" in body
          and "slurm_resume.log:1000" in body, body[:500])
    check("smtp: every line <= 78 octets, CRLF", all(len(l) <= 78 for l in raw.split(b"\r\n")) and
          b"\n" not in raw.replace(b"\r\n", b""), max(len(l) for l in raw.split(b"\r\n")))
    check("smtp: thread header from the group key", m["References"] and m["References"] == m["In-Reply-To"])
    check("smtp: password never printed", PASSWORD not in out, out)
    s.close()
    return raw


def test_no_starttls(tmp, ca, cert, key):
    s = Smtp(cert, key, mode="plain")
    d, cfg, inp = setup(tmp, "plain", s.url, ca)
    rc, out = run(cfg, inp, timeout=15)
    check("smtp without STARTTLS: refused, nothing sent in plaintext", rc == 4 and not s.messages() and
          "STARTTLS" in stat_line(out, "mail").get("line", ""), out)
    s.close()


def test_bad_password(tmp, ca, cert, key):
    s = Smtp(cert, key, mode="starttls", password=PASSWORD)
    d, cfg, inp = setup(tmp, "badpw", s.url, ca, password="wrong-password")
    rc, out = run(cfg, inp, timeout=15)
    check("smtp wrong password: permanent (dead), not retried", rc == 4 and "authentication failed" in out and
          "event retry" not in out and not s.messages(), out)
    check("smtp wrong password: password never printed", "wrong-password" not in out)
    s.close()


def test_deferred_and_rejected(tmp, ca, cert, key):
    s = Smtp(cert, key, mode="starttls", password=PASSWORD)
    s.handler.data_script = ["451 4.3.0 try again later"]
    d, cfg, inp = setup(tmp, "deferred", s.url, ca)
    rc, out = run(cfg, inp, timeout=15)
    check("smtp 451: retried, then delivered", rc == 0 and "event retry notifier=mail" in out and len(s.messages()) == 1,
          out)
    s.handler.data_script = ["554 5.7.1 message rejected"]
    d, cfg, inp = setup(tmp, "rejected", s.url, ca)
    rc, out = run(cfg, inp, timeout=15)
    check("smtp 554: permanent (dead), one attempt", rc == 4 and "event retry" not in out and
          "554" in stat_line(out, "mail").get("line", ""), out)
    s.close()


def test_smtps(tmp, ca, cert, key):
    s = Smtp(cert, key, mode="implicit", password=PASSWORD)
    d, cfg, inp = setup(tmp, "smtps", s.url, ca)
    rc, out = run(cfg, inp, timeout=15)
    check("smtps (implicit TLS): delivered", rc == 0 and len(s.messages()) == 1, out)
    s.close()


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-smtp-")
    ca, cert, key = make_ca(tmp)
    raw = test_starttls(tmp, ca, cert, key)
    if raw and os.environ.get("PCMON_SHOW_MAIL"):
        sys.stdout.write(raw.decode("ascii", "replace"))
    test_no_starttls(tmp, ca, cert, key)
    test_bad_password(tmp, ca, cert, key)
    test_deferred_and_rejected(tmp, ca, cert, key)
    test_smtps(tmp, ca, cert, key)
    finish()


if __name__ == "__main__":
    main()
