#!/usr/bin/python3
"""The tailer against hostile file systems (issue 9's tailer faults), through the real tailtool:

- the log directory removed and re-created, twice, once with nothing looked at in between:
  every line of every generation, in order;
- the source path becomes a directory, then a FIFO: reported once each, never opened (a FIFO
  would block a reader), no wake-ups while it stays so; a regular file there again is followed;
  a tailer started on a FIFO starts at once;
- the file replaced by a symlink loop: ELOOP reported once, no spin (no wake-ups), followed
  again once a file is back;
- a 1 GiB single line (a sparse hole of NUL bytes, no newline) between two lines: delivered
  once cut to max_line, counted, the next line follows, peak RSS stays small;
- a binary file (random bytes) and a file of NUL bytes: every byte delivered as written, lines
  over the cap cut, the file still followed;
- 100,000 files created in the watched directory while the log is written, then removed while
  the tailer is stopped (SIGSTOP) with a rotation among them, so the inotify queue overflows:
  every line once, in order, the rotation found by the rescan; CPU time and peak RSS bounded.

Waits are bounded polls; the idle windows are measurements, not synchronisation. Big files are
created in a temporary directory under /tmp and removed afterwards.
"""
import os
import random
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tailer_edges as edges  # noqa: E402  (idle measurement)
import tailer_logrotate as lr  # noqa: E402  (the tailtool harness)

GIB = 1 << 30
MAX_LINE = 65536
MANY = 100000


def line(n, tag=b"x"):
    return b"seq=%09d %s\n" % (n, tag)


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


def seqs(tail):
    return [int(d[4:13]) if d.startswith(b"seq=") and d[4:13].isdigit() else -1 for _, d, _ in tail.lines]


def warned(tail, text):
    return lr.wait_for(lambda: text in tail.errtext(), 10, "the warning '%s'" % text)


def rss_peak_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dir_removed_and_recreated(tmp):
    logdir = os.path.join(tmp, "log")
    os.makedirs(logdir)
    path = os.path.join(logdir, "clustermgtd")
    append(path, line(1) + line(2))
    tail = lr.Tail(tmp, path)
    ok = lr.wait_for(lambda: tail.has_seq(2), 10, "the first lines")
    shutil.rmtree(logdir)
    os.makedirs(logdir)
    append(path, line(3) + line(4))
    ok = ok and lr.wait_for(lambda: tail.has_seq(4), 10, "the re-created directory's file")
    # again, the second time with a generation the tailer may never have opened in between
    shutil.rmtree(logdir)
    os.makedirs(logdir)
    append(path, line(5))
    shutil.rmtree(logdir)
    os.makedirs(logdir)
    append(path, line(6) + line(7))
    ok = ok and lr.wait_for(lambda: tail.has_seq(7), 10, "the third directory's file")
    err = tail.stop()
    got = seqs(tail)
    # line 5 lived in a directory removed before anyone could look: it may be gone (counted as
    # no error); everything else is there exactly once, in order
    lr.check("log directory removed and re-created: every line once, in order",
             ok and [s for s in got if s != 5] == [1, 2, 3, 4, 6, 7] and got.count(5) <= 1
             and "polling=0" in err, "%r %s" % (got, err[-300:]))


def not_a_regular_file(tmp):
    logdir = os.path.join(tmp, "log")
    os.makedirs(logdir)
    path = os.path.join(logdir, "slurm_resume.log")
    append(path, line(1))
    tail = lr.Tail(tmp, path)
    ok = lr.wait_for(lambda: tail.has_seq(1), 10, "the first line")
    os.unlink(path)
    os.mkdir(path)
    ok_dir = ok and warned(tail, "is a directory")
    woken_dir = edges.measure_idle(tail.p.pid, 1.0)
    os.rmdir(path)
    os.mkfifo(path)
    ok_fifo = warned(tail, "is not a regular file")
    woken_fifo = edges.measure_idle(tail.p.pid, 1.0)
    # a second tailer started with the FIFO in place: it must start, not block in open
    tmp2 = os.path.join(tmp, "second")
    os.makedirs(tmp2)
    second = lr.Tail(tmp2, path)
    started = second.ready
    second.stop()
    os.unlink(path)
    append(path, line(2))
    ok = ok and lr.wait_for(lambda: tail.has_seq(2), 10, "the regular file again")
    err = tail.stop()
    n_dir, n_fifo = err.count("is a directory"), err.count("is not a regular file")
    lr.check("path becomes a directory: reported once (%d), no wake-ups (%d)" % (n_dir, woken_dir),
             ok_dir and n_dir == 1 and woken_dir == 0)
    lr.check("path becomes a FIFO: reported once (%d), never opened, no wake-ups (%d); a tailer starts "
             "on it" % (n_fifo, woken_fifo), ok_fifo and n_fifo == 1 and woken_fifo == 0 and started)
    lr.check("a regular file there again is followed from byte 0", ok and seqs(tail) == [1, 2], repr(seqs(tail)))


