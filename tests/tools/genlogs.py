#!/usr/bin/python3
"""Deterministic generators of ParallelCluster head-node logs.

usage: genlogs.py mix OUTDIR [--lines N] [--match-ratio R] [--seed S]
       genlogs.py scenario07 OUTDIR [--seed S]

scenario07 regenerates the shared fixtures' 40-hour scenario 07 (too big to commit) with its
expected alerts; tests/integration/replay_generated.py replays it. See Scenario07 below.

mix, for `make bench`:

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
import bisect
import heapq
import json
import math
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



# ---------------------------------------------------------------------------------------------
# scenario07: the recorded 40-hour throughput scenario of the shared fixtures
# (07_throughput_40h_mixed), regenerated instead of committed (11 MB). Same files, same message
# formats, the same three incidents at the same times, and background noise of the same volume
# (about 51k lines: clustermgtd's and clusterstatusmgtd's 60 s loops, idle-time events, ~2100
# jobs with the resume/suspend runs and slurmctld lines they cause). Writes
# OUTDIR/expected.jsonl (the fixture's format: the detections an operator expects) and
# OUTDIR/expected_alerts.jsonl (the alerts `pcmon replay --json` gives on the recorded original:
# rule, state, count, first evidence line, key fields).

S7_CLUSTER, S7_REGION, S7_HEAD = "climate-sim", "eu-central-1", "i-0f6c2a9e1b4d7830a"
S7_ZONE = "Z01178245PDEXAMPLE4T"
S7_START = datetime(2024, 12, 2, 0, 0, 0, tzinfo=timezone.utc)
S7_HOURS = 40
S7_FILES = {"cm": PC + "clustermgtd", "ev": PC + "clustermgtd.events", "rs": PC + "slurm_resume.log",
            "su": PC + "slurm_suspend.log", "cs": PC + "clusterstatusmgtd",
            "co": PC + "compute_console_output.log", "sc": "var/log/slurmctld.log"}
# queue: (compute resource, instance type, dynamic nodes, CPUs per node, share of jobs)
S7_QUEUES = {"batch": ("c6i-8xl", "c6i.8xlarge", 64, 32, 0.66), "post": ("r6i-4xl", "r6i.4xlarge", 48, 16, 0.28),
             "gpu": ("g5-8xl", "g5.8xlarge", 20, 32, 0.06)}
S7_RESUME_CONFIG = (
    "SlurmResumeConfig(region='{r}', cluster_name='{c}', dynamodb_table='parallelcluster-slurm-{c}', "
    "hosted_zone='{z}', dns_domain='{c}.pcluster.', use_private_hostname=False, head_node_private_ip='10.0.0.31', "
    "head_node_hostname='ip-10-0-0-31.{r}.compute.internal', launch_max_batch_size=500, "
    "assign_node_max_batch_size=500, terminate_max_batch_size=1000, update_node_address=True, "
    "scaling_strategy='all-or-nothing', job_level_scaling=True, fleet_config={{'batch': {{'c6i-8xl': "
    "{{'CapacityType': 'on-demand', 'Api': 'run-instances', 'Instances': [{{'InstanceType': 'c6i.8xlarge'}}]}}}}, "
    "'post': {{'r6i-4xl': {{'CapacityType': 'on-demand', 'Api': 'run-instances', 'Instances': [{{'InstanceType': "
    "'r6i.4xlarge'}}]}}}}, 'gpu': {{'g5-8xl': {{'CapacityType': 'on-demand', 'Api': 'run-instances', 'Instances': "
    "[{{'InstanceType': 'g5.8xlarge'}}]}}}}}}, run_instances_overrides={{}}, create_fleet_overrides={{}}, "
    "clustermgtd_timeout=300, clustermgtd_heartbeat_file_path='/opt/slurm/etc/pcluster/.slurm_plugin/"
    "clustermgtd_heartbeat', _boto3_retry=1, _boto3_config={{'retries': {{'max_attempts': 1, 'mode': 'standard'}}}}, "
    "boto3_config=<botocore.config.Config object at 0x7f{a:010x}>, logging_config='/opt/parallelcluster/pyenv/"
    "versions/3.9.20/envs/node_virtualenv/lib/python3.9/site-packages/slurm_plugin/logging/"
    "parallelcluster_resume_logging.conf', head_node_instance_id='{h}')")
S7_EP = 'Could not connect to the endpoint URL: "https://ec2.{r}.amazonaws.com/"'.format(r=S7_REGION)
S7_CONSOLE = ["+ pushd /etc/chef",
              "+ cinc-client --local-mode --config /etc/chef/client.rb --log_level info --logfile "
              "/var/log/chef-client.log --force-formatter --no-color --chef-zero-port 8889 --json-attributes "
              "/etc/chef/dna.json --override-runlist aws-parallelcluster-entrypoints::{}",
              "+ /opt/parallelcluster/scripts/fetch_and_run -{}", "+ popd",
              "+ '[' '!' -f /opt/parallelcluster/.bootstrapped ']'"]


def hostlist(names):
    """Slurm's compressed form of names sharing one prefix: q-dy-cr-[1-3,7]."""
    if len(names) == 1:
        return names[0]
    prefix = names[0].rsplit("-", 1)[0] + "-"
    nums = sorted(int(n.rsplit("-", 1)[1]) for n in names)
    parts, lo = [], nums[0]
    for a, b in zip(nums, nums[1:] + [None]):
        if b != a + 1:
            parts.append(str(lo) if lo == a else f"{lo}-{a}")
            lo = b
    return f"{prefix}[{','.join(parts)}]"


