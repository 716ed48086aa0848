#!/usr/bin/python3
"""The tailer against real logrotate, while a writer appends numbered lines fast.

For each mode (create, copytruncate, compress, delaycompress, dateext) logrotate -f is forced at
least 100 times, whenever the log has grown past a few KiB (like logrotate's `size`), while a
writer process appends "seq=N" lines. In the create modes the writer, like supervisord waiting
for SIGUSR2, notices the rotation and keeps writing to the renamed file for a few more lines
before it reopens. Pass: every line is printed by tailtool exactly once, in order, with line
numbers that count up by one within each file generation. In copytruncate mode logrotate itself
loses the lines written between its copy and its truncate; those are absent from every file on
disk, so there the ground truth is the union of what is on disk (the test reports how many
logrotate lost and fails on any line on disk that the tailer missed or repeated).

With `compress` (and no delaycompress) logrotate gzips and deletes a rotated file at once, and
with delaycompress at the next rotation: a generation the tailer never opened before then
exists only as .gz, which it never reads as data (by design). In those two modes a rotation
therefore waits until the tailer has read the current file's first line: the tailer may lag, but
not by a whole rotation. The other modes keep every generation uncompressed and are not paced.

Also T1 (the writer reopens only 2 s after the rotation, 1 line/ms) and T2 (rename without
create; the file reappears later and is picked up in under a second).
"""
import glob
import gzip
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.environ.get("PCMON_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("PCMON_BUILD", os.path.join(TOP, "build"))
TAILTOOL = os.path.join(BUILD, "tests", "tailtool")
LOGROTATE = "/usr/sbin/logrotate"
PY = "/usr/bin/python3"
ROTATIONS = 100
ROTATE_AT = 4096          # bytes: rotate once the log has grown this much
RATE = 20000              # lines per second the writer aims at
failures = []


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail), flush=True)
    if not ok:
        failures.append(name)


