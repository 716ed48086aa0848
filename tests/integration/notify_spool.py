#!/usr/bin/python3
"""The delivery spool's faults: size/count and age caps drop the oldest, loudly, with a summary
alert; corrupt and half-written files are skipped and counted, never fatal; a full or read-only
spool directory still delivers (from memory) and says so; a second process cannot share a spool."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers.common import Run, alert, check, file_alerts, finish, run, wait_for, write_alerts, write_config  # noqa: E402


def file_item(path, name="audit"):
    return "  - name: %s\n    type: file\n    path: %s\n    retry_base: 100ms\n    retry_max: 1s\n" % (name, path)


def setup(tmp, name, out_path, n=0, extra=""):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    cfg = write_config(d, [file_item(out_path)], extra)
    inp = os.path.join(d, "in.jsonl")
    write_alerts(inp, [alert(i) for i in range(n)])
    return d, cfg, inp


def spool_files(d):
    sp = os.path.join(d, "state", "spool")
    return sorted(f for f in os.listdir(sp) if not f.startswith(".")) if os.path.isdir(sp) else []


def titles(path):
    return [a["title"][-2:] if a["rule"] != "pcmon_spool_overflow" else "summary" for a in file_alerts(path)]


def test_count_cap(tmp):
    outdir = os.path.join(tmp, "cap_out")
    out_path = os.path.join(outdir, "alerts.jsonl")   # its directory does not exist yet: sends fail
    d, cfg, inp = setup(tmp, "cap", out_path, n=5, extra="spool:\n  max_alerts: 3\n")
    rc, out = run(cfg, inp, timeout=1)
    check("spool cap: a loud 'dropped' event", rc == 3 and "event dropped" in out and "spool cap reached" in out, out)
    check("spool cap: held to 3 entries, drops counted", len(spool_files(d)) == 3 and "dropped=3" in out, out)
    sums = [f for f in spool_files(d) if "pcmon_spool_overflow" in open(os.path.join(d, "state", "spool", f)).read()]
    check("spool cap: one summary entry, not a cascade of summaries", len(sums) == 1, sums)
    os.makedirs(outdir)
    rc, out = run(cfg, None, timeout=10)
    check("spool cap: newest kept and the summary alert delivered after the fix",
          rc == 0 and titles(out_path) == ["#3", "#4", "summary"], (titles(out_path), out))
    summary = [a for a in file_alerts(out_path) if a["rule"] == "pcmon_spool_overflow"]
    check("spool cap: summary says how many", summary and "dropped the 3 oldest" in summary[0]["text"], summary)


def test_byte_cap(tmp):
    outdir = os.path.join(tmp, "bytes_out")
    out_path = os.path.join(outdir, "alerts.jsonl")
    d, cfg, inp = setup(tmp, "bytes", out_path, extra="spool:\n  max_bytes: 64KiB\n")
    big = [alert(i, lines=["var/log/parallelcluster/slurm_resume.log:%d" % j for j in range(400)]) for i in range(8)]
    write_alerts(inp, big)
    rc, out = run(cfg, inp, timeout=1)
    total = sum(os.path.getsize(os.path.join(d, "state", "spool", f)) for f in spool_files(d))
    check("spool byte cap: stays under max_bytes, oldest dropped", "event dropped" in out and total <= 65536 and
          "dropped=0" not in out, (total, out[-600:]))


def test_age_cap(tmp):
    outdir = os.path.join(tmp, "age_out")
    out_path = os.path.join(outdir, "alerts.jsonl")
    d, cfg, inp = setup(tmp, "age", out_path, n=2, extra="spool:\n  max_age: 1s\n")
    rc, out = run(cfg, inp, timeout=0.3)
    check("spool age cap: alerts pending", rc == 3 and len(spool_files(d)) == 2, out)
    t0 = time.monotonic()
    wait_for(lambda: time.monotonic() - t0 > 1.2, 3)   # let the alerts grow older than max_age
    os.makedirs(outdir)
    rc, out = run(cfg, None, timeout=10)
    check("spool age cap: expired alerts dropped, summary delivered",
          rc == 0 and titles(out_path) == ["summary"] and "event dropped" in out, (titles(out_path), out))


def test_corrupt(tmp):
    outdir = os.path.join(tmp, "corrupt_out")
    out_path = os.path.join(outdir, "alerts.jsonl")
    d, cfg, inp = setup(tmp, "corrupt", out_path, n=1)
    rc, out = run(cfg, inp, timeout=0.3)
    sp = os.path.join(d, "state", "spool")
    good = spool_files(d)
    with open(os.path.join(sp, good[0])) as f:
        text = f.read()
    with open(os.path.join(sp, "0000000000000050.json"), "w") as f:
        f.write("garbage{")
    with open(os.path.join(sp, "0000000000000051.json"), "w") as f:
        f.write(text[: len(text) // 2])               # cut short
    with open(os.path.join(sp, "0000000000000052.json.tmp.999"), "w") as f:
        f.write(text[:10])                            # a write that never reached its rename
    os.makedirs(outdir)
    rc, out = run(cfg, None, timeout=10)
    check("spool corrupt files: skipped and counted, the good one delivered",
          rc == 0 and "corrupt=3" in out and titles(out_path) == ["#0"], out)
    left = spool_files(d)
    check("spool corrupt files: set aside as *.corrupt, temp removed",
          sorted(left) == ["0000000000000050.json.corrupt", "0000000000000051.json.corrupt"], left)


def test_busy(tmp):
    out_path = os.path.join(tmp, "busy_missing", "alerts.jsonl")
    d, cfg, inp = setup(tmp, "busy", out_path, n=1)
    r = Run(cfg, inp, timeout=10)
    wait_for(lambda: spool_files(d), 5)
    rc, out = run(cfg, None, timeout=2)
    check("spool in use: a second process is refused", rc == 3 and "in use" in out, out)
    r.kill()


def mount_tmpfs(path, opts):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def test_full_and_readonly(tmp):
    for kind in ("full", "readonly"):
        out_path = os.path.join(tmp, kind + "_alerts.jsonl")
        d, cfg, inp = setup(tmp, kind, out_path, n=3)
        sp = os.path.join(d, "state", "spool")
        if not mount_tmpfs(sp, "size=16k,nr_inodes=64"):
            print("SKIP spool %s: cannot mount a tmpfs here (needs CAP_SYS_ADMIN)" % kind, flush=True)
            return
        try:
            if kind == "full":
                fd = os.open(os.path.join(sp, ".filler"), os.O_WRONLY | os.O_CREAT)
                try:
                    for _ in range(64):   # 16 KiB of tmpfs in 4 KiB writes: bounded
                        os.write(fd, b"\0" * 4096)
                except OSError:
                    pass
                os.close(fd)
            else:
                subprocess.run(["mount", "-o", "remount,ro", sp], check=True)
            rc, out = run(cfg, inp, timeout=10)
            check("spool %s: every alert still delivered" % kind, rc == 0 and titles(out_path) == ["#0", "#1", "#2"], out)
            why = "No space left on device" if kind == "full" else "Read-only file system"
            check("spool %s: each non-durable alert reported" % kind, out.count("event spool_error") == 3 and
                  why in out and "write_errors=3" in out, out)
        finally:
            subprocess.run(["umount", sp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    tmp = tempfile.mkdtemp(prefix="pcmon-spool-")
    test_count_cap(tmp)
    test_byte_cap(tmp)
    test_age_cap(tmp)
    test_corrupt(tmp)
    test_busy(tmp)
    test_full_and_readonly(tmp)
    finish()


if __name__ == "__main__":
    main()
