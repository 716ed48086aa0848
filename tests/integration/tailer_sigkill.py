#!/usr/bin/python3
"""T8/T9/T10: tailtool is killed with SIGKILL at random moments while a writer appends numbered
lines and logrotate rotates the log (create, and copytruncate), then restarted on the same state.

tailtool prints a "#commit" marker after each offsets commit, so every printed line is known to
be committed or in flight. Pass: every line written (copytruncate: every line that logrotate
kept on disk) is printed; a line printed more than once was in flight (printed after the last
commit of a run that was then killed) in every printing but its last; a line keeps its line
number across restarts. The random seed is printed so a failure can be replayed
(TAILER_SIGKILL_SEED=...).

Also, exactly (no randomness): tailtool stopped with a partial last line held, then, while it is
down, the line is finished, more lines written and real logrotate rotates the log: with create
(the writer keeps appending to the renamed file, then switches), with copytruncate where the live
file shrank, and with copytruncate where it grew back past the saved offset. The writer pauses
around logrotate (lockstep), so logrotate loses nothing and every line must be printed once, in
order, with its line number, the partial one as a whole.
"""
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tailer_logrotate as lr  # noqa: E402  (the writer and the tailtool harness)

KILLS = 20


class Run(lr.Tail):
    """A tailtool run that remembers where its last commit was."""

    def __init__(self, tmp, path, tailer_conf=""):
        self.committed = 0
        super().__init__(tmp, path, tailer_conf=tailer_conf)

    def _read(self):
        for raw in self.p.stdout:
            if not raw.endswith(b"\n"):
                break   # cut by the kill: stdio flushes whole buffers, not whole lines
            line = raw.rstrip(b"\n")
            if line == b"#ready":
                self.ready = True
            elif line == b"#commit":
                self.committed = len(self.lines)
            elif not line.startswith(b"#"):
                path, lineno, data = line.split(b"\t", 2)
                self.lines.append((int(lineno), data, time.monotonic()))

    def kill(self):
        self.p.kill()
        self.p.wait(timeout=10)
        self.t.join(timeout=10)

    def records(self, killed, tails):
        """(seq, lineno, in_flight) per printed line: seq -1 for a line that is not a whole line
        of the writer, none for one of the partial tails on disk (see lr.partial_tails)."""
        return [(int(d[4:13]) if lr.whole(d) else -1, ln, killed and i >= self.committed)
                for i, (ln, d, _) in enumerate(self.lines) if lr.whole(d) or d not in tails]


def rotator(path, mode, tmp, stop, count):
    conf, st = os.path.join(tmp, "logrotate.conf"), os.path.join(tmp, "logrotate.status")
    with open(conf, "w") as f:
        f.write(lr.logrotate_conf(path, mode, 0))
    while not stop:
        if lr.wait_for(lambda: stop or (os.path.exists(path) and os.path.getsize(path) >= lr.ROTATE_AT), 10, "growth"):
            if stop:
                return
            if subprocess.run([lr.LOGROTATE, "-f", "-s", st, conf], capture_output=True).returncode == 0:
                count.append(1)


def run_mode(mode, rnd):
    tmp = lr.tempfile.mkdtemp(prefix="pcmon-tail-kill-%s-" % mode)
    procs, stop = [], []
    try:
        logdir = os.path.join(tmp, "log")
        os.makedirs(logdir)
        path = os.path.join(logdir, "app.log")
        open(path, "w").close()
        w = lr.start_writer(path, "append" if mode == "copytruncate" else "reopen", rate=10000)
        procs.append(w)
        rotations = []
        rt = threading.Thread(target=rotator, args=(path, mode, tmp, stop, rotations), daemon=True)
        rt.start()
        runs = []
        for k in range(KILLS):
            run = Run(tmp, path)
            procs.append(run.p)
            end = time.monotonic() + rnd.uniform(0.0, 0.3)
            want = len(run.lines) + rnd.randint(0, 3000)
            lr.wait_for(lambda: time.monotonic() >= end or len(run.lines) >= want, 5, "work before the kill")
            run.kill()
            runs.append(run)
        stop.append(1)
        rt.join(timeout=60)
        total = lr.stop_writer(w)
        # the ground truth, fixed before the last run starts: every line written (create), or
        # every whole line logrotate left on disk (copytruncate: the lines written between its
        # copy and its truncate are in no file, and no tailer can be blamed for them)
        want = lr.on_disk(logdir) if mode == "copytruncate" else set(range(1, total + 1))
        final = Run(tmp, path)
        procs.append(final.p)
        printed = set()
        for r in runs:
            printed.update(int(d[4:13]) for _, d, _ in r.lines if lr.whole(d))

        def caught_up_now():
            printed.update(int(d[4:13]) for _, d, _ in final.lines[caught_up_now.done:] if lr.whole(d))
            caught_up_now.done = len(final.lines)
            return want <= printed
        caught_up_now.done = 0
        caught_up = lr.wait_for(caught_up_now, 60, "every line on disk")
        err = final.stop()
        tails = lr.partial_tails(logdir)
        records = [r.records(True, tails) for r in runs] + [final.records(False, tails)]
        warnings = [l for r in runs + [final] for l in r.errtext().splitlines() if "warning" in l]
        lr.check("%s: %d kills, %d rotations meanwhile" % (mode, KILLS, len(rotations)), len(rotations) >= 10,
                 "only %d rotations" % len(rotations))
        lr.check("%s: no run warned of lost lines" % mode, not warnings, "\n".join(warnings[:5]))

        seen = {}
        for ri, recs in enumerate(records):
            for seq, lineno, in_flight in recs:
                seen.setdefault(seq, []).append((ri, lineno, in_flight))
        garbage = len(seen.pop(-1, []))
        lr.check("%s: no line is a piece of another (%d)" % (mode, garbage), garbage == 0)
        missing = sorted(want - set(seen))
        bad_dups = [s for s, occ in seen.items() if any(not f for _, _, f in occ[:-1])]
        renumbered = [s for s, occ in seen.items() if len({ln for _, ln, _ in occ}) > 1]
        unordered = [ri for ri, recs in enumerate(records)
                     if any(b[0] <= a[0] for a, b in zip(recs, recs[1:]))]
        dups = sum(len(occ) - 1 for occ in seen.values())
        in_flight = sum(1 for recs in records for r in recs if r[2])
        lr.check("%s: every line %s (%d) printed after the restarts" % (
            mode, "kept on disk" if mode == "copytruncate" else "written", len(want)), caught_up and not missing,
            "%d missing, first %s" % (len(missing), missing[:5]))
        lr.check("%s: repeated lines were all in flight at a kill (%d repeated, %d in flight)" % (
            mode, dups, in_flight), not bad_dups, "%d committed lines printed again, first %s" % (
            len(bad_dups), sorted(bad_dups)[:5]))
        lr.check("%s: line numbers survive restarts" % mode, not renumbered, "first %s" % sorted(renumbered)[:5])
        lr.check("%s: each run prints in order" % mode, not unordered, "runs %s, e.g. %s" % (unordered, [
            (a, b) for a, b in zip(records[unordered[0]], records[unordered[0]][1:]) if b[0] <= a[0]][:3]
            if unordered else ""))
        lr.check("%s: no gap reported" % mode, " gaps=0 " in err, err.strip()[-300:])
        print("     %s: %d lines written, %d expected, %d rotations, %d kills, %d lines repeated (in flight)" % (
            mode, total, len(want), len(rotations), KILLS, dups), flush=True)
    finally:
        stop.append(1)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        lr.shutil.rmtree(tmp, ignore_errors=True)


