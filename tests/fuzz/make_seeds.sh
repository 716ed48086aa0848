#!/bin/sh
# Writes the seed corpora of the libFuzzer targets (tests/fuzz/corpus/<target>/) from the recorded
# scenarios (tests/fixtures/scenarios), the shipped config (conf/pcmon.yaml) and the YAML examples
# of docs/. Deterministic: running it again gives the same files, so the committed seeds can be
# checked against it. Seeds are small (lines picked around the recorded incidents, a few KB per
# target); libFuzzer grows its own working corpus in tests/fuzz/corpus-work/.
# Usage: make_seeds.sh [OUTDIR]   (default tests/fuzz/corpus)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/corpus}
exec /usr/bin/python3 - "$top" "$out" <<'EOF'
import glob, json, os, re, shutil, sys
import yaml

top, out = sys.argv[1], sys.argv[2]
conf_path = os.path.join(top, "conf/pcmon.yaml")
conf_text = open(conf_path, encoding="utf-8").read()
conf = yaml.safe_load(conf_text)
sources = conf["sources"]
nsrc = len(sources)
scenarios = sorted(glob.glob(os.path.join(top, "tests/fixtures/scenarios/*/")))
LINE_MAX = 800           # bytes kept of one log line (fleet_config lines are longer: cut)
LINES_PER_FILE = 6       # lines kept per source file and scenario
INTERESTING = re.compile(r" - (ERROR|WARNING|CRITICAL) - |Launching|ResumeProgram config|fleet status|"
                         r"protected mode|failure count|INACTIVE|\"level\": \"(WARNING|ERROR)\"|"
                         r"health check|[Bb]ootstrap|OnNode|heartbeat|Terminating|replacement")

def src_byte(idx):
    """A printable byte that selects source idx (the targets take it modulo the source count)."""
    b = 65 + (idx - 65) % nsrc
    return bytes([b])

def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def source_of(relpath):
    for i, s in enumerate(sources):
        if s["path"] == "/" + relpath:
            return i
    return None

def pick_lines(scen):
    """Per source file: (source index, [lines]) with the lines the expected alerts cite, the lines
    just before them (context rules) and other interesting lines, in file order, capped."""
    cited = {}
    exp = os.path.join(scen, "expected.jsonl")
    for row in (json.loads(l) for l in open(exp, encoding="utf-8") if l.strip()):
        for ref in [row] + row.get("alt", []):
            cited.setdefault(ref["file"], set()).update(range(max(1, ref["line"] - 2), ref["line"] + 1))
    files = []
    for path in sorted(glob.glob(os.path.join(scen, "var/log/**/*"), recursive=True)):
        rel = os.path.relpath(path, scen)
        idx = source_of(rel)
        if idx is None or not os.path.isfile(path):
            continue
        lines = open(path, "rb").read().split(b"\n")
        want = sorted(cited.get(rel, set()))
        keep = [n for n in want if n <= len(lines)][:LINES_PER_FILE]
        for n, l in enumerate(lines, 1):
            if len(keep) >= LINES_PER_FILE:
                break
            if n not in keep and INTERESTING.search(l.decode("utf-8", "replace")):
                keep.append(n)
        if not keep:
            keep = list(range(1, min(3, len(lines)) + 1))
        files.append((idx, rel, [lines[n - 1][:LINE_MAX] for n in sorted(set(keep)) if lines[n - 1]]))
    return files

shutil.rmtree(out, ignore_errors=True)
picked = {os.path.basename(os.path.dirname(s)): pick_lines(s) for s in scenarios}

# rules: one seed per scenario and source file, each line prefixed by its source byte.
for scen, files in picked.items():
    for idx, rel, lines in files:
        body = b"".join(src_byte(idx) + l + b"\n" for l in lines)
        write("rules", "%s-%s" % (scen[:2], os.path.basename(rel)), body)

# pipeline: per scenario, every picked file (source byte + lines), NUL-separated; byte 0 picks
# max_line: 255 (16 KB, nothing cut) and, for one scenario, 3 (224 bytes: lines are cut).
for scen, files in picked.items():
    body = b"\0".join(src_byte(idx) + b"\n".join(lines[:4]) + b"\n" for idx, rel, lines in files[:6])
    write("pipeline", scen[:2], b"\xff" + body)
    if scen.startswith("01"):
        write("pipeline", scen[:2] + "-cut", b"\x03" + body)

