#!/usr/bin/python3
"""Writes a recorded scenario into a live log directory, line by line, in timestamp order across
files, the way the head node's daemons would have written it - only faster.

usage: feed.py SCENARIO_DIR ROOT [--rate LINES_PER_SECOND] [--limit N] [--resume]

--resume continues a feed that stopped early: what ROOT already holds of each file is skipped.

Every file under SCENARIO_DIR/var/log is appended to the same path under ROOT. Used by `make demo`
and by the end-to-end tests (a bounded loop: it ends when the recording ends).
"""
import argparse
import os
import re
import sys
import time

TS = re.compile(rb'^\[?(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)[,.](\d{3})|"datetime": "(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})')


def stamp(line, last):
    m = TS.search(line[:80])
    if not m:
        return last                  # continuation lines follow their record
    day = m.group(1) or m.group(3)
    ms = m.group(2) or m.group(4)
    return day.replace(b"T", b" ") + b"." + ms


def records(scenario):
    out = []
    base = os.path.join(scenario, "var", "log")
    for dirpath, _, files in os.walk(base):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, scenario)
            last = b""
            with open(path, "rb") as f:
                for i, line in enumerate(f):
                    last = stamp(line, last)
                    out.append((last, rel, i, line))
    out.sort(key=lambda r: (r[0], r[1], r[2]))
    return out


def unwritten(recs, root):
    """The records beyond what ROOT already holds, file by file (a feed writes whole lines)."""
    have = {}
    out = []
    for rec in recs:
        rel, line = rec[1], rec[3]
        if rel not in have:
            path = os.path.join(root, rel)
            have[rel] = os.path.getsize(path) if os.path.exists(path) else 0
        if have[rel] >= len(line):
            have[rel] -= len(line)
        else:
            have[rel] = 0
            out.append(rec)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("root")
    ap.add_argument("--rate", type=float, default=5000.0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args()
    files = {}
    start = time.monotonic()
    recs = records(a.scenario)
    if a.resume:
        recs = unwritten(recs, a.root)
    if a.limit:
        recs = recs[:a.limit]
    for n, (_, rel, _, line) in enumerate(recs):
        f = files.get(rel)
        if f is None:
            path = os.path.join(a.root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            f = files[rel] = open(path, "ab", buffering=0)
        f.write(line)
        ahead = (n + 1) / a.rate - (time.monotonic() - start)
        if ahead > 0.001:
            time.sleep(ahead)
    for f in files.values():
        f.close()
    print(f"feed: wrote {len(recs)} lines in {time.monotonic() - start:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
