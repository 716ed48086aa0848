#!/usr/bin/python3
"""make bench: what pcmon costs a head node, against the tools it replaces (issue 8).

Generates a seeded head-node log mix (tests/tools/genlogs.py, ~0.1% alerting lines), then
measures and prints one table:
  throughput  `pcmon replay` with the default rules, and over the same files grep -c -E with the
              equivalent patterns, SEC, swatchdog and rsyslog's imfile when installed; medians of
              several runs, lines/s and pcmon's ratio to each; pcmon's matches against the
              generator's ground truth
  latency     `pcmon run` with a file notifier (and a loopback Slack stand-in): one matching line
              appended at a time, write -> alert written, p50/p99/max
  memory      peak RSS of a 1M-line replay and of following 1M appended lines; with --soak the RSS
              at the start and end of 10 minutes of steady appends
  idle        CPU time and context switches of `pcmon run` over 60 s of idle files
A slow machine gives slow numbers, never a failure: the exit status is 0 unless the bench itself
could not run (no generator, no pcmon). Everything runs on this machine; the stand-in listens on
127.0.0.1 only.
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MiB = 1024 * 1024


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes and /proc

RUNSTAT = None   # build/tests/runstat, set in main()


def run_timed(cmd, stdout=subprocess.DEVNULL, env=None):
    """Runs cmd through runstat; returns (wall seconds, CPU seconds, peak RSS in KiB, exit code)."""
    p = subprocess.run([RUNSTAT] + cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    last = [line for line in p.stderr.decode(errors="replace").splitlines() if line.startswith("runstat ")][-1]
    wall, cpu, rss, code = last.split()[1:]
    return float(wall), float(cpu), int(rss), int(code)


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def rss_kib(pid, key="VmRSS"):
    return int(proc_status(pid)[key].split()[0])


def rollup(pid, key):
    """A /proc/PID/smaps_rollup value in KiB (0 where the kernel has none)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_and_switches(pid):
    """(CPU seconds, context switches) summed over the process's threads."""
    cpu, switches = 0.0, 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        base = f"/proc/{pid}/task/{tid}"
        with open(base + "/schedstat") as f:
            cpu += int(f.read().split()[0]) / 1e9
        st = proc_status_path(base + "/status")
        switches += int(st["voluntary_ctxt_switches"]) + int(st["nonvoluntary_ctxt_switches"])
    return cpu, switches


def proc_status_path(path):
    fields = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def committed_offsets(state_dir):
    """{path: offset} the daemon has committed (offsets.json: written once every alert derived from
    the lines before the offset is spooled)."""
    try:
        with open(os.path.join(state_dir, "offsets.json")) as f:
            t = json.load(f)
    except (OSError, ValueError):
        return {}
    return {v["path"]: v["file"]["offset"] for v in t.get("sources", {}).values() if "file" in v}


def wait_for(cond, timeout, step=0.05):
    """Polls cond until it returns a true value or timeout seconds pass; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def fmt_rate(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def fstype(path):
    best, kind = "", "?"
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1]
            if path.startswith(mnt) and len(mnt) >= len(best):
                best, kind = mnt, parts[2]
    return kind


# ---------------------------------------------------------------- the generated mix

def generate(work, lines, seed):
    gen = os.environ.get("PCMON_GENLOGS", os.path.join(TOP, "tests/tools/genlogs.py"))
    if not os.path.exists(gen):
        log("bench: tests/tools/genlogs.py is missing (the seeded log generator); nothing to measure")
        sys.exit(1)
    out = os.path.join(work, "mix")
    subprocess.run(["/usr/bin/python3", gen, "mix", out, "--lines", str(lines), "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "truth.json")) as f:
        truth = json.load(f)
    return out, truth


def source_paths(conf_text):
    """The configured sources' paths, in order (the shipped config: sources before rules)."""
    block = conf_text.split("\nsources:", 1)[1].split("\nrules:", 1)[0]
    return re.findall(r"^\s+path:\s*(/\S+)", block, re.M)


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            n += chunk.count(b"\n")
    return n