# timeparse: the start of one line per file format, JSON datetimes, durations of the config.
stamps = set()
for files in picked.values():
    for idx, rel, lines in files:
        for l in lines[:1]:
            m = re.search(rb'"datetime": "([^"]+)"', l)
            stamps.add(m.group(1) if m else l[:40])
stamps.update([b"2024-10-14T06:21:39.234567Z", b"2024-10-14 06:21:39,234-07:00", b"[2024-10-14T05:34:18.000]"])
stamps.update(d.encode() for d in re.findall(r":\s+(\d+(?:ms|s|m|h|d))\b", conf_text))
stamps.update([b"1h30m", b"250ms", b"1d2h3m4s"])
for i, s in enumerate(sorted(stamps)):
    write("timeparse", "%02d" % i, s)

# hostlist: node lists of the expected alerts, node lists as the logs print them, edge cases.
nodes = set()
for scen in scenarios:
    for row in (json.loads(l) for l in open(os.path.join(scen, "expected.jsonl")) if l.strip()):
        for k in ("nodes", "node"):
            if isinstance(row.get(k), str):
                nodes.add(row[k])
for files in picked.values():
    for idx, rel, lines in files:
        for l in lines:
            m = re.search(rb"nodes \(x\d+\) (\[[^]]*\])", l) or re.search(rb"(\(x\d+\) \[[^]]*\])", l)
            if m and len(m.group(1)) < 600:
                nodes.add(m.group(1).decode())
nodes.update(["q-dy-c6xl-[1-7,9-11],other-1", "n[01-03,7,010-012]", "a-[1-3]b,c", "gpu-st-g5-12xl-17",
              "{'q-dy-a-1(10.0.0.1)', 'q-dy-a-2'}", "(x2) ['q-st-b-1', 'q-st-b-2']", "x[0-0],x[00-01]"])
for i, s in enumerate(sorted(nodes)):
    write("hostlist", "%02d" % i, s)

# template: each rule's title and text with the fields of an expected alert of that rule.
fields_by_rule = {}
for scen in scenarios:
    for row in (json.loads(l) for l in open(os.path.join(scen, "expected.jsonl")) if l.strip()):
        f = {k: str(v) for k, v in row.items() if not isinstance(v, (list, dict))}
        fields_by_rule.setdefault(row["condition"], f)
default_fields = {"cluster": "genomics-prod", "region": "us-east-1", "nodes": "q-dy-a-[1-3]", "count": "3"}
n = 0
for r in conf["rules"]:
    for key in ("title", "text"):
        if not r.get(key):
            continue
        f = fields_by_rule.get(r["id"], default_fields)
        flines = "".join("%s=%s\n" % (k, v) for k, v in sorted(f.items()))
        for mx in (4096, 40):
            write("template", "%s-%s-%d" % (r["id"], key, mx),
                  bytes([mx & 255, mx >> 8]) + r[key].encode() + b"\0" + flines.encode() + b"\ncluster=demo\n")
            n += 1
write("template", "braces", b"\x00\x10{{literal}} {a?x{a}y} {b} {no-close {?} }}\0a=1\nb=\xc3\xa9\xff\n")

# alert: alert objects (design.md) built from the expected alerts, firing and resolved.
def ts(s):
    return s.replace("+00:00", "Z")[:23] + "Z" if "T" in s else s
alerts, by_scen = [], {}
for scen in scenarios:
    for row in (json.loads(l) for l in open(os.path.join(scen, "expected.jsonl")) if l.strip()):
        refs = [row] + row.get("alt", [])
        labels = {k: str(row[k]) for k in ("queue", "compute_resource") if k in row}
        labels["cluster"] = "genomics-prod"
        fields = {k: str(v) for k, v in row.items() if k not in ("condition", "file", "line", "ts", "alt", "group")
                  and not isinstance(v, (list, dict))}
        alerts.append({"rule": row["condition"], "state": "firing", "severity": "critical",
                       "title": "%s on %s" % (row["condition"], row.get("nodes", "the cluster")),
                       "text": "Seen in %s.\nNext steps: check the logs." % row["file"],
                       "count": len(refs), "first_seen": ts(row["ts"]), "last_seen": ts(row["ts"]),
                       "labels": labels, "fields": fields,
                       "lines": ["%s:%d" % (r["file"], r["line"]) for r in refs],
                       "group_key": "%s\u001f%s" % (row["condition"], row.get("group", ""))})
        by_scen.setdefault(os.path.basename(scen.rstrip("/"))[:2], []).append(alerts[-1])