def symlink_loop(tmp):
    logdir = os.path.join(tmp, "log")
    os.makedirs(logdir)
    path = os.path.join(logdir, "clustermgtd")
    append(path, line(1))
    tail = lr.Tail(tmp, path)
    ok = lr.wait_for(lambda: tail.has_seq(1), 10, "the first line")
    os.unlink(path)
    os.symlink(os.path.join(logdir, "loop-b"), os.path.join(logdir, "loop-a"))
    os.symlink(os.path.join(logdir, "loop-a"), os.path.join(logdir, "loop-b"))
    os.symlink(os.path.join(logdir, "loop-a"), path)
    ok_loop = warned(tail, "symlink loop")
    woken = edges.measure_idle(tail.p.pid, 1.0)
    os.unlink(path)
    append(path, line(2))
    ok = ok and lr.wait_for(lambda: tail.has_seq(2), 10, "the file back")
    err = tail.stop()
    lr.check("file replaced by a symlink loop: ELOOP reported once (%d), no spin (%d wake-ups), followed "
             "again afterwards" % (err.count("symlink loop"), woken),
             ok and ok_loop and err.count("symlink loop") == 1 and woken == 0 and seqs(tail) == [1, 2],
             "%r %s" % (seqs(tail), err[-300:]))


def gib_line(tmp):
    path = os.path.join(tmp, "huge.log")
    append(path, line(1, b"before"))
    tail = lr.Tail(tmp, path)
    ok = lr.wait_for(lambda: tail.has_seq(1), 10, "the first line")
    t0 = time.monotonic()
    with open(path, "ab") as f:
        f.truncate(os.path.getsize(path) + GIB)   # a sparse 1 GiB of NUL bytes, no newline
    append(path, b"\n" + line(3, b"after"))
    ok = ok and lr.wait_for(lambda: tail.has_seq(3), 300, "the line after the 1 GiB one")
    elapsed = time.monotonic() - t0
    peak = rss_peak_kib(tail.p.pid)
    err = tail.stop()
    d = [x for _, x, _ in tail.lines]
    lr.check("1 GiB single line: cut to %d bytes and counted, next line followed in %.1f s, peak RSS %d MiB"
             % (MAX_LINE, elapsed, peak // 1024),
             ok and len(d) == 3 and d[1] == b"\0" * MAX_LINE and seqs(tail)[2] == 3 and "cut=1 " in err
             and peak < 64 * 1024, "%d lines, %s" % (len(d), err[-300:]))
    os.unlink(path)


def binary_and_nul(tmp):
    path = os.path.join(tmp, "bin.log")
    open(path, "wb").close()
    tail = lr.Tail(tmp, path)
    rnd = random.Random(1)
    blob = bytes(rnd.getrandbits(8) for _ in range(256 * 1024))
    blob = blob[:blob.rindex(b"\n") + 1]
    nul = b"\0" * 100000 + b"\n" + b"\0" * 10 + b"\n"
    append(path, blob)
    append(path, nul)
    append(path, line(1, b"after"))
    ok = lr.wait_for(lambda: tail.has_seq(1), 20, "the line after the binary data")
    err = tail.stop()
    want = [(x[:MAX_LINE], len(x) > MAX_LINE) for x in (blob + nul).split(b"\n")[:-1]]
    got = [x for _, x, _ in tail.lines][:-1]
    cut = sum(c for _, c in want)
    lr.check("binary and NUL bytes: %d lines delivered byte for byte, %d cut and counted, still followed"
             % (len(want), cut), ok and got == [w for w, _ in want] and ("cut=%d " % cut) in err,
             "%d lines, want %d; %s" % (len(got), len(want), err[-300:]))


def many_files(tmp):
    logdir = os.path.join(tmp, "log")
    os.makedirs(logdir)
    path = os.path.join(logdir, "clustermgtd")
    open(path, "w").close()
    tail = lr.Tail(tmp, path)
    t0 = time.monotonic()
    seq = 0
    for i in range(MANY):
        fd = os.open(os.path.join(logdir, "other-%06d" % i), os.O_WRONLY | os.O_CREAT, 0o644)
        os.close(fd)
        if i % 1000 == 0:
            seq += 1
            append(path, line(seq))
    # the removals while the tailer is stopped: 100,000 events overflow the inotify queue
    # (max_queued_events is 16384 by default), and a rotation happens in the middle of them
    os.kill(tail.p.pid, signal.SIGSTOP)
    for i in range(MANY):
        os.unlink(os.path.join(logdir, "other-%06d" % i))
        if i % 1000 == 0:
            seq += 1
            append(path, line(seq))
        if i == MANY // 2:
            os.rename(path, path + ".1")
    os.kill(tail.p.pid, signal.SIGCONT)
    ok = lr.wait_for(lambda: tail.has_seq(seq), 60, "the last line")
    elapsed = time.monotonic() - t0
    cpu, peak = cpu_seconds(tail.p.pid), rss_peak_kib(tail.p.pid)
    err = tail.stop()
    overflows = next((l.split("=")[1] for l in err.split() if l.startswith("overflows=")), "?")
    lr.check("%d files created and removed in the watched directory (%.1f s, queue overflows %s): %d lines "
             "once, in order; tailer CPU %.2f s, peak RSS %d MiB" % (MANY, elapsed, overflows, seq, cpu, peak // 1024),
             ok and seqs(tail) == list(range(1, seq + 1)) and cpu < 30 and peak < 64 * 1024
             and overflows not in ("?", "0") and " rotations=1 " in err, err[-300:])


def main():
    if not os.access(lr.TAILTOOL, os.X_OK):
        print("FAIL tailer_faults: needs %s" % lr.TAILTOOL)
        return 1
    for case in (dir_removed_and_recreated, not_a_regular_file, symlink_loop, gib_line, binary_and_nul,
                 many_files):
        tmp = tempfile.mkdtemp(prefix="pcmon-tail-fault-", dir="/tmp")
        try:
            case(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if lr.failures else 0


if __name__ == "__main__":
    sys.exit(main())