def wait_for(pred, timeout, what):
    """Polls pred until it is true or the deadline passes (no sleeping to synchronise)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.002)
    print("timeout waiting for " + what, flush=True)
    return False


# ---- the writer (run as a separate process: python3 this.py --writer PATH MODE LAG RATE) ----

def writer_main(path, mode, lag, rate):
    """mode: append (never reopens: copytruncate), reopen (reopens `lag` random lines after it
    sees the rotation), delayed (reopens 2 s after SIGUSR2). Stops on SIGTERM and prints the
    number of lines written."""
    stop = []
    usr2 = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGUSR2, lambda *a: usr2.append(time.monotonic()))
    rnd = random.Random(os.getpid())
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    seq, pending, t0 = 0, None, time.monotonic()
    while not stop:
        burst = max(1, rate // 1000)
        for _ in range(burst):
            seq += 1
            os.write(fd, b"seq=%09d %s\n" % (seq, b"x" * 24))
            if mode == "reopen":
                # like a writer told to reopen after the rotation: only once the new file
                # exists (re-creating it first would race logrotate's create, which then moves
                # the writer's file aside as <log>-YYYYMMDDHH.backup)
                if pending is None:
                    try:
                        if os.stat(path).st_ino != os.fstat(fd).st_ino:
                            pending = rnd.randint(0, lag)
                    except FileNotFoundError:
                        pass
                elif pending > 0:
                    pending -= 1
                else:
                    os.close(fd)
                    fd = os.open(path, os.O_WRONLY | os.O_APPEND, 0o644)
                    pending = None
            elif mode == "delayed" and usr2 and time.monotonic() - usr2[0] >= 2.0:
                usr2.pop(0)
                os.close(fd)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                print("reopened %d" % seq, flush=True)
        # pace the load to `rate` lines per second
        ahead = seq / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    os.close(fd)
    print("total %d" % seq, flush=True)


# ---- harness ----

class Tail:
    """tailtool on a one-source config; collects its output lines. Each run keeps its standard
    error (warnings, the status at SIGTERM) in its own file."""
    runs = 0

    def __init__(self, tmp, path, extra_args=(), tailer_conf=""):
        self.conf = os.path.join(tmp, "pcmon.yaml")
        with open(self.conf, "w") as f:
            f.write("state_dir: %s\n%ssources:\n  - {name: app, path: %s, start_at: beginning}\n"
                    % (os.path.join(tmp, "state"), tailer_conf, path))
        os.makedirs(os.path.join(tmp, "state"), exist_ok=True)
        self.lines, self.ready, self.seen = [], False, set()
        Tail.runs += 1
        self.errpath = os.path.join(tmp, "tailtool.%d.err" % Tail.runs)
        self.stderr = open(self.errpath, "w+")
        self.p = subprocess.Popen([TAILTOOL, "-c", self.conf, "-m", *extra_args], stdout=subprocess.PIPE,
                                  stderr=self.stderr)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        wait_for(lambda: self.ready, 10, "tailtool ready")

    def _read(self):
        for raw in self.p.stdout:
            line = raw.rstrip(b"\n")
            if line == b"#ready":
                self.ready = True
            elif not line.startswith(b"#"):
                path, lineno, data = line.split(b"\t", 2)
                self.lines.append((int(lineno), data, time.monotonic()))
                if data[4:13].isdigit():
                    self.seen.add(int(data[4:13]))

    def seqs(self, tails=()):
        """The writer's numbers of the whole lines printed. A line that is not a whole line of the
        writer counts as -1, unless it is one of tails (see partial_tails)."""
        return [int(d[4:13]) if whole(d) else -1 for _, d, _ in self.lines if whole(d) or d not in tails]

    def has_seq(self, n):
        return any(d.startswith(b"seq=%09d" % n) for _, d, _ in self.lines[-50:])

    def errtext(self):
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=10)
        self.t.join(timeout=10)
        self.stderr.seek(0)
        return self.stderr.read()


def start_writer(path, mode, lag=20, rate=RATE):
    return subprocess.Popen([PY, os.path.abspath(__file__), "--writer", path, mode, str(lag), str(rate)],
                            stdout=subprocess.PIPE, text=True)


def stop_writer(w):
    w.send_signal(signal.SIGTERM)
    out, _ = w.communicate(timeout=10)
    return int([l for l in out.split("\n") if l.startswith("total ")][-1].split()[1])


def first_seq(path):
    """The writer's number on the first line of the file now at path."""
    with open(path, "rb") as f:
        line = f.readline()
    return int(line[4:13]) if line[4:13].isdigit() else None


def logrotate_conf(path, mode, n):
    opts = {
        "create": "create 0644",
        "copytruncate": "copytruncate",
        "compress": "create 0644\n  compress",
        "delaycompress": "create 0644\n  compress\n  delaycompress",
        "dateext": "create 0644\n  dateext\n  dateformat -%%Y%%m%%d-r%04d" % n,
    }[mode]
    return "%s {\n  rotate 1000\n  missingok\n  %s\n}\n" % (path, opts)


def whole(data):
    """A whole line as the writer writes it."""
    return len(data) == 38 and data.startswith(b"seq=") and data[4:13].isdigit() and data.endswith(b"x" * 24)


def on_disk(logdir):
    """Every whole line present in any generation on disk (decompressing .gz)."""
    seqs = set()
    for f in glob.glob(os.path.join(logdir, "*")):
        opener = gzip.open if f.endswith(".gz") else open
        with opener(f, "rb") as fh:
            for line in fh:
                if line.endswith(b"\n") and whole(line[:-1]):
                    seqs.add(int(line[4:13]))
    return seqs