seen = set()
for a in alerts:
    if a["rule"] in seen:
        continue
    seen.add(a["rule"])
    write("alert", a["rule"], json.dumps(a))
    r = dict(a, state="resolved", notify=["slack", "audit"], test=True)
    write("alert", a["rule"] + "-resolved", json.dumps(r) + "\n")

# spool: entry files as spool.c writes them (alert plus routes), NUL-separated, one entry per
# sequence number from 1; the last seed holds a file cut off mid-write.
def entry(seq, a, states):
    return json.dumps({"seq": seq, "enqueued": 1728886909234000 + seq, "alert": a,
                       "routes": [{"notifier": n, "state": st, "attempts": i, "next_attempt": 0,
                                   **({"error": "HTTP 404 channel_not_found"} if st == "dead" else {})}
                                  for i, (n, st) in enumerate(states)]}, separators=(",", ":"))
route_sets = [[("slack", "pending")], [("slack", "done"), ("audit", "pending")], [("mail", "dead"), ("am", "done")]]
firsts = [a for a in alerts if a["rule"] in seen][:6]
for i, a in enumerate(firsts):
    files = [entry(1, a, route_sets[i % 3]), entry(2, dict(a, state="resolved"), route_sets[(i + 1) % 3])]
    write("spool", "%02d" % i, "\0".join(files))
