#!/usr/bin/python3
"""SNS delivery (T24): Publish signed with libcurl's SigV4 and IMDSv2 credentials, checked by an
HTTPS SNS stand-in with python3-botocore; credentials that expire mid-run are fetched again before
they expire; an old libcurl (simulated) gives a clear "SNS unavailable"; IMDS down is retried."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers.aws import Imds, Sns  # noqa: E402
from peers.common import (NOTIFYTOOL, alert, check, finish, free_port, make_ca, run, stat_line,  # noqa: E402
                          wait_for, write_alerts, write_config)

TOPIC = "arn:aws:sns:eu-west-1:123456789012:pcmon-alerts"


def sns_item(endpoint, imds, ca):
    return ("  - name: sns\n    type: sns\n    topic_arn: %s\n    endpoint: %s\n    imds_endpoint: %s\n"
            "    ca_file: %s\n    timeout: 3s\n    retry_base: 200ms\n    retry_max: 1s\n" % (TOPIC, endpoint, imds, ca))


def setup(tmp, name, endpoint, imds, ca, alerts=()):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    cfg = write_config(d, [sns_item(endpoint, imds, ca)])
    inp = os.path.join(d, "in.jsonl")
    write_alerts(inp, alerts)
    return d, cfg, inp


def test_publish(tmp, ca, cert, key):
    imds = Imds()
    sns = Sns(imds, cert, key)
    title = "Insufficient capacity on n\u00f6de gpu\r\nX: y " + "z" * 200
    d, cfg, inp = setup(tmp, "publish", sns.url, imds.url, ca, [alert(0, title=title), alert(1)])
    rc, out = run(cfg, inp, timeout=20)
    check("sns: both published, SigV4 verified by botocore", rc == 0 and len(sns.published) == 2 and not sns.errors,
          (out, sns.errors))
    check("sns: IMDSv2 token and credentials fetched once", imds.token_puts == 1 and imds.cred_fetches == 1,
          (imds.token_puts, imds.cred_fetches))
    if sns.published:
        akid, region, p = sns.published[0]
        check("sns: Publish to the topic in its region", p.get("Action") == "Publish" and p.get("TopicArn") == TOPIC
              and region == "eu-west-1", p)
        s = p.get("Subject", "")
        check("sns: subject ASCII, one line, < 100 chars", s and len(s) < 100 and s.isascii() and "\n" not in s
              and "\r" not in s and s.startswith("[FIRING critical] demo"), s)
        check("sns: message carries the alert", "gpu-dy-g5-[1-7]" in p.get("Message", "") and
              "slurm_resume.log:1000" in p.get("Message", ""), p.get("Message", "")[:300])
    check("sns: secret key and session token never printed", "secret/key" not in out and "session-token" not in out)
    sns.close()
    imds.close()


def test_expiry(tmp, ca, cert, key):
    imds = Imds(expires_in=302)   # refreshed 5 min before expiry: stale after ~2 s
    sns = Sns(imds, cert, key)
    d, cfg, _ = setup(tmp, "expiry", sns.url, imds.url, ca)
    p = subprocess.Popen([NOTIFYTOOL, "-c", cfg, "--input", "-", "--timeout", "30"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    p.stdin.write(json.dumps(alert(0)) + "\n")
    p.stdin.flush()
    first = wait_for(lambda: len(sns.published) == 1, 10)
    t0 = time.monotonic()
    wait_for(lambda: time.monotonic() - t0 > 2.5, 5)   # let the credentials enter their refresh window
    out = p.communicate(json.dumps(alert(1)) + "\n", timeout=40)[0]
    keys = [a for a, _, _ in sns.published]
    check("sns: credentials re-fetched from IMDS before they expire", first and p.returncode == 0 and
          len(keys) == 2 and keys[0] != keys[1] and imds.cred_fetches == 2 and not sns.errors,
          (keys, imds.cred_fetches, sns.errors, out[-800:]))
    sns.close()
    imds.close()


def test_old_libcurl(tmp, ca, cert, key):
    imds = Imds()
    sns = Sns(imds, cert, key)
    d, cfg, inp = setup(tmp, "oldcurl", sns.url, imds.url, ca, [alert(0)])
    rc, out = run(cfg, inp, timeout=10, args=["--curl-version", "7.81.0"])
    check("sns: old libcurl reported as 'SNS unavailable: libcurl 7.81.0'",
          rc == 4 and "SNS unavailable: libcurl 7.81.0" in out and not sns.published and imds.token_puts == 0, out)
    rc, out = run(cfg, None, timeout=10, args=["--curl-version", "7.81.0", "--test-notify", "sns"])
    check("sns: test-notify shows the same", rc == 4 and "test sns FAILED" in out and "SNS unavailable" in out, out)
    sns.close()
    imds.close()


def test_imds_down(tmp, ca, cert, key):
    imds = Imds()
    sns = Sns(imds, cert, key)
    d, cfg, inp = setup(tmp, "imdsdown", sns.url, "http://127.0.0.1:%d" % free_port(), ca, [alert(0)])
    rc, out = run(cfg, inp, timeout=2)
    st = stat_line(out, "sns")
    check("sns: IMDS unreachable is retried (with the imds-access.sh hint), not dead",
          rc == 3 and st.get("dead") == "0" and "imds-access.sh" in st.get("line", ""), out)
    sns.close()
    imds.close()


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-sns-")
    ca, cert, key = make_ca(tmp)
    test_publish(tmp, ca, cert, key)
    test_expiry(tmp, ca, cert, key)
    test_old_libcurl(tmp, ca, cert, key)
    test_imds_down(tmp, ca, cert, key)
    finish()


if __name__ == "__main__":
    main()
