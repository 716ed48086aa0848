#!/usr/bin/python3
"""Replays every recorded scenario in tests/fixtures/scenarios and checks pcmon's output against the
operator's expectations (expected.jsonl, format in tests/fixtures/README.md):

- every expected detection (its trigger line or one of its alt lines) is matched by the right rule;
- exactly one firing alert per expected notification (a `group`, or an object without one), and
  it carries the first detection's line and the facts an operator needs;
- the resolutions (protected_mode_cleared, fleet_running) arrive as `resolved` alerts;
- nothing else fires: the quiet scenarios produce no alert at all.
"""
import json
import os
import shutil
import subprocess
import tempfile
import sys

TOP = os.environ.get("PCMON_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
PCMON = os.environ.get("PCMON", os.path.join(TOP, "build", "pcmon"))
SCENARIOS = os.path.join(TOP, "tests", "fixtures", "scenarios")

# condition -> (rule id prefix, alert state)
CONDITIONS = {
    "insufficient_capacity": ("insufficient_capacity", "firing"),
    "vcpu_limit": ("vcpu_limit", "firing"),
    "spot_limit": ("spot_limit", "firing"),
    "launch_failure_other": ("launch_failure", "firing"),
    "bootstrap_failure": ("bootstrap_failure", "firing"),
    "protected_mode": ("protected_mode", "firing"),
    "protected_mode_cleared": ("protected_mode", "resolved"),
    "fleet_stopped": ("fleet_stopped", "firing"),
    "fleet_running": ("fleet_stopped", "resolved"),
    "unhealthy_node": ("unhealthy_node", "firing"),
    "clustermgtd_down": ("clustermgtd_down", "firing"),
}
# expected fact -> alert field/label that must carry it
FACTS = {
    "queue": "queue", "compute_resource": "compute_resource", "error_code": "code",
    "instance_type": "instance_type", "availability_zone": "availability_zone",
    "health_check_type": "health_check_type", "event_code": "event_code", "url": "url",
    "http_status": "http_status", "action": "action", "vcpu_limit": "vcpu_limit", "subnet": "subnet",
    "api": "api", "status_from": "status_from", "status_to": "status_to", "node": "nodes",
    "heartbeat_timeout": "heartbeat_timeout", "threshold": "threshold",
}

failures = []


def fail(scenario, msg):
    failures.append(f"{scenario}: {msg}")


def run(args):
    out = subprocess.run([PCMON, "replay", *args], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"pcmon replay {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def refs(obj):
    yield f"{obj['file']}:{obj['line']}"
    for alt in obj.get("alt", []):
        yield f"{alt['file']}:{alt['line']}"


def rule_ok(rule, prefix):
    return rule == prefix or rule.startswith(prefix + "_")


def check_matches(name, root, expected):
    by_line = {}
    for m in run(["--root", root, "--matches"]):
        by_line.setdefault(m["line"], []).append(m)
    for e in expected:
        prefix, state = CONDITIONS[e["condition"]]
        what = "resolve" if state == "resolved" else "fire"
        if not any(rule_ok(m["rule"], prefix) and m["what"] == what for r in refs(e) for m in by_line.get(r, [])):
            fail(name, f"{e['condition']} at {e['file']}:{e['line']} not matched by {prefix} ({what})")


def expand_hostlist(expr):
    """Slurm hostlist "a-[1-3,5],b" -> names (the forms pcmon prints)."""
    names, depth, item = [], 0, ""
    for ch in expr + ",":
        if ch == "," and depth == 0:
            if "[" in item:
                head, rest = item.split("[", 1)
                body, tail = rest.split("]", 1)
                for part in body.split(","):
                    lo, _, hi = part.partition("-")
                    width = len(lo) if lo.startswith("0") else 0
                    for i in range(int(lo), int(hi or lo) + 1):
                        names.append(f"{head}{i:0{width}d}{tail}")
            elif item:
                names.append(item)
            item = ""
            continue
        depth += ch == "["
        depth -= ch == "]"
        item += ch
    return names


def has_fact(alert, key, value):
    field = FACTS[key]
    got = alert["fields"].get(field, alert["labels"].get(field))
    if got is None:
        return False
    want = str(value)
    if field == "nodes":
        return want in expand_hostlist(got)
    return want == got or want in [v.strip() for v in got.split(",")]


def notifications(expected):
    """One entry per notification the operator wants: the first detection of each group."""
    seen, out = set(), []
    for e in expected:
        g = e.get("group")
        if g is None or g not in seen:
            out.append(e)
            seen.add(g)
    return out


def check_alerts(name, root, expected):
    alerts = run(["--root", root, "--json"])
    wanted = notifications(expected)
    unclaimed = list(alerts)
    for e in wanted:
        prefix, state = CONDITIONS[e["condition"]]
        members = [x for x in expected if e.get("group") is not None and x.get("group") == e["group"]] or [e]
        lines = {r for m in members for r in refs(m)}
        hit = next((a for a in unclaimed if rule_ok(a["rule"], prefix) and a["state"] == state
                    and lines & set(a["lines"])), None)
        if hit is None:
            fail(name, f"no {state} {prefix} alert for {e['condition']} at {e['file']}:{e['line']}")
            continue
        unclaimed.remove(hit)
        for key, value in e.items():
            # A clear's expected status_from is the state before the start request (PROTECTED,
            # STOPPED); the alert carries the clearing line's own transition (STARTING -> RUNNING).
            if state == "resolved" and key == "status_from":
                continue
            if key in FACTS and not has_fact(hit, key, value):
                fail(name, f"{prefix} alert for {e['file']}:{e['line']} lacks {key}={value!r}: "
                           f"fields={hit['fields']} labels={hit['labels']}")
    fired = {a["rule"] for a in alerts if a["state"] == "firing"}
    for a in unclaimed:
        # A state rule's own clearing (e.g. clustermgtd back) is welcome when the rule fired here.
        if a["state"] == "resolved" and a["rule"] in fired:
            continue
        fail(name, f"unexpected {a['state']} alert {a['rule']}: {a['title']} (lines {a['lines'][:3]})")
    return alerts


def check_send(name, root, alerts):
    """`replay --send` delivers the same alerts through a notifier, on a state_dir that does not
    exist yet (made as `pcmon run` makes it)."""
    tmp = tempfile.mkdtemp(prefix="pcmon-send-")
    try:
        with open(os.path.join(TOP, "conf", "pcmon.yaml")) as f:
            text = f.read()
        out = os.path.join(tmp, "alerts.jsonl")
        text = text.replace("state_dir: /var/lib/pcmon", "state_dir: %s/state" % tmp)
        text = text.replace("notifiers: []", "notifiers:\n  - name: audit\n    type: file\n    path: %s\n" % out)
        cfg = os.path.join(tmp, "pcmon.yaml")
        with open(cfg, "w") as f:
            f.write(text)
        r = subprocess.run([PCMON, "replay", "--send", "-c", cfg, "--root", root], capture_output=True, text=True,
                           timeout=300)
        sent = []
        if os.path.exists(out):
            with open(out) as f:
                sent = [json.loads(l) for l in f if l.strip()]
        key = lambda a: (a["rule"], a["state"], json.dumps(a["labels"], sort_keys=True))  # noqa: E731
        ok = r.returncode == 0 and sorted(map(key, sent)) == sorted(map(key, alerts))
        print(f"{'PASS' if ok else 'FAIL'} replay --send {name}: {len(sent)} alerts delivered to a file notifier, "
              "state_dir created")
        if not ok:
            fail(name, f"replay --send: rc {r.returncode}, {len(sent)} sent, {len(alerts)} expected: {r.stderr[-400:]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not os.path.isdir(SCENARIOS):
        print(f"FAIL replay_fixtures: no scenarios in {SCENARIOS}")
        return 1
    for name in sorted(os.listdir(SCENARIOS)):
        root = os.path.join(SCENARIOS, name)
        with open(os.path.join(root, "expected.jsonl")) as f:
            expected = [json.loads(l) for l in f if l.strip()]
        before = len(failures)
        check_matches(name, root, expected)
        alerts = check_alerts(name, root, expected)
        status = "PASS" if len(failures) == before else "FAIL"
        print(f"{status} replay {name}: {len(alerts)} alerts for {len(notifications(expected))} expected notifications")
        if name.startswith("01_"):
            check_send(name, root, alerts)
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