def make_config(work, name, notifiers="", grouping=None):
    """conf/pcmon.yaml with its state_dir, notifiers and grouping keys changed (design.md says tools
    build their config this way)."""
    with open(os.path.join(TOP, "conf/pcmon.yaml")) as f:
        text = f.read()
    state = os.path.join(work, name + "-state")
    text = re.sub(r"^state_dir:.*$", f"state_dir: {state}", text, flags=re.M)
    for key, value in (grouping or {}).items():
        text, n = re.subn(rf"^(  {key}:)\s*\S+", rf"\g<1> {value}", text, flags=re.M)
        assert n == 1, key
    text = re.sub(r"^notifiers:.*$", "notifiers:" + (notifiers or " []"), text, flags=re.M)
    path = os.path.join(work, name + ".yaml")
    # 0640 before the secret goes in: pcmon refuses a config with an inline webhook URL that
    # other users can read (docs/security.md).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    os.fchmod(fd, 0o640)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


# ---------------------------------------------------------------- throughput

class Tool:
    def __init__(self, name, prepare, command, count=None, finish=None):
        self.name, self.prepare, self.command, self.count, self.finish = name, prepare, command, count, finish
        self.walls, self.cpus, self.matches = [], [], None
        self.stdout_path = None   # where its standard output goes (counted), else /dev/null


def pcmon_tool(pcmon, conf, root):
    return Tool("pcmon replay", None, lambda: [pcmon, "replay", "-c", conf, "--root", root])


def grep_tool(patterns, files, work):
    out = os.path.join(work, "grep.out")
    cmd = ["grep", "-c", "-h", "-E"] + [a for p in patterns for a in ("-e", p)] + files

    def count():
        with open(out) as f:
            return sum(int(x) for x in f.read().split())
    return Tool("grep -c -E (LC_ALL=C)", None, lambda: cmd, count=count), out


def sec_tool(patterns, files, work):
    conf, out = os.path.join(work, "sec.conf"), os.path.join(work, "sec.out")
    with open(conf, "w") as f:
        for p in patterns:
            f.write(f"type=Single\nptype=RegExp\npattern={p}\ndesc=match\naction=write {out} $0\n\n")

    def prepare():
        open(out, "w").close()
    cmd = ["sec", f"--conf={conf}", "--notail", "--nointevents", "--log=/dev/null"] + [f"--input={p}" for p in files]
    return Tool("SEC " + tool_version(["sec", "--version"], r"SEC \(Simple Event Correlator\) (\S+)"), prepare,
                lambda: cmd, count=lambda: count_lines(out))


def swatch_tool(patterns, files, work):
    conf, combined = os.path.join(work, "swatch.conf"), os.path.join(work, "swatch-all.log")
    with open(conf, "w") as f:
        for p in patterns:
            f.write(f"watchfor /{p.replace('/', chr(92) + '/')}/\n  echo\n\n")
    with open(combined, "wb") as out:   # swatchdog examines one file
        for p in files:
            with open(p, "rb") as f:
                shutil.copyfileobj(f, out, MiB)
    stdout = os.path.join(work, "swatch.out")
    cmd = ["swatchdog", f"--config-file={conf}", f"--examine={combined}", f"--script-dir={work}"]
    return Tool("swatchdog " + tool_version(["swatchdog", "--version"], r"(\d[\d.]+)"), None, lambda: cmd,
                count=lambda: count_lines(stdout)), stdout


def tool_version(cmd, pattern):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        m = re.search(pattern, out.stdout + out.stderr)
        return m.group(1) if m else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