cut = entry(1, firsts[0], route_sets[0])
write("spool", "half-written", cut + "\0" + cut[:len(cut) // 2])

# linesplit: byte 0 picks max_line (1 + b % 64), byte 1 the chunking; then log text: picked lines,
# a line of exactly max_line bytes, one past it, NUL bytes and a last line without its newline.
for i, (scen, files) in enumerate(sorted(picked.items())[:3]):
    idx, rel, lines = files[0]
    text = b"\n".join(l[:90] for l in lines[:4]) + b"\n"
    write("linesplit", scen[:2], bytes([63, 7 + i]) + text + b"x" * 64 + b"\n" + b"y" * 65 + b"\n\0\0\n" + text[:50])
write("linesplit", "boundaries", bytes([7, 3]) + b"12345678\n123456789\n\n\n1234567\n12345678")

# offsets: the tailer's offsets.json (lib/offsets.c): current files and rotated ones draining.
def gen(ino, off, lines, skip=False):
    g = {"dev": 64769, "ino": ino, "offset": off, "lineno": lines, "head_len": 1024,
         "head_hash": "%016x" % (0x9e3779b97f4a7c15 * ino % (1 << 64)), "btime": 1728886899234000123}
    return dict(g, skip=True) if skip else g
srcs = {}
for i, s_ in enumerate(sources):
    e = {"path": s_["path"]}
    if i % 3 != 2:
        e["file"] = gen(1000 + i, 4096 * i, 40 * i, skip=(i == 4))
    if i % 4 == 1:
        e["draining"] = [gen(900 + i, 52428800, 120000), gen(800 + i, 1024, 10)]
    srcs[s_["name"]] = e
write("offsets", "all-sources", json.dumps({"version": 1, "sources": srcs}, separators=(",", ":")))
write("offsets", "one", json.dumps({"version": 1, "sources": {"clustermgtd": {"path": sources[0]["path"], "file": gen(7, 0, 0)}}}))
write("offsets", "empty", '{"version": 1, "sources": {}}')

# jsonscan: the JSON event lines picked above, and a few shapes at the edges of its subset.
events = sorted({l for files in picked.values() for idx, rel, lines in files for l in lines if l.startswith(b"{")})
for i, l in enumerate(events[:12]):
    write("jsonscan", "%02d" % i, l)
write("jsonscan", "edges", b'{"a": "x\\u00e9\\n", "b": -1.5e3, "c": [1, {"d": null}], "e": true, "a": "last", "f": {}}')

# prefilter: literals of the shipped rules' patterns (as rules.c extracts them), then a log line.
lits = sorted({m for m in re.findall(r" - (?:ERROR|WARNING|INFO) - [A-Za-z ]{4,24}", conf_text)})[:6]
lits += ["InsufficientInstanceCapacity", "VcpuLimitExceeded", "event-type", "Launching"]
for i, (scen, files) in enumerate(sorted(picked.items())[:4]):
    idx, rel, lines = files[-1]
    chosen = [c[:24].encode() for c in lits[i:i + 6]]
    body = bytes([len(chosen) - 1]) + b"".join(bytes([len(c) - 1]) + c for c in chosen)
    write("prefilter", scen[:2], body + lines[0])

# grouper_state: the grouper's saved state (grouper_state.c), one group per expected alert.
def group_of(a, firing):
    return {"rule": a["rule"], "key": a["group_key"], "labels": a["labels"],
            "values": {k: [v] for k, v in a["fields"].items() if k != "nodes"},
            "nodes": [a["fields"]["nodes"]] if "nodes" in a["fields"] else [], "lines": a["lines"],
            "firing": firing, "flatline": False, "count": a["count"],
            "first_seen": 1728886899234000, "last_seen": 1728886933356000, "notify_at": 1728886909234000,
            "close_at": 1728887799234000, "last_notified": 1728886909234000 if firing else 0,
            "notified_count": a["count"] if firing else 0, "pending_at": 0, "src": 2}
for k, v in sorted(by_scen.items()):
    state = {"version": 1, "groups": [group_of(a, j % 2 == 0) for j, a in enumerate(v[:3])]}
    write("grouper_state", k, json.dumps(state))
write("grouper_state", "flatline", json.dumps({"version": 1, "groups": [
    {"rule": "clustermgtd_down", "key": "clustermgtd_down\u001fclustermgtd", "labels": {}, "values": {},
     "nodes": [], "lines": [], "firing": True, "flatline": True, "count": 1, "src": 0,
     "resolve_value": "2024-10-14 06:00:00", "pending_at": 1728886909234000}]}))
write("grouper_state", "empty", '{"version": 1, "groups": []}')

# config: the shipped config, the YAML examples of the docs, and the shipped config's head with
# one rule of each kind.
write("config", "pcmon.yaml", conf_text)
for doc in sorted(glob.glob(os.path.join(top, "docs/*.md"))):
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", open(doc, encoding="utf-8").read(), re.S)):
        write("config", "%s-%d.yaml" % (os.path.basename(doc)[:-3], i), block)
head = conf_text[:conf_text.index("\nrules:")]
blocks = re.split(r"\n(?=  - id: )", conf_text[conf_text.index("\nrules:"):conf_text.index("\nnotifiers:")])[1:]
kinds = {}
for b in blocks:
    m = re.search(r"^    (kind: \w+|ignore: true)", b, re.M)
    kinds.setdefault(m.group(1) if m else "event", b)
notifiers = """notifiers:
  - {name: audit, type: file, path: /var/log/pcmon/alerts.jsonl}
  - {name: out, type: stdout, timeout: 5s}
  - {name: slack, type: slack, url: 'https://hooks.slack.com/services/T/B/x', retry_base: 2s, retry_max: 10m}
  - {name: mail, type: smtp, url: 'smtp://127.0.0.1:2525', from: pcmon@x, to: [a@x, b@x], username: u, password_file: /etc/pcmon/pw}
  - {name: am, type: alertmanager, urls: ['http://127.0.0.1:9093', 'http://127.0.0.1:9094'], insecure_skip_verify: true}
  - {name: sns, type: sns, topic_arn: 'arn:aws:sns:us-east-1:123456789012:pcmon', region: us-east-1, endpoint: 'http://127.0.0.1:1'}
"""
for k, b in sorted(kinds.items()):
    write("config", "kind-%s.yaml" % k.split()[-1], head + "\nrules:\n" + b.strip("\n") + "\n" + notifiers)
EOF
