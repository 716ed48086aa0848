#!/usr/bin/python3
"""Deterministic generator of a realistic ParallelCluster head-node log mix, for `make bench`.

usage: genlogs.py mix OUTDIR [--lines N] [--match-ratio R] [--seed S]

Writes OUTDIR/var/log/parallelcluster/{clustermgtd, clustermgtd.events, slurm_resume.log,
clusterstatusmgtd} with the cadence of a busy head node (clustermgtd's 60 s loop and its INFO lines,
the minutely compute-node-idle-time JSON events, clusterstatusmgtd's loop, resume runs launching
nodes), and about R of the lines alerting: EC2 launch failures (with the launch lines of the same
resume process before them), bootstrap failures and unhealthy nodes, in the message formats of
aws-parallelcluster-node 3.11. OUTDIR/truth.json holds, per condition, every line a correct matcher
must match ("file", "line"), the number of lines per file, and `grep_patterns`: extended regular
expressions equivalent to the alerting rules, for the peers in the benchmark.
"""
import argparse
import json
import os
import random
from datetime import datetime, timedelta, timezone

PC = "var/log/parallelcluster/"
FILES = {"cm": PC + "clustermgtd", "ev": PC + "clustermgtd.events", "rs": PC + "slurm_resume.log",
         "cs": PC + "clusterstatusmgtd"}
CM = "{t} - [slurm_plugin.clustermgtd:{f}] - {lvl} - {m}"
RS = "{t} - {pid} - [slurm_plugin.{mod}] - {lvl} - {m}"
CM_LOOP = [
    ("manage_cluster", "INFO", "Managing cluster..."),
    ("_get_config", "INFO", "Reading /etc/parallelcluster/slurm_plugin/parallelcluster_clustermgtd.conf"),
    ("manage_cluster", "INFO", "Current compute fleet status: RUNNING"),
    ("manage_cluster", "INFO", "Retrieving nodes info from the scheduler"),
    ("_get_ec2_instances", "INFO", "Retrieving list of EC2 instances associated with the cluster"),
    ("_perform_health_check_actions", "INFO", "Performing instance health check actions"),
    ("_maintain_nodes", "INFO", "Performing node maintenance actions"),
    ("_maintain_nodes", "INFO", "Following nodes are currently in replacement: (x0) []"),
    ("_terminate_orphaned_instances", "INFO", "Checking for orphaned instance"),
]
CS_LOOP = ["Getting compute fleet status", "Retrieving compute fleet status from DynamoDB",
           "Current compute fleet status: RUNNING"]
ICE = ("Failed RunInstances request ({req}): InsufficientInstanceCapacity - We currently do not have sufficient "
       "{it} capacity in the Availability Zone you requested ({az}). Our system will be working on provisioning "
       "additional capacity.")
VCPU = ("Error in CreateFleet request ({req}): VcpuLimitExceeded - You have requested more vCPU capacity than your "
        "current vCPU limit of 2048 allows for the instance bucket that the specified instance type belongs to.")
GREP = [
    r"Failed RunInstances request \([^)]*\): (InsufficientInstanceCapacity|InsufficientHostCapacity)",
    r"Error in CreateFleet request \([^)]*\): VcpuLimitExceeded",
    r"WARNING - Found the following bootstrap failure nodes",
    r"WARNING - Node [^ ]+ is associated with instance [^ ]+ that is failing",
    r"WARNING - Setting cluster into protected mode",
]
QUEUES = [("gpu", "g5-12xl", "g5.12xlarge"), ("cpu", "c6i4xl", "c6i.4xlarge"), ("mem", "r6i-8xl", "r6i.8xlarge")]