class Scenario07:
    """A discrete-event head node: jobs arrive, dynamic nodes are resumed, run, idle and are suspended;
    clustermgtd and clusterstatusmgtd loop every minute; three incidents at fixed times."""
    DUR = 40          # median job run time, minutes
    BURST = 2.0       # mean jobs per submission
    PS = 3            # minutes between two power_save passes that suspend idle nodes
    RATE = 57         # jobs submitted per hour

    def __init__(self, out, seed):
        self.rnd = random.Random(seed)
        self.out = out
        self.entries = {k: [] for k in S7_FILES}
        self.seq = 0
        self.t0 = S7_START.timestamp()
        self.end = self.t0 + S7_HOURS * 3600
        # incidents, as offsets from the start
        self.hc_loop = 14 * 60 + 22                                  # ec2_health_check, batch-st-c6i-8xl-3
        self.outage = (self.t0 + 27 * 3600 + 11 * 60, 14)            # 14 loops without EC2 from 03:11 (day 2)
        self.sched_loop = 36 * 60 + 2                               # scheduled system-reboot, batch-st-c6i-8xl-4
        self.expected = []                                           # (file key, entry, dict)
        self.ips = {}
        self.instances = {}

    # -- output ---------------------------------------------------------------------------------
    @staticmethod
    def fmt(t, sep=","):
        d = datetime.fromtimestamp(t, timezone.utc)
        return d.strftime("%Y-%m-%d %H:%M:%S") + f"{sep}{int(round((t % 1) * 1000)) % 1000:03d}"

    @staticmethod
    def iso(t, ms=True):
        d = datetime.fromtimestamp(t, timezone.utc)
        return d.isoformat(timespec="milliseconds" if ms else "seconds")

    def put(self, key, t, text):
        self.seq += 1
        e = [t, self.seq, text]
        self.entries[key].append(e)
        return e

    def cm(self, t, func, lvl, msg, mod="clustermgtd"):
        return self.put("cm", t, f"{self.fmt(t)} - [slurm_plugin.{mod}:{func}] - {lvl} - {msg}")

    def sc(self, t, msg):
        d = datetime.fromtimestamp(t, timezone.utc)
        self.put("sc", t, f"[{d.strftime('%Y-%m-%dT%H:%M:%S')}.{int((t % 1) * 1000):03d}] {msg}")

    def expect(self, key, entry, **facts):
        self.expected.append((key, entry, facts))

    # -- values ---------------------------------------------------------------------------------
    def ip(self, node):
        if node not in self.ips:
            self.ips[node] = f"10.0.{self.rnd.randint(16, 47)}.{self.rnd.randint(2, 254)}"
        return self.ips[node]

    def new_instance(self, node):
        self.instances[node] = "i-0%016x" % self.rnd.getrandbits(64)
        self.ips.pop(node, None)
        return self.instances[node]

    def heartbeat(self, t):
        """clustermgtd's heartbeat as ResumeProgram/SuspendProgram read it at t."""
        i = bisect.bisect_right(self.beats, t) - 1
        return self.beats[i] if i >= 0 else self.t0 - 30

    # -- clustermgtd, clusterstatusmgtd ---------------------------------------------------------
    def loops(self):
        self.beats = []
        self.loop_starts = []
        out_start, out_n = self.outage
        for i in range(S7_HOURS * 60):
            t = self.t0 + i * 60 + 39.665 + i * 0.00018
            self.loop_starts.append(t)
            outage = out_start <= t < out_start + out_n * 60
            self.beats.append(None if outage else t + 6.0 + self.rnd.uniform(0.05, 0.5))
        # Heartbeats of loops in the outage are never written.
        self.beats = [b for b in self.beats if b is not None]

    def clustermgtd_loop(self, i, t, powering_down):
        r = self.rnd
        out_start, out_n = self.outage
        self.cm(t, "_get_config", "INFO", "Reading /etc/parallelcluster/slurm_plugin/parallelcluster_clustermgtd.conf")
        self.cm(t + 0.004, "manage_cluster", "INFO", "Managing cluster...")
        u = t + r.uniform(0.35, 0.55)
        self.cm(u, "manage_cluster", "INFO", "Current compute fleet status: RUNNING")
        self.cm(u + 0.001, "manage_cluster", "INFO", "Retrieving nodes info from the scheduler")
        u = t + r.uniform(5.1, 5.9)
        self.cm(u, "_get_ec2_instances", "INFO", "Retrieving list of EC2 instances associated with the cluster")
        if out_start <= t < out_start + out_n * 60:
            u += r.uniform(0.015, 0.035)
            self.cm(u, "wrapper", "ERROR", "Failed when getting cluster instances from EC2 with exception "
                    f"EndpointConnectionError, message: {S7_EP}", mod="instance_manager")
            self.cm(u, "_get_ec2_instances", "ERROR", f"Failed when getting instance info from EC2 with exception {S7_EP}")
            self.cm(u + 0.001, "manage_cluster", "ERROR",
                    "Unable to get instances info from EC2, no other action can be performed. Sleeping...")
            return
        u += r.uniform(0.07, 0.25)
        self.cm(u, "_perform_health_check_actions", "INFO", "Performing instance health check actions")
        self.idle_events(u - 0.002)
        u = self.health_checks(i, t, u)
        u += r.uniform(0.15, 0.35)
        self.cm(u, "_maintain_nodes", "INFO", "Performing node maintenance actions")
        repl = self.replacing if self.replacing and t < self.replacing[1] else None
        u += 0.002
        self.cm(u, "_maintain_nodes", "INFO", "Following nodes are currently in replacement: " +
                (f"(x1) ['{repl[0]}']" if repl else "(x0) []"))
        if i % 10 == 2:
            u += 0.002
            self.cm(u, "_retrieve_capacity_blocks_from_fleet_config", "INFO",
                    "Retrieving Capacity Blocks from fleet configuration.", mod="capacity_block_manager")
        u = self.replacement(t, u)
        if powering_down:
            u += 0.002
            names = sorted(powering_down, key=lambda n: (n.rsplit("-", 1)[0], int(n.rsplit("-", 1)[1])))
            self.cm(u, "_handle_powering_down_nodes", "INFO", f"Resetting powering down nodes: (x{len(names)}) [" +
                    ", ".join(f"'{n}({self.ip(n)})'" for n in names) + "]")
            u += r.uniform(0.03, 0.09)
            self.cm(u, "_handle_powering_down_nodes", "INFO", "Terminating instances that are backing powering down nodes")
            self.cm(u, "delete_instances", "INFO", f"Terminating instances (x{len(names)}) [" +
                    ", ".join(f"'{self.instances.get(n) or self.new_instance(n)}'" for n in names) + "]",
                    mod="instance_manager")
        self.cm(u + 0.002, "_terminate_orphaned_instances", "INFO", "Checking for orphaned instance")

    def idle_events(self, t):
        up = [n for n, s in self.state.items() if s[0] == "idle"]
        kinds = [("static", [f"batch-st-c6i-8xl-{k}" for k in range(1, 5)])]
        if up:
            kinds.append(("dynamic", up))
        for node_type, nodes in kinds:
            node = self.rnd.choice(nodes)
            q = node.split("-")[0]
            cr = S7_QUEUES[q][0]
            ip = self.ip(node)
            inst = self.instances.get(node) or self.new_instance(node)
            idle = self.rnd.uniform(1, 3600 if node_type == "static" else 600)
            launch = t - self.rnd.uniform(1800, 9 * 86400 if node_type == "static" else 7200)
            detail = {"node-type": node_type, "longest-idle-time": round(idle, 6), "longest-idle-node": {
                "name": node, "type": node_type, "address": ip, "hostname": node, "state-string": "IDLE+CLOUD",
                "state-reason": None, "state": "IDLE", "state-flags": ["CLOUD"],
                "instance": {"id": inst, "private-ip": ip, "hostname": "ip-" + ip.replace(".", "-"),
                             "launch-time": self.iso(int(launch))},
                "partitions": [q], "queue-name": q, "compute-resource": cr,
                "last-busy-time": self.iso(int(t - idle)), "slurm-started-time": self.iso(launch + 240)},
                "count": len(nodes)}
            self.event(t, "INFO", "compute-node-idle-time", "Longest idle time", detail)

    def event(self, t, level, etype, message, detail):
        ev = {"datetime": self.iso(t), "version": 0, "scheduler": "slurm", "cluster-name": S7_CLUSTER,
              "node-role": "HeadNode", "component": "clustermgtd", "level": level, "instance-id": S7_HEAD,
              "event-type": etype, "message": message, "detail": detail}
        return self.put("ev", t, json.dumps(ev))

    def health_checks(self, i, t, u):
        """The two health-check incidents in loop i; returns the time of the last line written."""
        hc = self.hc_loop - 3 <= i <= self.hc_loop      # impaired for 4 loops, failing in the last
        se = self.sched_loop <= i <= self.sched_loop + 1
        if not (hc or se):
            return u
        for check in ("ec2_health_check", "scheduled_events_check"):
            u += 0.002
            self.cm(u, "_get_nodes_failing_health_check", "INFO", f"Performing actions for health check type: {check}")
            if check == "ec2_health_check" and i == self.hc_loop:
                node, since = "batch-st-c6i-8xl-3", t - 239.8
                sd = datetime.fromtimestamp(int(since), timezone.utc)
                inst = self.instances.get(node) or self.new_instance(node)
                state = (f"['{inst}', 'running', {{'Details': [{{'ImpairedSince': datetime.datetime({sd.year}, "
                         f"{sd.month}, {sd.day}, {sd.hour}, {sd.minute}, {sd.second}, tzinfo=tzlocal()), 'Name': "
                         "'reachability', 'Status': 'failed'}], 'Status': 'impaired'}, {'Details': [{'Name': "
                         "'reachability', 'Status': 'passed'}], 'Status': 'ok'}, None]")
                u = self.failing(u, node, check, state, "ec2_health_check", group=None,
                                 impaired_since=sd.isoformat())
                self.replace_at = (t, node, u)
            if check == "scheduled_events_check" and se:
                node = "batch-st-c6i-8xl-4"
                inst = self.instances.get(node) or self.new_instance(node)
                state = (f"['{inst}', 'running', {{'Details': [{{'Name': 'reachability', 'Status': 'passed'}}], "
                         "'Status': 'ok'}, {'Details': [{'Name': 'reachability', 'Status': 'passed'}], 'Status': "
                         "'ok'}, [{'Code': 'system-reboot', 'Description': 'scheduled reboot', 'InstanceEventId': "
                         "'instance-event-0b7d4e2a91c6f3850', 'NotBefore': datetime.datetime(2024, 12, 6, 2, 0, "
                         "tzinfo=tzlocal())}]]")
                u = self.failing(u, node, check, state, "scheduled_events_check", group="sched-batch-4",
                                 event_code="system-reboot")
                if i == self.sched_loop + 1:
                    self.replace_at = (t, node, u)
        return u

    def failing(self, u, node, check, state, htype, group, **facts):
        ip = self.ip(node)
        e = self.cm(u, "_get_nodes_failing_health_check", "WARNING", f"Node {node}({ip}) is associated with instance "
                    f"{self.instances[node]} that is failing {check}. EC2 health state: {state}")
        e2 = self.cm(u + 0.001, "_handle_nodes_failing_health_check", "WARNING",
                     f"Setting nodes failing health check type {check} to DRAIN: {{'{node}'}}")
        ev = self.event(u + 0.011, "WARNING", "nodes-failing-health-check-count", "Number of nodes failing health check",
                        {"failure-type": check, "count": 1, "nodes": [{"name": node}]})
        self.sc(u + 0.004, f"update_node: node {node} reason set to: Node failing {check}")
        self.sc(u + 0.008, f"update_node: node {node} state set to DRAINED")
        f = {"node": node, "health_check_type": htype, "queue": "batch", "compute_resource": "c6i-8xl"}
        f.update(facts)
        if group:
            f["group"] = group
        self.expect("cm", e, condition="unhealthy_node", alt=[("cm", e2), ("ev", ev)], **f)
        return u + 0.012

    def replacement(self, t, u):
        """A drained static node is replaced in the loop after it was drained (or the same one)."""
        if not getattr(self, "replace_at", None):
            return u
        _, node, _ = self.replace_at
        self.replace_at = None
        r = self.rnd
        ip = self.ip(node)
        old = self.instances[node]
        u += 0.002
        self.cm(u, "is_state_healthy", "WARNING", f"Node state check: node {node}({ip}) in DRAINED, node state: "
                "IDLE+CLOUD+DRAIN", mod="slurm_resources")
        self.cm(u, "_maintain_nodes", "INFO", f"Found the following unhealthy static nodes: (x1) ['{node}({ip})']")
        u += r.uniform(0.05, 0.09)
        self.cm(u, "_handle_unhealthy_static_nodes", "INFO", "Setting unhealthy static nodes to DOWN")
        self.sc(u + 0.002, f"update_node: node {node} reason set to: Static node maintenance: unhealthy node is "
                "being replaced")
        self.sc(u + 0.006, f"update_node: node {node} state set to DOWN")
        u += r.uniform(0.03, 0.09)
        self.cm(u, "_handle_unhealthy_static_nodes", "INFO", "Terminating instances backing unhealthy static nodes")
        self.cm(u + 0.002, "delete_instances", "INFO", f"Terminating instances (x1) ['{old}']", mod="instance_manager")
        u += r.uniform(0.25, 0.45)
        self.cm(u, "_handle_unhealthy_static_nodes", "INFO", "Launching new instances for unhealthy static nodes")
        u = self.launch_lines(u, [node], "batch", "c6i-8xl", lambda tt, f, m, mod: self.cm(tt, f, "INFO", m, mod=mod),
                              strategy="best-effort", job=None)
        self.cm(u + 0.001, "_handle_unhealthy_static_nodes", "INFO",
                f"After node maintenance, following nodes are currently in replacement: (x1) ['{node}']")
        self.replacing = (node, t + 5 * 60 + 10)
        if node == "batch-st-c6i-8xl-3":
            # the console output of the replaced instance, fetched 5 minutes later
            tc = t + 5 * 60 + 1.335
            self.cm(tc, "_get_console_output_from_nodes", "INFO",
                    f"Retrieving Console Output for node {old} ({node})", mod="console_logger")
            lines = [S7_CONSOLE[0], S7_CONSOLE[1].format("init"), S7_CONSOLE[2].format("preinstall"),
                     S7_CONSOLE[1].format("config"), S7_CONSOLE[2].format("postinstall"),
                     S7_CONSOLE[1].format("finalize"), S7_CONSOLE[3], S7_CONSOLE[4]]
            stamps = ["09:45:22", "09:45:22", "09:46:10", "09:46:18", "09:48:22", "09:48:27", "09:49:29", "09:49:29"]
            text = "".join(f"<13>Nov 24 {s} user-data: {l}\r" for s, l in zip(stamps, lines)).rstrip("\r")
            self.put("co", tc + 0.377, f"{self.fmt(tc + 0.377)} - Console output for node {node} (Instance Id {old}):"
                     f"{text}")
        return u + 0.002

    def launch_lines(self, u, nodes, q, cr, log, strategy, job):
        """The instance_manager/fleet_manager lines of one launch; returns the last time."""
        r = self.rnd
        jp = f"JobID {job} - " if job else ""
        n = len(nodes)
        quoted = ", ".join(f"'{x}'" for x in nodes)
        log(u, "_launch_instances", f"{jp}Launching {strategy} instances for nodes (x{n}) [{quoted}]", "instance_manager")
        log(u + 0.001, "run_instances", f"{jp}Launching instances with run_instances API. Parameters: {{'MinCount': "
            f"{n if strategy == 'all-or-nothing' else 1}, 'MaxCount': {n}, 'LaunchTemplate': {{'LaunchTemplateName': "
            f"'{S7_CLUSTER}-{q}-{cr}', 'Version': '$Latest'}}}}", "fleet_manager")
        u += r.uniform(0.7, 1.9)
        ids = [self.new_instance(x) for x in nodes]
        log(u, "launch_ec2_instances", f"{jp}Launched the following instances (x{n}) [" +
            ", ".join(f"'{i}'" for i in ids) + "]", "fleet_manager")
        log(u + 0.002, "_add_instances_for_nodes", f"{jp}Assigning nodes with {strategy} strategy", "instance_manager")
        log(u + 0.003, "_store_assigned_hostnames", f"{jp}Saving assigned hostnames in DynamoDB", "instance_manager")
        u += r.uniform(0.05, 0.08)
        log(u, "_update_dns_hostnames", f"{jp}Updating DNS records for {S7_ZONE} - {S7_CLUSTER}.pcluster.",
            "instance_manager")
        u += r.uniform(0.2, 0.45)
        lt = datetime.fromtimestamp(int(u - 1.5), timezone.utc)
        conf = ", ".join(
            f"\"('{x}', EC2Instance(id='{i}', private_ip='{self.ip(x)}', hostname='ip-{self.ip(x).replace('.', '-')}', "
            f"all_private_ips={{'{self.ip(x)}'}}, launch_time=datetime.datetime({lt.year}, {lt.month}, {lt.day}, "
            f"{lt.hour}, {lt.minute}, {lt.second}, tzinfo=tzlocal()), slurm_node=None))\"" for x, i in zip(nodes, ids))
        log(u, "_update_slurm_node_addrs", f"{jp}Nodes are now configured with instances (x{n}) [{conf}]",
            "instance_manager")
        u += 0.001
        fn = "_all_or_nothing_node_assignment" if strategy == "all-or-nothing" else "_best_effort_node_assignment"
        log(u, fn, f"{jp}Successful launched and assigned all instances for nodes (x{n}) [{quoted}]", "instance_manager")
        return u

    # -- ResumeProgram, SuspendProgram ----------------------------------------------------------
    def resume_run(self, t, jobs, fail_heartbeat=False):
        """jobs: [(job id, queue, [node names to resume], [allocated names])]"""
        r = self.rnd
        pid = self.pid = self.pid + r.randint(3, 400)
        entries = []

        def log(tt, func, msg, mod="resume", lvl="INFO"):
            e = self.put("rs", tt, f"{self.fmt(tt)} - {pid} - [slurm_plugin.{mod}:{func}] - {lvl} - {msg}")
            entries.append(e)
            return e
        allnodes = sorted({n for j in jobs for n in j[2]}, key=lambda n: (n.split("-")[0], int(n.rsplit("-", 1)[1])))
        by_q = {}
        for n in allnodes:
            by_q.setdefault(n.split("-")[0], []).append(n)
        all_hl = ",".join(hostlist(v) for v in by_q.values())
        log(t, "main", "ResumeProgram startup.")
        log(t + 0.002, "_get_config", "Reading /etc/parallelcluster/slurm_plugin/parallelcluster_slurm_resume.conf")
        log(t + 0.005, "main", "ResumeProgram config: " + S7_RESUME_CONFIG.format(
            r=S7_REGION, c=S7_CLUSTER, z=S7_ZONE, h=S7_HEAD, a=r.getrandbits(36)))
        resume_file = {"jobs": [{"extra": None, "job_id": j[0], "features": None, "nodes_alloc": hostlist(j[3]),
                                 "nodes_resume": hostlist(j[2]), "oversubscribe": r.choice(["OK", "NO"]),
                                 "partition": j[1], "reservation": None} for j in jobs], "all_nodes_resume": all_hl}
        log(t + 0.007, "_get_slurm_resume", f"Slurm Resume File content: {resume_file!r}")
        u = t + r.uniform(0.005, 0.012)
        hb = self.heartbeat(u)
        self.hb_entry = log(u, "is_clustermgtd_heartbeat_valid", f"Latest heartbeat from clustermgtd: {self.hb(hb)}",
                            mod="common")
        if fail_heartbeat:
            e = log(u, "expired_clustermgtd_heartbeat", f"Clustermgtd has been offline since {self.hb(hb)}. Current "
                    f"time is {self.hb(u - 0.0063)}. Timeout of 300 seconds has expired!", mod="common", lvl="ERROR")
            log(u, "_resume", "No valid clustermgtd heartbeat detected, clustermgtd is down!\nPlease check "
                f"clustermgtd log for error.\nNot launching nodes {all_hl}", lvl="ERROR")
            log(u, "_handle_failed_nodes", f"Setting following failed nodes into DOWN state {all_hl} with reason: "
                "Failure when resuming nodes")
            log(u + 0.043, "main", "ResumeProgram finished.")
            return e
        log(u + 0.001, "_resume", f"Launching EC2 instances for the following Slurm nodes: {all_hl}")
        u += r.uniform(0.06, 0.16)
        log(u, "_resume", "Current state of Slurm nodes to resume: [" + ", ".join(
            f"('{n}', 'ALLOCATED+CLOUD+NOT_RESPONDING+POWERING_UP')" for n in allnodes) + "]")
        best_effort = len(jobs) >= 3     # as in the recording: runs with several jobs assign best-effort
        if best_effort:
            u = self.launch_lines(u, allnodes, allnodes[0].split("-")[0], S7_QUEUES[allnodes[0].split("-")[0]][0],
                                  lambda tt, f, m, mod: log(tt, f, m, mod=mod), "best-effort", None)
        else:
            for jid, q, nodes, _ in jobs:
                quoted = ", ".join(f"'{x}'" for x in nodes)
                log(u + 0.001, "_scaling_for_jobs", f"JobID {jid} - The nodes_resume list from Slurm Resume File is "
                    f"(x{len(nodes)}) [{quoted}]", mod="instance_manager")
                u = self.launch_lines(u + 0.002, nodes, q, S7_QUEUES[q][0], lambda tt, f, m, mod: log(tt, f, m, mod=mod),
                                      "all-or-nothing", jid)
        u += 0.002
        for q, names in by_q.items():
            log(u, "_resume", f"Successfully launched nodes (x{len(names)}) [" + ", ".join(f"'{x}'" for x in names) + "]")
        log(u + 0.002, "main", "ResumeProgram finished.")
        return None

    @staticmethod
    def hb(t):
        d = datetime.fromtimestamp(int(t), timezone.utc)
        return d.strftime("%Y-%m-%d %H:%M:%S") + f".{int(round((t % 1) * 1e6)) % 1000000:06d}+00:00"

    def suspend_run(self, t, names, fail_heartbeat=False):
        r = self.rnd

        def log(tt, func, msg, mod="suspend", lvl="INFO"):
            return self.put("su", tt, f"{self.fmt(tt)} - [slurm_plugin.{mod}:{func}] - {lvl} - {msg}")
        by_q = {}
        for n in sorted(names, key=lambda n: (n.split("-")[0], int(n.rsplit("-", 1)[1]))):
            by_q.setdefault(n.split("-")[0], []).append(n)
        hl = ",".join(hostlist(v) for v in by_q.values())
        log(t, "main", "SuspendProgram startup.")
        log(t + 0.002, "__init__", f"<slurm_plugin.suspend.SlurmSuspendConfig object at 0x7f{r.getrandbits(40):010x}>")
        log(t + 0.004, "main", f"Suspending following nodes. Clustermgtd will cleanup orphaned instances: {hl}")
        u = t + r.uniform(0.004, 0.01)
        hb = self.heartbeat(u)
        log(u, "is_clustermgtd_heartbeat_valid", f"Latest heartbeat from clustermgtd: {self.hb(hb)}", mod="common")
        if fail_heartbeat:
            e = log(u, "expired_clustermgtd_heartbeat", f"Clustermgtd has been offline since {self.hb(hb)}. Current "
                    f"time is {self.hb(u - 0.0045)}. Timeout of 300 seconds has expired!", mod="common", lvl="ERROR")
            log(u + 0.001, "main", "No valid clustermgtd heartbeat detected, clustermgtd is down! Please check "
                "clustermgtd log for error.\nNodes will be reset to POWER_SAVE state after SuspendTimeout. The backing "
                "EC2 instances may not be correctly terminated.\nPlease check and terminate any orphaned instances in "
                "EC2!", lvl="ERROR")
            return e
        log(u + 0.001, "main", "SuspendProgram finished. Nodes will be available after SuspendTimeout")
        return None

    # -- the simulation -------------------------------------------------------------------------
    def run(self):
        r = self.rnd
        self.pid = 20500
        self.replacing = None
        self.replace_at = None
        self.loops()
        # dynamic node -> [state, since]: down, waking (until since), busy, idle (since), suspending
        self.state = {f"{q}-dy-{v[0]}-{k}": ["down", 0] for q, v in S7_QUEUES.items() for k in range(1, v[2] + 1)}
        out_start, out_n = self.outage
        quiet = (out_start + 4 * 60, out_start + 1110)               # no background resume/suspend runs
        # arrivals: about 53 jobs an hour, busier in the working day
        arrivals, t = [], self.t0 + 50
        while t < self.end - 600:
            hour = (t - self.t0) / 3600 % 24
            rate = self.RATE * (1.35 if 8 <= hour < 20 else 0.65) / 3600
            t += r.expovariate(rate / self.BURST)
            if not quiet[0] - 600 <= t < quiet[1]:
                # a user submits a few jobs at once now and then (same queue, seconds apart)
                k = 1 if r.random() < 0.6 else r.randint(2, int(2 * self.BURST + 0.5))
                q = r.choices(list(S7_QUEUES), [v[4] for v in S7_QUEUES.values()])[0]
                arrivals += [(t + j * r.uniform(0.5, 4), q) for j in range(k)]
        heap = []          # (time, seq, kind, payload)
        seq = 0

        def push(tt, kind, payload):
            nonlocal seq
            seq += 1
            heapq.heappush(heap, (tt, seq, kind, payload))
        for a, q in arrivals:
            push(a, "submit", q)
        for i, lt in enumerate(self.loop_starts):
            push(lt, "loop", i)
            push(self.t0 + i * 60 + 51.489, "status", None)
            push(self.t0 + i * 60 + 47 + 5 * (i % 10 == 4), "power_save", i)
        # the incidents' own runs (ResumeProgram/SuspendProgram seeing the stale heartbeat)
        push(out_start + 319.908, "down_suspend", ["batch-dy-c6i-8xl-22"])
        push(out_start + 342.866, "down_suspend", [f"batch-dy-c6i-8xl-{k}" for k in (11, 12, 13, 14, 15, 44, 45, 46)])
        push(out_start + 395.919, "down_resume", None)
        push(out_start + 799.713, "down_suspend", ["batch-dy-c6i-8xl-38"])
        push(out_start + 1088.067, "up_resume", None)     # the requeued job again: a fresh heartbeat
        job_id = 770000
        pending_resume = {}      # queue -> (time, [jobs])
        powering_down = []
        static_busy = {}
        while heap:
            t, _, kind, p = heapq.heappop(heap)
            if t >= self.end:
                continue
            if kind == "loop":
                self.clustermgtd_loop(p, t, powering_down)
                if powering_down and not (out_start <= t < out_start + out_n * 60):
                    for n in powering_down:
                        self.state[n] = ["down", t]
                    powering_down = []
            elif kind == "status":
                for k, m in enumerate(("[clusterstatusmgtd:_get_config] - INFO - Reading /etc/parallelcluster/"
                                       "clusterstatusmgtd.conf", "[clusterstatusmgtd:_get_compute_fleet_status] - INFO"
                                       " - Getting compute fleet status", "[clusterstatusmgtd:manage_cluster_status]"
                                       " - INFO - Current compute fleet status: RUNNING")):
                    tt = t + (0, r.uniform(0.001, 0.004), r.uniform(0.025, 0.085))[k]
                    self.put("cs", tt, f"{self.fmt(tt)} - {m}")
            elif kind == "submit":
                job_id += 1
                q = p
                cr, _, _, cpus, _ = S7_QUEUES[q]
                n = 1
                if q == "batch":
                    n = r.choices([1, 2, 3, 4, 6, 8], [66, 15, 3, 10, 2, 4])[0]
                elif r.random() < 0.15:
                    n = 2
                self.sc(t, f"_slurm_rpc_submit_batch_job: JobId={job_id} InitPrio={4294901000 + r.randint(0, 600)} "
                        f"usec={r.randint(250, 2000)}")
                static = [f"batch-st-c6i-8xl-{k}" for k in range(1, 5) if static_busy.get(k, 0) < t]
                use_static = q == "batch" and static and r.random() < 0.025
                alloc = []
                if use_static:
                    k = int(r.choice(static).rsplit("-", 1)[1])
                    alloc.append(f"batch-st-c6i-8xl-{k}")
                    n -= 1
                idle = sorted((s[1], name) for name, s in self.state.items() if name.startswith(q + "-") and s[0] == "idle")
                take = [name for _, name in idle[:n]]
                down = [name for name, s in self.state.items() if name.startswith(q + "-") and s[0] == "down"]
                wake = down[:n - len(take)]
                if len(take) + len(wake) < n:
                    continue          # the queue is full: the job waits (not modelled), drop it
                alloc += take + wake
                dur = r.lognormvariate(math.log(self.DUR * 60), 0.9)
                t_alloc = t + r.uniform(0.03, 0.25)
                hl = ",".join(hostlist(sorted(g, key=lambda x: int(x.rsplit("-", 1)[1])))
                              for g in ([a for a in alloc if "-st-" in a], [a for a in alloc if "-dy-" in a]) if g)
                self.sc(t_alloc, f"sched: Allocate JobId={job_id} NodeList={hl} #CPUs={cpus * len(alloc)} Partition={q}")
                for name in take:
                    self.state[name] = ["busy", t]
                if use_static:
                    static_busy[k] = t + dur
                if wake:
                    for name in wake:
                        self.state[name] = ["waking", t]
                    if q in pending_resume and len(pending_resume[q]) < 4:
                        pending_resume[q].append((job_id, q, wake, alloc))
                    else:
                        pending_resume[q] = [(job_id, q, wake, alloc)]
                        push(t_alloc + r.uniform(7, 10), "resume", pending_resume[q])
                    start = t_alloc + r.uniform(150, 280)
                else:
                    start = t_alloc
                push(start + dur, "complete", (job_id, alloc))
            elif kind == "resume":
                jobs = p
                if pending_resume.get(jobs[0][1]) is jobs:
                    del pending_resume[jobs[0][1]]
                names = sorted({x for j in jobs for x in j[2]}, key=lambda x: int(x.rsplit("-", 1)[1]))
                self.sc(t - 0.3, f"POWER: power_save: waking nodes {hostlist(names)}")
                self.resume_run(t, jobs)
                for x in names:
                    tu = t + r.uniform(150, 280)
                    self.state[x] = ["busy", tu]
                    push(tu, "responding", x)
            elif kind == "responding":
                self.sc(t, f"Node {p} now responding")
            elif kind == "complete":
                jid, alloc = p
                code = r.choices([0, 1, 2, 137], [1871, 51, 59, 46])[0]
                self.sc(t, f"_job_complete: JobId={jid} WEXITSTATUS {code}")
                self.sc(t, f"_job_complete: JobId={jid} done")
                for x in alloc:
                    if x in self.state and self.state[x][0] == "busy":
                        self.state[x] = ["idle", t]
            elif kind == "power_save":
                if p % 10 == 4:
                    downs = sum(1 for s in self.state.values() if s[0] == "down")
                    self.sc(t + r.uniform(0, 12), f"POWER: Power save mode: {downs} nodes")
                if quiet[0] <= t < quiet[1] or p % self.PS:
                    continue
                old = [x for x, s in self.state.items() if s[0] == "idle" and t - s[1] >= 600]
                if not old:
                    continue
                ts = t + r.uniform(0, 10)
                by_q = {}
                for x in old:
                    self.state[x] = ["suspending", ts]
                    by_q.setdefault(x.split("-")[0], []).append(x)
                for q, names in by_q.items():
                    self.sc(ts - 0.2, "POWER: power_save: suspending nodes " +
                            hostlist(sorted(names, key=lambda x: int(x.rsplit("-", 1)[1]))))
                self.suspend_run(ts, old)
                powering_down += old
            elif kind == "down_suspend":
                e = self.suspend_run(t, p, fail_heartbeat=True)
                self.expect("su", e, condition="clustermgtd_down", group="cmd-down-1", reported_by="slurm_suspend",
                            heartbeat_timeout=300)
            elif kind == "down_resume":
                job_id += 1
                nodes = ["post-dy-r6i-4xl-31", "post-dy-r6i-4xl-32"]
                self.sc(t - 12, f"_slurm_rpc_submit_batch_job: JobId={job_id} InitPrio=4294901300 usec=611")
                self.sc(t - 11.9, f"sched: Allocate JobId={job_id} NodeList=post-dy-r6i-4xl-[31-32] #CPUs=32 "
                        "Partition=post")
                self.sc(t - 0.3, "POWER: power_save: waking nodes post-dy-r6i-4xl-[31-32]")
                e = self.resume_run(t, [(job_id, "post", nodes, nodes)], fail_heartbeat=True)
                for k, x in enumerate(nodes):
                    self.sc(t + 0.002 + k * 0.006, f"update_node: node {x} reason set to: Failure when resuming nodes")
                    self.sc(t + 0.003 + k * 0.006, f"update_node: node {x} state set to DOWN")
                    if k == 0:
                        self.sc(t + 0.005, f"requeue job JobId={job_id} due to failure of node {x}")
                self.expect("rs", e, condition="clustermgtd_down", group="cmd-down-1", reported_by="slurm_resume",
                            heartbeat_timeout=300)
                down_job = job_id
            elif kind == "up_resume":
                nodes = ["post-dy-r6i-4xl-31", "post-dy-r6i-4xl-32"]
                self.sc(t - 0.3, "POWER: power_save: waking nodes post-dy-r6i-4xl-[31-32]")
                self.resume_run(t, [(down_job, "post", nodes, nodes)])
                self.clearing = self.hb_entry
                for x in nodes:
                    self.state[x] = ["busy", t]
                    push(t + r.uniform(150, 280), "responding", x)
                push(t + 1800, "complete", (down_job, nodes))
        self.write()

    def write(self):
        lineno = {}
        for key, rel in S7_FILES.items():
            entries = sorted(self.entries[key], key=lambda e: (e[0], e[1]))
            path = os.path.join(self.out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            n = 0
            with open(path, "w") as f:
                for e in entries:
                    lineno[id(e)] = n + 1
                    n += e[2].count("\n") + 1
                    f.write(e[2] + "\n")
        exp = []
        for key, e, facts in self.expected:
            obj = {"condition": facts.pop("condition"), "file": S7_FILES[key], "line": lineno[id(e)],
                   "ts": datetime.fromtimestamp(e[0], timezone.utc).isoformat(timespec="milliseconds")}
            alt = facts.pop("alt", None)
            obj.update(facts)
            if alt:
                obj["alt"] = [{"file": S7_FILES[k], "line": lineno[id(a)]} for k, a in alt]
            exp.append(obj)
        exp.sort(key=lambda o: o["ts"])
        with open(os.path.join(self.out, "expected.jsonl"), "w") as f:
            for o in exp:
                f.write(json.dumps(o) + "\n")
        # What pcmon replay --json says about the recorded original, in this scenario's lines: the two
        # unhealthy nodes notify once each (the second check of the scheduled event is absorbed), the
        # heartbeat episode notifies once and resolves when a later run reads a fresh heartbeat.
        first = {}
        for o in exp:
            first.setdefault(o.get("group") or (o["file"], o["line"]), o)
        down = [o for o in exp if o["condition"] == "clustermgtd_down"]
        hc, se = [o for o in exp if o["condition"] == "unhealthy_node"][0], first["sched-batch-4"]
        ref = lambda o: f"{o['file']}:{o['line']}"
        clear = f"{S7_FILES['rs']}:{lineno[id(self.clearing)]}"
        alerts = [
            {"rule": "unhealthy_node", "state": "firing", "count": 1, "lines": [ref(hc)],
             "labels": {"queue": "batch", "compute_resource": "c6i-8xl", "health_check_type": "ec2_health_check",
                        "cluster": S7_CLUSTER}, "fields": {"node": hc["node"]}},
            {"rule": "clustermgtd_down", "state": "firing", "count": 1, "lines": [ref(down[0])],
             "labels": {"cluster": S7_CLUSTER}, "fields": {"heartbeat_timeout": "300"}},
            {"rule": "clustermgtd_down", "state": "resolved", "count": len(down),
             "lines": [ref(o) for o in down] + [clear],
             "labels": {"cluster": S7_CLUSTER}, "fields": {"heartbeat_timeout": "300"}},
            {"rule": "unhealthy_node", "state": "firing", "count": 1, "lines": [ref(se)],
             "labels": {"queue": "batch", "compute_resource": "c6i-8xl", "health_check_type": "scheduled_events_check",
                        "cluster": S7_CLUSTER}, "fields": {"node": se["node"], "event_code": "system-reboot"}},
        ]
        with open(os.path.join(self.out, "expected_alerts.jsonl"), "w") as f:
            for a in alerts:
                f.write(json.dumps(a) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["mix", "scenario07"])
    ap.add_argument("outdir")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--match-ratio", type=float, default=0.001)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.mode == "scenario07":
        Scenario07(a.outdir, a.seed).run()
    else:
        Mix(a.outdir, a.seed).run(a.lines, a.match_ratio)


if __name__ == "__main__":
    main()