def stopped_across_rotation(case):
    """case: create, copytruncate (the live file shrank), copytruncate-regrown (it grew back past
    the saved offset before the restart)."""
    tmp = lr.tempfile.mkdtemp(prefix="pcmon-tail-down-%s-" % case)
    try:
        logdir = os.path.join(tmp, "log")
        os.makedirs(logdir)
        path = os.path.join(logdir, "clustermgtd")
        mode = "create" if case == "create" else "copytruncate"

        def lines(a, b):
            return b"".join(b"seq=%09d %s\n" % (n, b"x" * 24) for n in range(a, b + 1))
        w = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(w, lines(1, 100) + lines(101, 101)[:20])   # line 101 still partial
        tail = Run(tmp, path, tailer_conf="tailer: {partial_flush: 1h}\n")
        ok = lr.wait_for(lambda: tail.has_seq(100), 10, "the first run's lines")
        tail.stop()
        first = [int(d[4:13]) for _, d, _ in tail.lines]
        os.write(w, lines(101, 101)[20:] + lines(102, 150))
        conf, st = os.path.join(tmp, "logrotate.conf"), os.path.join(tmp, "logrotate.status")
        with open(conf, "w") as f:
            f.write(lr.logrotate_conf(path, mode, 0))
        subprocess.run([lr.LOGROTATE, "-f", "-s", st, conf], check=True)
        os.write(w, lines(151, 170))   # create: to the renamed file; copytruncate: to the live one
        if mode == "create":
            os.close(w)
            w = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.write(w, lines(171, 180 if case != "copytruncate-regrown" else 400))
        os.close(w)
        last = 180 if case != "copytruncate-regrown" else 400
        if case == "copytruncate":
            ok = ok and os.path.getsize(path) < 150 * 38   # it shrank
        second = Run(tmp, path, tailer_conf="tailer: {partial_flush: 1h}\n")
        ok = lr.wait_for(lambda: second.has_seq(last), 20, "the second run's lines") and ok
        err = second.stop()
        got = [(int(d[4:13]), ln) for ln, d, _ in second.lines if lr.whole(d)]
        want_ln = list(range(101, 151)) + (list(range(151, 171)) + list(range(1, 11)) if mode == "create"
                                            else list(range(1, last - 150 + 1)))
        lr.check("T9/T10 %s while stopped: the rest of the rotated file, then the new one, exactly once, in "
                 "order, line numbers kept; the partial line whole" % case,
                 ok and first == list(range(1, 101)) and [s for s, _ in got] == list(range(101, last + 1))
                 and [ln for _, ln in got] == want_ln and len(got) == len(second.lines) and " gaps=0 " in err,
                 "first run %d lines, second run %r... %s" % (len(first), got[:3], err[-300:]))
    finally:
        lr.shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not os.access(lr.TAILTOOL, os.X_OK):
        print("FAIL tailer_sigkill: needs %s" % lr.TAILTOOL)
        return 1
    seed = int(os.environ.get("TAILER_SIGKILL_SEED", random.randrange(1 << 30)))
    print("seed %d" % seed, flush=True)
    rnd = random.Random(seed)
    for case in ("create", "copytruncate", "copytruncate-regrown"):
        stopped_across_rotation(case)
    for mode in ("create", "copytruncate"):
        run_mode(mode, rnd)
    return 1 if lr.failures else 0


if __name__ == "__main__":
    sys.exit(main())