class Mix:
    def __init__(self, out, seed):
        self.rnd = random.Random(seed)
        self.out = out
        self.buf = {k: [] for k in FILES}
        self.count = {k: 0 for k in FILES}
        self.truth = {}
        self.now = datetime(2024, 10, 14, 0, 0, 0, tzinfo=timezone.utc)
        self.total = 0

    def ts(self):
        return self.now.strftime("%Y-%m-%d %H:%M:%S,") + f"{self.now.microsecond // 1000:03d}"

    def emit(self, key, line, condition=None):
        self.buf[key].append(line + "\n")
        self.count[key] += 1
        self.total += 1
        if condition:
            self.truth.setdefault(condition, []).append({"file": FILES[key], "line": self.count[key]})
        self.now += timedelta(milliseconds=self.rnd.randint(1, 40))

    def clustermgtd_loop(self):
        for f, lvl, m in CM_LOOP:
            self.emit("cm", CM.format(t=self.ts(), f=f, lvl=lvl, m=m))
        for node_type in ("dynamic", "static"):
            ev = {"datetime": self.now.isoformat(timespec="milliseconds"), "version": 0, "scheduler": "slurm",
                  "cluster-name": "bench", "node-role": "HeadNode", "component": "clustermgtd", "level": "INFO",
                  "instance-id": "i-0123456789abcdef0", "event-type": "compute-node-idle-time",
                  "message": "Longest idle time", "detail": {"node-type": node_type,
                  "longest-idle-time": round(self.rnd.uniform(0, 900), 3), "count": self.rnd.randint(1, 64)}}
            self.emit("ev", json.dumps(ev))
        for m in CS_LOOP:
            self.emit("cs", f"{self.ts()} - [clusterstatusmgtd:_manage_compute_fleet_status_transitions] - INFO - {m}")

    def resume_run(self, fail):
        pid = self.rnd.randint(2000, 60000)
        q, cr, it = self.rnd.choice(QUEUES)
        n = self.rnd.randint(1, 32)
        nodes = ", ".join(f"'{q}-dy-{cr}-{i}'" for i in range(1, n + 1))
        rs = lambda mod, lvl, m, cond=None: self.emit(
            "rs", RS.format(t=self.ts(), pid=pid, mod=mod, lvl=lvl, m=m), cond)
        rs("resume:main", "INFO", "ResumeProgram startup.")
        rs("resume:_resume", "INFO", f"Launching EC2 instances for the following Slurm nodes: {q}-dy-{cr}-[1-{n}]")
        rs("instance_manager:_launch_instances", "INFO", f"Launching best-effort instances for nodes (x{n}) [{nodes}]")
        rs("fleet_manager:run_instances", "INFO", "Launching instances with run_instances API. Parameters: "
           f"{{'MinCount': 1, 'MaxCount': {n}, 'LaunchTemplate': {{'LaunchTemplateName': 'bench-{q}-{cr}'}}}}")
        req = "%08x-%04x-4%03x-a%03x-%012x" % tuple(self.rnd.getrandbits(b) for b in (32, 16, 12, 12, 48))
        if fail == "ice":
            rs("fleet_manager:_launch_instances", "ERROR", ICE.format(req=req, it=it, az="us-east-1a"),
               "insufficient_capacity")
            rs("resume:_resume", "ERROR", f"Failed to launch following nodes, setting nodes to DOWN: (x{n}) [{nodes}]")
        elif fail == "vcpu":
            rs("fleet_manager:_launch_instances", "WARNING", VCPU.format(req=req), "vcpu_limit")
        else:
            rs("resume:_resume", "INFO", f"Successfully launched nodes (x{n}) [{nodes}]")
        rs("resume:main", "INFO", "ResumeProgram finished.")

    def clustermgtd_alert(self, kind):
        q, cr, _ = self.rnd.choice(QUEUES)
        i = self.rnd.randint(1, 64)
        if kind == "boot":
            m = f"Found the following bootstrap failure nodes: (x1) ['{q}-dy-{cr}-{i}(10.0.{i}.{i})']"
            self.emit("cm", CM.format(t=self.ts(), f="_handle_bootstrap_failure_nodes", lvl="WARNING", m=m),
                      "bootstrap_failure")
        else:
            m = (f"Node {q}-st-{cr}-{i}(10.0.{i}.7) is associated with instance i-0{i:016x} that is failing "
                 f"ec2_health_check. EC2 health state: ['i-0{i:016x}', 'running', {{'Status': 'impaired'}}, "
                 f"{{'Status': 'ok'}}, None]")
            self.emit("cm", CM.format(t=self.ts(), f="_get_nodes_failing_health_check", lvl="WARNING", m=m),
                      "unhealthy_node")

    def run(self, lines, ratio):
        alerts_due = 0.0
        while self.total < lines:
            self.clustermgtd_loop()
            alerts_due += 16 * ratio
            kinds = []
            while alerts_due >= 1:
                alerts_due -= 1
                kinds.append(self.rnd.choice(["ice", "vcpu", "boot", "unhealthy"]))
            for k in kinds:
                if k in ("boot", "unhealthy"):
                    self.clustermgtd_alert(k)
                else:
                    self.resume_run(k)
            if self.rnd.random() < 0.3:
                self.resume_run(None)
            self.now += timedelta(seconds=60)
        self.write()

    def write(self):
        for key, rel in FILES.items():
            path = os.path.join(self.out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.writelines(self.buf[key])
        truth = {"conditions": self.truth, "lines": {FILES[k]: v for k, v in self.count.items()},
                 "total_lines": self.total, "grep_patterns": GREP}
        with open(os.path.join(self.out, "truth.json"), "w") as f:
            json.dump(truth, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["mix"])
    ap.add_argument("outdir")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--match-ratio", type=float, default=0.001)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    Mix(a.outdir, a.seed).run(a.lines, a.match_ratio)


if __name__ == "__main__":
    main()
