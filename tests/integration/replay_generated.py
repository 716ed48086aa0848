#!/usr/bin/python3
"""Replays the generated scenario 07 (40 hours of a busy head node, about 52k lines and 11 MB: too big
to commit as a recording) and checks pcmon's alerts exactly.

`tests/tools/genlogs.py scenario07 DIR` writes the same files, formats, incidents and background volume
as the shared fixtures' recorded 07_throughput_40h_mixed, plus DIR/expected.jsonl (the operator's
expectations, in tests/fixtures' format) and DIR/expected_alerts.jsonl (the alerts `pcmon replay --json`
gives on the recording: rule, state, count, evidence lines, key labels and fields). This script:

- runs the checks of replay_fixtures.py on it (every detection matched by the right rule, one
  notification per expected group with its facts, nothing unexpected);
- compares `pcmon replay --json` with expected_alerts.jsonl alert by alert, in order: rule, state,
  count, lines, and the listed labels and fields.
Everything is generated into a temporary directory; nothing is read from outside the repository.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replay_fixtures as rf  # noqa: E402  (its checks; importing runs nothing)

TOP = rf.TOP
GENLOGS = os.path.join(TOP, "tests", "tools", "genlogs.py")
SEED = int(os.environ.get("PCMON_SCENARIO07_SEED", "1"))


def compare(alerts, wanted):
    errs = []
    if len(alerts) != len(wanted):
        errs.append(f"{len(alerts)} alerts, expected {len(wanted)}: " +
                    ", ".join(f"{a['rule']}/{a['state']}" for a in alerts))
    for i, (a, w) in enumerate(zip(alerts, wanted)):
        what = f"alert {i + 1} ({w['rule']} {w['state']})"
        for key in ("rule", "state", "count", "lines"):
            if a.get(key) != w[key]:
                errs.append(f"{what}: {key} is {a.get(key)!r}, expected {w[key]!r}")
        for part in ("labels", "fields"):
            for k, v in w[part].items():
                if a[part].get(k) != v:
                    errs.append(f"{what}: {part}.{k} is {a[part].get(k)!r}, expected {v!r}")
    return errs


def main():
    with tempfile.TemporaryDirectory(prefix="pcmon-s07-") as root:
        t = time.monotonic()
        gen = subprocess.run([sys.executable, GENLOGS, "scenario07", root, "--seed", str(SEED)],
                             capture_output=True, text=True, timeout=300)
        if gen.returncode != 0:
            print(f"FAIL replay_generated: genlogs.py scenario07 exited {gen.returncode}: {gen.stderr}")
            return 1
        size = lines = 0
        for d, _, files in os.walk(os.path.join(root, "var")):
            for f in files:
                p = os.path.join(d, f)
                size += os.path.getsize(p)
                with open(p, "rb") as fh:
                    lines += fh.read().count(b"\n")
        gen_s = time.monotonic() - t
        with open(os.path.join(root, "expected.jsonl")) as f:
            expected = [json.loads(l) for l in f if l.strip()]
        with open(os.path.join(root, "expected_alerts.jsonl")) as f:
            wanted = [json.loads(l) for l in f if l.strip()]
        name = f"scenario07 (seed {SEED})"
        t = time.monotonic()
        rf.check_matches(name, root, expected)
        alerts = rf.check_alerts(name, root, expected)
        replay_s = time.monotonic() - t
        errs = rf.failures + compare(alerts, wanted)
        # The background must stay the recording's size: a generator that shrank would no longer
        # test throughput-scale replay (the recording: 51k lines, 10.5 MB).
        if lines < 45000 or size < 9_000_000:
            errs.append(f"generated only {lines} lines, {size} bytes (expected about 52k lines, 11 MB)")
        status = "FAIL" if errs else "PASS"
        print(f"{status} replay_generated {name}: {lines} lines, {size / 1e6:.1f} MB generated in {gen_s:.1f}s; "
              f"{len(alerts)} alerts for {len(wanted)} expected ({replay_s:.1f}s of replay)")
        for e in errs:
            print("  " + e)
        return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
