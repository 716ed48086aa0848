#!/usr/bin/python3
"""Tailer edge cases through the real tailtool process (the in-process versions of these and the
other edge cases are in tests/unit/test_tailer.c):

- idle: six sources, nothing written for 2 s: the process is not woken at all (no polling), both
  tailtool and the real `pcmon run` (default config, no watchdog); the window starts once the
  process sleeps in its poll (/proc/PID/wchan), so its own first block is not counted;
- T12: the source's directory tree and file appear after the start: followed within 1 s;
- T13: inotify unavailable (inotify_init fails with EMFILE): status says polling, and lines
  still arrive, within the 1 s poll;
- T15: a 1 MiB line between normal lines: cut to max_line and counted; the next lines still come;
- a symlinked path whose target is rotated.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tailer_logrotate as lr  # noqa: E402  (the tailtool harness)

IDLE_WINDOW = 2.0
PCMON = os.environ.get("PCMON", os.path.join(lr.BUILD, "pcmon"))
PC_LOGS = ["clustermgtd", "clustermgtd.events", "slurm_resume.log", "slurm_resume.events",
           "bootstrap_error_msg", "slurm_suspend.log"]


def datas(tail):
    return [d for _, d, _ in tail.lines]


def seqs(tail):
    return [int(d[4:13]) if d.startswith(b"seq=") else -1 for d in datas(tail)]


def switches(pid):
    """Voluntary + involuntary context switches of the process: a process asleep in poll/epoll
    makes none, so any change over a window is a wake-up (or it was never asleep)."""
    with open("/proc/%d/status" % pid) as f:
        return sum(int(l.split()[1]) for l in f if "ctxt_switches" in l)


def asleep_in_poll(pid):
    """The process is blocked in poll/epoll_wait (its kernel wait channel says so)."""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return "poll" in f.read()
    except OSError:
        return False


def measure_idle(pid, window=IDLE_WINDOW, during=None):
    """Waits (bounded) until pid sleeps in its event loop, then counts its wake-ups over the
    window (during() runs at its start). Starting the count before it first blocks would count
    that first block."""
    if not lr.wait_for(lambda: asleep_in_poll(pid), 30, "the process to block in poll"):
        return -1
    before = switches(pid)
    if during:
        during()
    time.sleep(window)   # the measurement window, not a synchronisation
    return switches(pid) - before if asleep_in_poll(pid) else switches(pid) - before + 1


def idle_no_wakeups(tmp):
    logdir = os.path.join(tmp, "idle")
    os.makedirs(logdir)
    for n in PC_LOGS:
        with open(os.path.join(logdir, n), "w") as f:
            f.write("x\n")
    conf = os.path.join(tmp, "six.yaml")
    os.makedirs(os.path.join(tmp, "state"))
    with open(conf, "w") as f:
        f.write("state_dir: %s\nsources:\n" % os.path.join(tmp, "state"))
        for i, n in enumerate(PC_LOGS):
            f.write("  - {name: s%d, path: %s}\n" % (i, os.path.join(logdir, n)))
    p = subprocess.Popen([lr.TAILTOOL, "-c", conf, "-m"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ready = p.stdout.readline().strip() == b"#ready"

    def next_door():
        """Activity beside the log directory, in its parent (as in /var/log beside
        /var/log/parallelcluster): none of the tailer's business."""
        for i in range(20):
            other = os.path.join(tmp, "other-%d" % i)
            with open(other, "w") as f:
                f.write("y\n")
            os.rename(other, other + ".1")
            os.unlink(other + ".1")
            os.mkdir(other)
            os.rmdir(other)
    woken = measure_idle(p.pid)
    woken_beside = measure_idle(p.pid, during=next_door)
    p.terminate()
    p.wait(timeout=10)
    lr.check("idle tailer: six sources, %.0f s, %d wake-ups (no polling)" % (IDLE_WINDOW, woken),
             ready and woken == 0)
    lr.check("idle tailer: files created, renamed and removed beside the log directory: %d wake-ups"
             % woken_beside, ready and woken_beside == 0)