class Rsyslog:
    """rsyslogd with imfile over copies of the files that end in a sentinel line: the time is from
    start until every sentinel went through the ruleset."""

    def __init__(self, patterns, files, work):
        self.work, self.name = work, "rsyslog imfile " + tool_version(["rsyslogd", "-v"], r"rsyslogd\s+(\S+)")
        self.walls, self.cpus, self.matches = [], [], None
        self.files = []
        for i, p in enumerate(files):
            copy = os.path.join(work, f"rsyslog-in-{i}.log")
            with open(p, "rb") as f, open(copy, "wb") as out:
                shutil.copyfileobj(f, out, MiB)
                out.write(b"PCMON-BENCH-END\n")
            self.files.append(copy)
        self.cond = " or ".join(f're_match($msg, "{esc(p)}")' for p in patterns)

    def run_once(self):
        run = tempfile.mkdtemp(prefix="rsyslog-", dir=self.work)
        matches, done = os.path.join(run, "matches"), os.path.join(run, "done")
        conf = os.path.join(run, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(f'global(workDirectory="{run}" maxMessageSize="64k")\n')
            f.write('module(load="imfile" mode="inotify")\n')
            for i, p in enumerate(self.files):
                f.write(f'input(type="imfile" file="{p}" tag="f{i}" ruleset="bench" freshStartTail="off")\n')
            f.write('template(name="raw" type="string" string="%msg%\\n")\n')
            f.write('ruleset(name="bench") {\n')
            f.write(f'  if $msg contains "PCMON-BENCH-END" then action(type="omfile" file="{done}" template="raw")\n')
            f.write(f'  else if {self.cond} then action(type="omfile" file="{matches}" template="raw")\n')
            f.write('}\n')
        t0 = time.perf_counter()
        p = subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", os.path.join(run, "pid")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ok = wait_for(lambda: os.path.exists(done) and count_lines(done) >= len(self.files), 600, 0.005)
        wall = time.perf_counter() - t0
        p.send_signal(signal.SIGTERM)
        _, _, ru = os.wait4(p.pid, 0)
        if ok:
            self.walls.append(wall)
            self.cpus.append(ru.ru_utime + ru.ru_stime)
            self.matches = count_lines(matches) if os.path.exists(matches) else 0
        shutil.rmtree(run, ignore_errors=True)
        return bool(ok)


def esc(p):
    return p.replace("\\", "\\\\").replace('"', '\\"')


def measure_throughput(tools, runs):
    for r in range(runs):
        for t in tools:
            if isinstance(t, Rsyslog):
                t.run_once()
                continue
            if t.prepare:
                t.prepare()
            env = dict(os.environ, LC_ALL="C") if t.name.startswith("grep") else None
            with open(t.stdout_path or os.devnull, "w") as so:
                wall, cpu, _, rc = run_timed(t.command(), stdout=so, env=env)
            if rc not in (0, 1):   # grep: 1 is "no match"
                log(f"bench: {t.name} exited {rc}; left out")
                t.walls = []
                break
            t.walls.append(wall)
            t.cpus.append(cpu)
            if t.count:
                t.matches = t.count()


# ---------------------------------------------------------------- match counts

# Conditions of the fixtures' vocabulary that are a rule's clearing side, or a differently named rule.
CONDITION_RULES = {
    "protected_mode_cleared": ("protected_mode", "resolve"),
    "fleet_running": ("fleet_stopped", "resolve"),
    "launch_failure_other": ("launch_failure", "fire"),
}


def lineref(x):
    """"path:line" of a truth entry ({"file", "line"} or already a string), path relative to the mix."""
    if isinstance(x, dict) and "file" in x and "line" in x:
        x = f"{x['file']}:{x['line']}"
    return str(x).lstrip("./") if isinstance(x, (str, dict)) else None


def truth_lines(truth):
    """{condition: (count, set of "path:line" or None)} from truth.json, whichever plain shape it
    uses: counts, lists of lines, or objects holding either."""
    for key in ("conditions", "per_condition", "counts", "truth"):
        v = truth.get(key)
        if not isinstance(v, dict):
            continue
        out = {}
        for cond, x in v.items():
            if isinstance(x, dict):
                x = x.get("lines", x.get("count", 0))
            if isinstance(x, list):
                refs = {lineref(e) for e in x}
                out[cond] = (len(x), None if None in refs else refs)
            elif isinstance(x, int):
                out[cond] = (x, None)
        return out
    return {}


def pcmon_matches(pcmon, conf, root):
    """{(rule, what): set of "path:line"} from `pcmon replay --matches`."""
    out = subprocess.run([pcmon, "replay", "--matches", "-c", conf, "--root", root], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        m = json.loads(line)
        found.setdefault((m["rule"], m["what"]), set()).add(m["line"])
    return found


def compare_truth(truth, found):
    """Rows (condition, truth count, pcmon count, lines that differ) and whether all agree."""
    rows, ok = [], True
    for cond, (want, refs) in sorted(truth_lines(truth).items()):
        rule, what = CONDITION_RULES.get(cond, (cond, "fire"))
        got = found.get((rule, what), set())
        diff = len(refs ^ got) if refs is not None else None
        rows.append((cond, want, len(got), diff))
        ok &= len(got) == want and not diff
    return rows, ok


# ---------------------------------------------------------------- the daemon

class Daemon:
    """`pcmon run` on a config, with a NOTIFY_SOCKET to see READY=1 (no sleeping)."""

    def __init__(self, pcmon, conf, root, work, name):
        self.sock_path = os.path.join(work, name + ".notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path)
        env.pop("WATCHDOG_USEC", None)
        self.err = open(os.path.join(work, name + ".log"), "w")
        self.p = subprocess.Popen([pcmon, "run", "-c", conf, "--root", root], env=env, stdout=self.err,
                                  stderr=self.err)
        self.got_ready = threading.Event()
        self.drain = threading.Thread(target=self.read_notify, daemon=True)
        self.drain.start()
        self.ready = self.got_ready.wait(30)

    def read_notify(self):
        """Reads every notification: an unread socket fills up and blocks the daemon's sd_notify."""
        while True:
            try:
                if b"READY=1" in self.sock.recv(4096):
                    self.got_ready.set()
            except OSError:
                return

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.sock.close()   # the reader thread is a daemon thread: it ends with the bench
        self.err.close()


def follow_root(work, name, paths):
    root = os.path.join(work, name)
    for p in paths:
        os.makedirs(os.path.dirname(root + p), exist_ok=True)
        open(root + p, "w").close()
    return root


UNHEALTHY = ("%TS% - [slurm_plugin.clustermgtd:_get_nodes_failing_health_check] - WARNING - Node "
             "bench-st-{m}-1(10.0.{a}.{b}) is associated with instance i-0{m}aa that is failing "
             "ec2_health_check. EC2 health state: ['i-0{m}aa', 'running', {{'Details': [{{'Name': "
             "'reachability', 'Status': 'failed'}}], 'Status': 'impaired'}}, None]\n")


def latency_lines(n, tag):
    """n lines, each its own alert group (the compute resource differs), with its marker."""
    out = []
    for i in range(n):
        m = f"{tag}{i:05d}"
        out.append(m + "\t" + UNHEALTHY.format(m=m, a=i // 250, b=i % 250 + 1))
    return "".join(out)


def measure_latency(helper, pcmon, work, paths, n, notifiers, watched, name, gap_ms=0, state_base=None):
    """p50/p99/max of write -> alert in `watched`. The state directory (spool, offsets) goes below
    state_base when given (tmpfs: what the path costs without the disk's fsync)."""
    conf = make_config(state_base or work, name, notifiers,
                       {"group_wait": "0s", "storm_per_minute": "10000", "max_groups": "100000"})
    root = follow_root(work, name, paths)
    d = Daemon(pcmon, conf, root, work, name)
    if not d.ready:
        d.stop()
        return None
    logf = root + "/var/log/parallelcluster/clustermgtd"
    state = os.path.join(state_base or work, name + "-state")
    p = subprocess.run([helper, logf, watched, "5000", str(gap_ms), state], input=latency_lines(n, "lat"),
                       capture_output=True, text=True)
    d.stop()
    lat = [int(x) / 1000 for x in p.stdout.split() if x != "lost"]
    lost = p.stdout.split().count("lost")
    if not lat:
        return {"n": 0, "lost": lost}
    lat.sort()
    return {"n": len(lat), "lost": lost, "p50": lat[len(lat) // 2], "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "max": lat[-1]}


class SlackStandIn(http.server.BaseHTTPRequestHandler):
    """Accepts webhook posts and appends each body as one line to the server's `received` file."""
    disable_nagle_algorithm = True   # the reply's two writes must not wait for a delayed ACK

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(self.server.received, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def slack_latency(helper, pcmon, work, paths, n):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlackStandIn)
    srv.received = os.path.join(work, "slack.received")
    open(srv.received, "w").close()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    notifiers = (f"\n  - name: slack\n    type: slack\n    url: http://127.0.0.1:{srv.server_address[1]}/hook\n"
                 "    retry_base: 100ms\n")
    try:
        # The Slack notifier sends at most one message a second (counted from the end of the last
        # send): lines are paced well past that, so the pacing never shows in the latency.
        return measure_latency(helper, pcmon, work, paths, n, notifiers, srv.received, "slack", gap_ms=1500)
    finally:
        srv.shutdown()


def append_all(files, dests, chunk=MiB):
    """Appends every generated file to its followed copy, in chunks as a busy writer would."""
    for src, dst in zip(files, dests):
        with open(src, "rb") as f, open(dst, "ab") as out:
            while data := f.read(chunk):
                out.write(data)
                out.flush()


def follow_memory(pcmon, work, paths, files, rels):
    alerts = os.path.join(work, "follow-alerts.jsonl")
    conf = make_config(work, "follow", f"\n  - name: audit\n    type: file\n    path: {alerts}\n")
    root = follow_root(work, "follow", paths)
    d = Daemon(pcmon, conf, root, work, "follow")
    if not d.ready:
        d.stop()
        return None
    start_rss = rss_kib(d.p.pid)
    dests = [root + r for r in rels]
    t0 = time.perf_counter()
    append_all(files, dests)
    sizes = {p: os.path.getsize(p) for p in dests}
    state = os.path.join(work, "follow-state")
    done = wait_for(lambda: all(committed_offsets(state).get(p, -1) >= n for p, n in sizes.items()), 600)
    elapsed = time.perf_counter() - t0
    res = {"start": start_rss, "peak": rss_kib(d.p.pid, "VmHWM"), "done": bool(done), "seconds": elapsed,
           "anon": rss_kib(d.p.pid, "RssAnon"), "pss": rollup(d.p.pid, "Pss")}
    d.stop()
    return res


def soak(pcmon, work, paths, files, rels, seconds, rate):
    conf = make_config(work, "soak", f"\n  - name: audit\n    type: file\n    path: {work}/soak-alerts.jsonl\n")
    root = follow_root(work, "soak", paths)
    d = Daemon(pcmon, conf, root, work, "soak")
    if not d.ready:
        d.stop()
        return None
    start = rss_kib(d.p.pid)
    sources = []
    for src, rel in zip(files, rels):
        with open(src, "rb") as f:
            sources.append((f.read().splitlines(keepends=True), open(root + rel, "ab")))
    t0, sent, i = time.monotonic(), 0, 0
    total = sum(len(s[0]) for s in sources)
    while time.monotonic() - t0 < seconds:   # bounded: ends after `seconds`
        due = int((time.monotonic() - t0) * rate)
        while sent < due:
            lines, out = sources[i % len(sources)]
            out.write(lines[(sent // len(sources)) % len(lines)])
            sent += 1
            i += 1
        for _, out in sources:
            out.flush()
        time.sleep(0.1)   # pacing the writer, not waiting for pcmon
    end = rss_kib(d.p.pid)
    for _, out in sources:
        out.close()
    d.stop()
    return {"start": start, "end": end, "lines": sent, "of": total}


def idle(pcmon, work, paths, seconds):
    conf = make_config(work, "idle")
    root = follow_root(work, "idle", paths)
    d = Daemon(pcmon, conf, root, work, "idle")
    if not d.ready:
        d.stop()
        return None
    time.sleep(1)   # let start-up settle before the window opens (not synchronisation)
    cpu0, sw0 = cpu_and_switches(d.p.pid)
    time.sleep(seconds)   # the measurement window itself
    cpu1, sw1 = cpu_and_switches(d.p.pid)
    d.stop()
    return {"cpu": cpu1 - cpu0, "switches": sw1 - sw0, "seconds": seconds}


# ---------------------------------------------------------------- report

PEERS = (("sec", "sec"), ("swatch", "swatchdog"), ("rsyslog", "rsyslogd"))


def ensure_peers(install):
    """apt-get installs the peers that are missing (once more after an update if that fails)."""
    missing = [pkg for pkg, exe in PEERS if not shutil.which(exe)]
    if not (missing and install and os.geteuid() == 0 and shutil.which("apt-get")):
        return
    log(f"bench: installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    if subprocess.run(cmd, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], **quiet)
        subprocess.run(cmd, **quiet)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs, {model}, load {os.getloadavg()[0]:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="build directory with pcmon and tests/followlat")
    ap.add_argument("--lines", type=int, default=int(os.environ.get("BENCH_LINES", 1000000)))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--alerts", type=int, default=1000, help="alerts timed for the file notifier")
    ap.add_argument("--slack-alerts", type=int, default=20, help="alerts timed through the Slack stand-in")
    ap.add_argument("--idle", type=float, default=60, help="seconds of the idle window")
    ap.add_argument("--soak", action="store_true", help="also 10 minutes of steady appends")
    ap.add_argument("--soak-seconds", type=float, default=600)
    ap.add_argument("--no-install", action="store_true", help="do not apt-get install sec swatch rsyslog")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    global RUNSTAT
    build = os.path.join(TOP, args.build)
    pcmon, helper = os.path.join(build, "pcmon"), os.path.join(build, "tests/followlat")
    RUNSTAT = os.path.join(build, "tests/runstat")
    if not os.access(pcmon, os.X_OK):
        log(f"bench: {pcmon} not built (make bench builds it)")
        return 1
    ensure_peers(not args.no_install)
    work = tempfile.mkdtemp(prefix="pcmon-bench-")
    try:
        return bench(args, pcmon, helper, work)
    finally:
        if args.keep:
            log(f"bench: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def bench(args, pcmon, helper, work):
    log(f"bench: generating {args.lines} lines (seed {args.seed}) in {work}")
    mix, truth = generate(work, args.lines, args.seed)
    with open(os.path.join(TOP, "conf/pcmon.yaml")) as f:
        paths = source_paths(f.read())
    rels = [p for p in paths if os.path.exists(mix + p)]
    files = [mix + p for p in rels]
    total = sum(count_lines(p) for p in files)
    nbytes = sum(os.path.getsize(p) for p in files)
    patterns = truth.get("grep_patterns", [])
    conf = os.path.join(TOP, "conf/pcmon.yaml")

    tools = [pcmon_tool(pcmon, conf, mix)]
    if patterns:
        t, out = grep_tool(patterns, files, work)
        t.stdout_path = out
        tools.append(t)
        if shutil.which("sec"):
            tools.append(sec_tool(patterns, files, work))
        if shutil.which("swatchdog"):
            t, out = swatch_tool(patterns, files, work)
            t.stdout_path = out
            tools.append(t)
        if shutil.which("rsyslogd"):
            tools.append(Rsyslog(patterns, files, work))
    log(f"bench: throughput, {args.runs} runs of {', '.join(t.name for t in tools)}")
    measure_throughput(tools, args.runs)
    _, _, replay_rss, _ = run_timed([pcmon, "replay", "-c", conf, "--root", mix])
    rows, truth_ok = compare_truth(truth, pcmon_matches(pcmon, conf, mix))

    log(f"bench: follow latency, {args.alerts} alerts to a file notifier")
    alerts = os.path.join(work, "lat-alerts.jsonl")
    lat_file = measure_latency(helper, pcmon, work, paths, args.alerts,
                               f"\n  - name: audit\n    type: file\n    path: {alerts}\n", alerts, "latency")
    lat_tmpfs = None
    if os.path.isdir("/dev/shm") and fstype("/dev/shm") == "tmpfs":
        shm = tempfile.mkdtemp(prefix="pcmon-bench-", dir="/dev/shm")
        try:
            alerts = os.path.join(shm, "alerts.jsonl")
            lat_tmpfs = measure_latency(helper, pcmon, work, paths, args.alerts,
                                        f"\n  - name: audit\n    type: file\n    path: {alerts}\n", alerts,
                                        "latency-tmpfs", state_base=shm)
        finally:
            shutil.rmtree(shm, ignore_errors=True)
    lat_slack = None
    if args.slack_alerts:
        log(f"bench: follow latency, {args.slack_alerts} alerts through the Slack stand-in (paced 1/s)")
        lat_slack = slack_latency(helper, pcmon, work, paths, args.slack_alerts)
    log(f"bench: memory, following {total} appended lines")
    mem = follow_memory(pcmon, work, paths, files, rels)
    soaked = None
    if args.soak:
        log(f"bench: soak, {args.soak_seconds:.0f} s of steady appends")
        soaked = soak(pcmon, work, paths, files, rels, args.soak_seconds, 1000)
    log(f"bench: idle, {args.idle:.0f} s")
    quiet = idle(pcmon, work, paths, args.idle)

    report(args, total, nbytes, tools, rows, truth_ok, replay_rss, (lat_file, lat_tmpfs, lat_slack), mem, soaked,
           quiet, work)
    return 0


def report(args, total, nbytes, tools, rows, truth_ok, replay_rss, lats, mem, soaked, quiet, work):
    lat_file, lat_tmpfs, lat_slack = lats
    p = print
    p(f"\npcmon bench: {total} lines ({nbytes / MiB:.0f} MiB) of a seeded head-node mix (seed {args.seed}), "
      f"medians of {args.runs} runs")
    p(f"machine: {machine()}; state and alerts on {fstype(work)}")
    p("")
    pc = tools[0]
    pc_rate = total / statistics.median(pc.walls) if pc.walls else None
    pc_cpu = statistics.median(pc.cpus) if pc.cpus else None
    p(f"{'throughput':<30} {'lines/s':>9} {'MB/s':>7} {'CPU s':>7} {'matches':>8} {'pcmon is':>9} {'by CPU':>8}")
    for t in tools:
        if not t.walls:
            p(f"  {t.name:<28} {'failed':>9}")
            continue
        wall, cpu = statistics.median(t.walls), statistics.median(t.cpus)
        rate = total / wall
        ratio = "" if t is pc else f"{pc_rate / rate:.2f}x"
        by_cpu = "" if t is pc or not pc_cpu else f"{cpu / pc_cpu:.2f}x"
        matches = "" if t.matches is None else str(t.matches)
        p(f"  {t.name:<28} {fmt_rate(rate):>9} {nbytes / wall / 1e6:>7.0f} {cpu:>7.2f} {matches:>8} {ratio:>9} "
          f"{by_cpu:>8}")
    for pkg, exe in PEERS:
        if not shutil.which(exe):
            p(f"  {exe:<28} {'not installed (apt-get install ' + pkg + ')':>9}")
    p("")
    if rows:
        p(f"pcmon matches vs the generator's truth: {'equal' if truth_ok else 'DIFFERENT'}")
        for cond, want, got, diff in rows:
            lines = "" if diff is None else f"  ({diff} lines differ)" if diff else "  (same lines)"
            p(f"  {cond:<28} truth {want:>6}  pcmon {got:>6}{lines}{'' if want == got and not diff else '   <-'}")
    else:
        p("pcmon matches vs truth: truth.json has no per-condition counts")
    p("")

    def lat_row(name, r):
        if not r or not r.get("n"):
            p(f"  {name:<28} not measured" + (f" ({r['lost']} lost)" if r else " (daemon not ready)"))
            return
        lost = f", {r['lost']} lost" if r["lost"] else ""
        p(f"  {name:<28} p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  max {r['max']:.2f} ms  ({r['n']} alerts{lost})")
    p("follow latency, line written -> alert delivered (each alert on its own)")
    lat_row(f"file notifier, {fstype(work)}", lat_file)
    if lat_tmpfs:
        lat_row("file notifier, tmpfs", lat_tmpfs)
    if args.slack_alerts:
        lat_row("Slack stand-in (loopback)", lat_slack)
    p("")
    p("memory (peak RSS)")
    p(f"  {'replay of the mix':<28} {replay_rss / 1024:.1f} MiB")
    if mem:
        rate = total / mem["seconds"]
        p(f"  {'following it appended':<28} {mem['peak'] / 1024:.1f} MiB (at start {mem['start'] / 1024:.1f} MiB; "
          f"{fmt_rate(rate)} lines/s{'' if mem['done'] else ', NOT all read'})")
        p(f"  {'  of which private':<28} {mem['anon'] / 1024:.1f} MiB anonymous at the end, PSS {mem['pss'] / 1024:.1f} MiB "
          f"(the rest is shared library pages)")
    if soaked:
        p(f"  {'soak, RSS start -> end':<28} {soaked['start'] / 1024:.1f} -> {soaked['end'] / 1024:.1f} MiB "
          f"({soaked['lines']} lines in {args.soak_seconds:.0f} s)")
    p("")
    if quiet:
        p(f"idle, {quiet['seconds']:.0f} s following idle files: {quiet['cpu']:.4f} CPU s, "
          f"{quiet['switches']} context switches (no watchdog)")
    p("")
    targets(pc_rate, tools, total, lat_file, replay_rss, mem, quiet, lat_tmpfs)


def targets(pc_rate, tools, total, lat_file, replay_rss, mem, quiet, lat_tmpfs=None):
    grep = next((t for t in tools if t.name.startswith("grep") and t.walls), None)
    checks = []
    if grep and pc_rate:
        r = pc_rate / (total / statistics.median(grep.walls))
        checks.append(("replay throughput >= 1.0x grep -E", r >= 1.0, f"{r:.2f}x"))
    for name, r in (("", lat_file), (", tmpfs", lat_tmpfs)):
        if r and r.get("n"):
            checks.append((f"follow latency p50 <= 1 ms{name}", r["p50"] <= 1, f"{r['p50']:.2f} ms"))
            checks.append((f"follow latency p99 <= 5 ms{name}", r["p99"] <= 5, f"{r['p99']:.2f} ms"))
    checks.append(("peak RSS <= 8 MiB (replay)", replay_rss <= 8 * 1024, f"{replay_rss / 1024:.1f} MiB"))
    if mem:
        checks.append(("peak RSS <= 8 MiB (follow)", mem["peak"] <= 8 * 1024, f"{mem['peak'] / 1024:.1f} MiB"))
    if quiet:
        checks.append(("idle: 0 wake-ups", quiet["switches"] == 0, f"{quiet['switches']} switches"))
    print("targets (issue 8)")
    for name, ok, val in checks:
        print(f"  {'met    ' if ok else 'not met'}  {name:<36} {val}")


if __name__ == "__main__":
    sys.exit(main())