def partial_tails(logdir):
    """The unterminated last lines on disk: logrotate's copy races the writer's appends (a write
    reaches the page cache page by page) and can end inside a line whose rest the truncate then
    removes. The tailer rightly delivers such a piece when it finishes the copy."""
    tails = set()
    for f in glob.glob(os.path.join(logdir, "*")):
        opener = gzip.open if f.endswith(".gz") else open
        with opener(f, "rb") as fh:
            data = fh.read()
        if data and not data.endswith(b"\n"):
            tails.add(data.rsplit(b"\n", 1)[-1])
    return tails


def numbering_ok(lines):
    """Within a generation line numbers count up by one; a new generation starts at 1."""
    prev = None
    for lineno, _, _ in lines:
        if prev is not None and lineno != prev + 1 and lineno != 1:
            return False, "line number %d after %d" % (lineno, prev)
        prev = lineno
    return True, ""


def run_mode(mode):
    tmp = tempfile.mkdtemp(prefix="pcmon-tail-%s-" % mode)
    try:
        logdir = os.path.join(tmp, "log")
        os.makedirs(logdir)
        path = os.path.join(logdir, "app.log")
        open(path, "w").close()
        tail = Tail(tmp, path)
        w = start_writer(path, "append" if mode == "copytruncate" else "reopen")
        conf, lrstate = os.path.join(tmp, "logrotate.conf"), os.path.join(tmp, "logrotate.status")
        rotations, t0 = 0, time.monotonic()
        for i in range(ROTATIONS):
            if not wait_for(lambda: os.path.exists(path) and os.path.getsize(path) >= ROTATE_AT, 10, "log growth"):
                break
            if "compress" in mode and not wait_for(lambda: first_seq(path) in tail.seen, 10, "the tailer"):
                break
            with open(conf, "w") as f:
                f.write(logrotate_conf(path, mode, i))
            r = subprocess.run([LOGROTATE, "-f", "-s", lrstate, conf], capture_output=True, text=True)
            if r.returncode != 0:
                print(r.stderr)
                break
            rotations += 1
        total = stop_writer(w)
        elapsed = time.monotonic() - t0
        caught_up = wait_for(lambda: tail.has_seq(total), 30, "the last line")
        err = tail.stop()
        seqs = tail.seqs(partial_tails(logdir))
        check("%s: %d rotations forced" % (mode, rotations), rotations >= ROTATIONS)
        if mode == "copytruncate":
            # logrotate loses what is written between its copy and its truncate; the tailer
            # may still have read some of it live. Every line on disk must be there.
            disk = on_disk(logdir)
            print("     copytruncate: logrotate itself lost %d of %d lines (written between its copy "
                  "and its truncate)" % (total - len(disk), total))
            missing = len(disk - set(seqs))
            dups = len(seqs) - len(set(seqs))
            check("%s: every line on disk seen, none twice, in order" % mode,
                  caught_up and missing == 0 and seqs == sorted(set(seqs)) and (not seqs or seqs[-1] <= total),
                  "%d lines printed, %d of those on disk missing, %d duplicated" % (len(seqs), missing, dups))
        else:
            want = list(range(1, total + 1))
            missing = len(set(want) - set(seqs))
            dups = len(seqs) - len(set(seqs))
            check("%s: all %d lines seen exactly once, in order" % (mode, len(want)),
                  caught_up and seqs == want,
                  "%d lines printed, %d missing, %d duplicated, first difference at index %s" % (
                      len(seqs), missing, dups,
                      next((i for i, (a, b) in enumerate(zip(seqs, want)) if a != b), min(len(seqs), len(want)))))
        ok, why = numbering_ok(tail.lines)
        check("%s: line numbers per generation" % mode, ok, why)
        check("%s: no gap reported" % mode, " gaps=0 " in err, err.strip()[-400:])
        print("     %s: %d lines, %d rotations in %.1fs" % (mode, total, rotations, elapsed), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def t1_delayed_reopen():
    """T1: rename + create, the writer (1 line/ms) reopens only 2 s after the rotation."""
    tmp = tempfile.mkdtemp(prefix="pcmon-tail-t1-")
    try:
        logdir = os.path.join(tmp, "log")
        os.makedirs(logdir)
        path = os.path.join(logdir, "clustermgtd")
        open(path, "w").close()
        tail = Tail(tmp, path)
        w = start_writer(path, "delayed", rate=1000)
        conf, lrstate = os.path.join(tmp, "logrotate.conf"), os.path.join(tmp, "logrotate.status")
        with open(conf, "w") as f:   # ParallelCluster's clustermgtd config, with a test-sized rotate
            f.write("%s {\n  size 1\n  rotate 5\n  create 0644\n  missingok\n}\n" % path)
        reopened = []

        def read_writer():
            for line in w.stdout:
                if line.startswith("reopened"):
                    reopened.append(line)
                elif line.startswith("total"):
                    reopened.append(line)
        rt = threading.Thread(target=read_writer, daemon=True)
        rt.start()
        for i in range(2):
            wait_for(lambda: os.path.getsize(path) > 2000, 10, "log growth")
            subprocess.run([LOGROTATE, "-f", "-s", lrstate, conf], check=True)
            w.send_signal(signal.SIGUSR2)   # supervisord's postrotate; the writer obeys 2 s later
            wait_for(lambda: len(reopened) > i, 10, "the writer's reopen")
        w.send_signal(signal.SIGTERM)
        w.wait(timeout=10)
        rt.join(timeout=10)
        total = int(reopened[-1].split()[1])
        wait_for(lambda: tail.has_seq(total), 30, "the last line")
        err = tail.stop()
        seqs = tail.seqs()
        check("T1 rename+create, writer reopens 2 s late: %d lines exactly once, in order" % total,
              seqs == list(range(1, total + 1)), "%d printed, %d distinct" % (len(seqs), len(set(seqs))))
        check("T1 lines written to the renamed file were read", " rotations=2 " in err and " gaps=0 " in err,
              err.strip()[-300:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def t2_reappears_later():
    """T2: rename without create (slurm_resume.log); the file reappears later, read from 0 at once."""
    tmp = tempfile.mkdtemp(prefix="pcmon-tail-t2-")
    try:
        logdir = os.path.join(tmp, "log")
        os.makedirs(logdir)
        path = os.path.join(logdir, "slurm_resume.log")
        line = "seq=%09d " + "x" * 24 + "\n"
        with open(path, "w") as f:
            f.write(line % 1)
        tail = Tail(tmp, path)
        wait_for(lambda: tail.has_seq(1), 10, "first line")
        conf, lrstate = os.path.join(tmp, "logrotate.conf"), os.path.join(tmp, "logrotate.status")
        with open(conf, "w") as f:
            f.write("%s {\n  size 1\n  rotate 1\n  missingok\n}\n" % path)
        subprocess.run([LOGROTATE, "-f", "-s", lrstate, conf], check=True)
        created = {}
        # the next ResumeProgram run, a while later
        threading.Timer(2.0, lambda: (created.setdefault("t", time.monotonic()),
                                      open(path, "a").write(line % 2 + line % 3))).start()
        ok = wait_for(lambda: tail.has_seq(3), 10, "the new file")
        err = tail.stop()
        lat = tail.lines[-1][2] - created.get("t", 0) if ok else None
        check("T2 file created later is read from byte 0", tail.seqs() == [1, 2, 3], repr(tail.seqs()))
        check("T2 picked up in under 1 s (%.1f ms)" % (lat * 1000 if lat else -1), ok and lat < 1.0, err[-300:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        writer_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return 0
    if not os.access(TAILTOOL, os.X_OK) or not os.access(LOGROTATE, os.X_OK):
        print("FAIL tailer_logrotate: needs %s and %s" % (TAILTOOL, LOGROTATE))
        return 1
    for mode in ("create", "copytruncate", "compress", "delaycompress", "dateext"):
        run_mode(mode)
    t1_delayed_reopen()
    t2_reappears_later()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