def idle_daemon(tmp):
    """The real `pcmon run` on the default config (ten sources, six of them present, four waited
    for), without a watchdog or notify socket: no wake-up at all while nothing is written."""
    logdir = os.path.join(tmp, "var", "log", "parallelcluster")
    os.makedirs(logdir)
    for n in PC_LOGS:
        with open(os.path.join(logdir, n), "w") as f:
            f.write("x\n")
    with open(os.path.join(lr.TOP, "conf", "pcmon.yaml")) as f:
        text = f.read().replace("state_dir: /var/lib/pcmon", "state_dir: %s/state" % tmp)
    conf = os.path.join(tmp, "pcmon.yaml")
    with open(conf, "w") as f:
        f.write(text)
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    err = open(os.path.join(tmp, "pcmon.err"), "w+")
    p = subprocess.Popen([PCMON, "run", "-c", conf, "--root", tmp], stdout=subprocess.DEVNULL, stderr=err, env=env)

    def watching():
        err.seek(0)
        return err.read().count("watching ") >= len(PC_LOGS)
    ok = lr.wait_for(watching, 30, "pcmon watching")
    woken = measure_idle(p.pid) if ok else -1
    p.terminate()
    p.wait(timeout=10)
    err.seek(0)
    lr.check("idle daemon: pcmon run, default config, %.0f s, %d wake-ups" % (IDLE_WINDOW, woken),
             ok and woken == 0, err.read()[-400:])


def appears_later(tmp):
    path = os.path.join(tmp, "late", "parallelcluster", "slurm_resume.log")
    tail = lr.Tail(tmp, path)
    os.makedirs(os.path.dirname(path))
    t0 = time.monotonic()
    with open(path, "w") as f:
        f.write("seq=000000001 created later\n")
    ok = lr.wait_for(lambda: tail.has_seq(1), 5, "the file in the new directory")
    lat = tail.lines[-1][2] - t0 if ok else 99
    tail.stop()
    lr.check("T12 directory and file created after the start: followed in %.1f ms, from byte 0" % (lat * 1000),
             ok and lat < 1.0 and seqs(tail) == [1])


def polling_fallback(tmp):
    path = os.path.join(tmp, "poll.log")
    open(path, "w").close()
    tail = lr.Tail(tmp, path, ("--inject-init", "24"))   # EMFILE: max_user_instances reached
    with open(path, "a") as f:
        f.write("seq=000000001 a\nseq=000000002 b\n")
    t0 = time.monotonic()
    ok = lr.wait_for(lambda: tail.has_seq(2), 5, "a polled line")
    lat = time.monotonic() - t0
    os.rename(path, path + ".1")
    with open(path, "w") as f:
        f.write("seq=000000003 c\n")
    ok = ok and lr.wait_for(lambda: tail.has_seq(3), 5, "the rotated file's successor")
    err = tail.stop()
    lr.check("T13 inotify unavailable: polling reported, lines within %.1f s, rotation followed" % lat,
             ok and lat < 3.0 and seqs(tail) == [1, 2, 3] and "polling=1" in err and "inotify exhausted" in err,
             err[-400:])


def long_line(tmp):
    path = os.path.join(tmp, "long.log")
    with open(path, "wb") as f:
        f.write(b"seq=000000001 before\n" + b"L" * (1 << 20) + b"\nseq=000000003 after\n")
    tail = lr.Tail(tmp, path)
    ok = lr.wait_for(lambda: tail.has_seq(3), 5, "the line after the long one")
    with open(path, "ab") as f:
        f.write(b"seq=000000004 still followed\n")
    ok = ok and lr.wait_for(lambda: tail.has_seq(4), 5, "a later line")
    err = tail.stop()
    d = datas(tail)
    lr.check("T15 a 1 MiB line is cut to 64 KiB and counted; the file is still followed",
             ok and len(d) == 4 and d[1] == b"L" * 65536 and [l for l, _, _ in tail.lines] == [1, 2, 3, 4]
             and "cut=1" in err, err[-300:])


def symlinked(tmp):
    real = os.path.join(tmp, "real")
    os.makedirs(real)
    target = os.path.join(real, "clustermgtd")
    with open(target, "w") as f:
        f.write("seq=000000001 x\n")
    link = os.path.join(tmp, "clustermgtd.link")
    os.symlink(target, link)
    tail = lr.Tail(tmp, link)
    ok = lr.wait_for(lambda: tail.has_seq(1), 5, "first line")
    w = open(target, "a")
    os.rename(target, target + ".1")
    w.write("seq=000000002 to the renamed target\n")
    w.close()
    with open(target, "w") as f:
        f.write("seq=000000003 new target\n")
    ok = ok and lr.wait_for(lambda: tail.has_seq(3), 5, "the new target")
    tail.stop()
    lr.check("symlinked path: the target's rotation is followed", ok and seqs(tail) == [1, 2, 3], repr(seqs(tail)))


def main():
    if not os.access(lr.TAILTOOL, os.X_OK):
        print("FAIL tailer_edges: needs %s" % lr.TAILTOOL)
        return 1
    for case in (idle_no_wakeups, idle_daemon, appears_later, polling_fallback, long_line, symlinked):
        tmp = tempfile.mkdtemp(prefix="pcmon-tail-edge-")
        try:
            case(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if lr.failures else 0


if __name__ == "__main__":
    sys.exit(main())
