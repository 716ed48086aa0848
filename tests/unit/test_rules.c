/* The default rule table against one real line per ParallelCluster message format (the formats
 * are from aws-parallelcluster-node / -cookbook, as rendered in tests/fixtures), plus the engine's
 * own behaviour: first match wins, context, JSON rules, limits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "rules.h"
#include "util.h"

static pcmon_config *cfg;
static rules *r;

static void setup(void)
{
    config_errors errs = {0};
    cfg = config_load_default(&errs);
    ck_assert_ptr_nonnull(cfg);
    r = rules_compile(cfg, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%d:%d: %s\n", errs.v[i].line, errs.v[i].col, errs.v[i].msg);
    ck_assert_ptr_nonnull(r);
    config_errors_free(&errs);
}

static void teardown(void)
{
    rules_free(r);
    config_free(cfg);
}

static size_t source(const char *name)
{
    for (size_t i = 0; i < cfg->nsources; i++)
        if (str_eq(cfg->sources[i].name, name))
            return i;
    ck_abort_msg("no source %s", name);
    return 0;
}

typedef struct rule_case {
    const char *source;
    const char *line;
    const char *rule;          /* NULL: no match */
    enum match_what what;
    const char *fields[8];     /* "name=value" that must be present */
} rule_case;

static const rule_case cases[] = {
    { "slurm_resume", "2024-10-14 06:21:39,234 - 41283 - [slurm_plugin.fleet_manager:_launch_instances] - ERROR - JobID 8812 - Failed RunInstances request (f478e99e-9043-4eea-9197-cecd745a0a98): InsufficientInstanceCapacity - There is no Spot capacity available that matches your request.",
      "insufficient_capacity", MATCH_FIRE, { "code=InsufficientInstanceCapacity", "api=RunInstances", "job_id=8812", "pid=41283", "level=ERROR" } },
    { "slurm_resume", "2024-10-25 09:40:07,369 - 23540 - [slurm_plugin.fleet_manager:_launch_instances] - ERROR - Failed RunInstances request (f50380f7-bf2f-4bdf-9788-df83e1833133): InsufficientInstanceCapacity - We currently do not have sufficient p4d.24xlarge capacity in the Availability Zone you requested (us-west-2b). Our system will be working on provisioning additional capacity. You can currently get p4d.24xlarge capacity by not specifying an Availability Zone in your request or choosing us-west-2a, us-west-2c.",
      "insufficient_capacity", MATCH_FIRE, { "instance_type=p4d.24xlarge", "availability_zone=us-west-2b" } },
    { "slurm_resume", "2024-10-22 14:10:10,665 - 36238 - [slurm_plugin.fleet_manager:_launch_instances] - WARNING - JobID 23117 - Error in CreateFleet request (6bbfa7f5-f20a-4405-96a9-b2ba30b6d44f): VcpuLimitExceeded - You have requested more vCPU capacity than your current vCPU limit of 2048 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
      "vcpu_limit", MATCH_FIRE, { "code=VcpuLimitExceeded", "api=CreateFleet", "vcpu_limit=2048", "level=WARNING" } },
    { "slurm_resume", "2024-10-25 10:05:14,441 - 24976 - [slurm_plugin.fleet_manager:_launch_instances] - ERROR - JobID 5230 - Failed RunInstances request (ab4e2e58-5bce-4d5c-b10b-4eb8e2b84f97): MaxSpotInstanceCountExceeded - Max spot instance count exceeded",
      "spot_limit", MATCH_FIRE, { "code=MaxSpotInstanceCountExceeded" } },
    { "slurm_resume", "2024-10-25 10:31:47,419 - 26221 - [slurm_plugin.fleet_manager:_launch_instances] - ERROR - JobID 5262 - Failed RunInstances request (989b62a8-0568-4fd7-b5e5-31f1eb674cb3): InsufficientFreeAddressesInSubnet - There are not enough free addresses in subnet 'subnet-07c2d1e0f4a9b3c58' to satisfy the requested number of instances.",
      "launch_failure", MATCH_FIRE, { "code=InsufficientFreeAddressesInSubnet", "subnet=subnet-07c2d1e0f4a9b3c58" } },
    { "slurm_resume", "2025-03-19 11:15:36,336 - 31783 - [slurm_plugin.fleet_manager:_launch_instances] - ERROR - Failed CreateFleet request (0c1e-aa): UnauthorizedOperation - You are not authorized to perform this operation.",
      "launch_failure", MATCH_FIRE, { "code=UnauthorizedOperation", "api=CreateFleet" } },
    /* the alt lines of a launch failure must not alert on their own */
    { "slurm_resume", "2024-10-14 06:21:39,234 - 41283 - [slurm_plugin.instance_manager:_launch_instances] - ERROR - JobID 8812 - Encountered exception when launching instances for nodes (x32) ['gpu-dy-g5-12xl-1', 'gpu-dy-g5-12xl-2']: An error occurred (InsufficientInstanceCapacity) when calling the RunInstances operation: x",
      NULL, MATCH_NONE, { 0 } },
    { "slurm_resume", "2024-10-14 06:21:35,735 - 41283 - [slurm_plugin.instance_manager:_launch_instances] - INFO - JobID 8812 - Launching all-or-nothing instances for nodes (x32) ['gpu-dy-g5-12xl-1', 'gpu-dy-g5-12xl-2']",
      "ctx_launch_nodes", MATCH_CONTEXT, { "node_count=32", "pid=41283" } },
    { "clustermgtd", "2024-10-14 06:40:02,850 - [slurm_plugin.clustermgtd:_enter_protected_mode] - WARNING - Setting cluster into protected mode due to failures detected in node provisioning. Please investigate the issue and then use 'pcluster update-compute-fleet --status START_REQUESTED' command to re-enable the fleet.",
      "protected_mode", MATCH_FIRE, { 0 } },
    { "clustermgtd", "2024-10-14 06:41:02,850 - [slurm_plugin.clustermgtd:_handle_protected_mode_process] - WARNING - Cluster is in protected mode due to failures detected in node provisioning. Please investigate the issue and then use 'pcluster update-compute-fleet --status START_REQUESTED' command to re-enable the fleet.",
      "protected_mode", MATCH_FIRE, { 0 } },
    { "clustermgtd", "2024-10-14 06:40:02,851 - [slurm_plugin.clustermgtd:_update_compute_fleet_status] - INFO - Updating compute fleet status from RUNNING to PROTECTED",
      "protected_mode", MATCH_FIRE, { "status_to=PROTECTED" } },
    { "clusterstatusmgtd", "2024-10-14 07:53:56,640 - [clusterstatusmgtd:_update_compute_fleet_status] - INFO - Updating compute fleet status from STARTING to RUNNING",
      "protected_mode", MATCH_RESOLVE, { "status_from=STARTING", "status_to=RUNNING" } },
    { "clusterstatusmgtd", "2024-10-14 07:52:56,320 - [clusterstatusmgtd:_update_compute_fleet_status] - INFO - Updating compute fleet status from START_REQUESTED to STARTING",
      "protected_mode", MATCH_PENDING, { 0 } },
    { "clusterstatusmgtd", "2024-10-18 17:41:39,382 - [clusterstatusmgtd:_update_compute_fleet_status] - INFO - Updating compute fleet status from STOPPING to STOPPED",
      "fleet_stopped", MATCH_FIRE, { "status_from=STOPPING", "status_to=STOPPED" } },
    { "clusterstatusmgtd", "2024-10-18 17:40:39,382 - [clusterstatusmgtd:_update_compute_fleet_status] - INFO - Updating compute fleet status from STOP_REQUESTED to STOPPING",
      "fleet_stopped", MATCH_FIRE, { "status_to=STOPPING" } },
    { "clusterstatusmgtd", "2024-10-18 17:40:39,382 - [clusterstatusmgtd:_manage_compute_fleet_status_transitions] - INFO - Current compute fleet status: PROTECTED",
      NULL, MATCH_NONE, { 0 } },
    { "clustermgtd", "2024-10-14 06:26:02,577 - [slurm_plugin.clustermgtd:_handle_bootstrap_failure_nodes] - WARNING - Found the following bootstrap failure nodes: (x8) ['gpu-dy-g5-48xl-33(10.0.40.98)', 'gpu-dy-g5-48xl-34(10.0.44.249)']",
      "bootstrap_failure", MATCH_FIRE, { "node_count=8" } },
    { "compute_console", "2024-11-05 09:18:47,809 - Console output for node cpu-st-c6i4xl-1 (Instance Id i-007eba589970e2bd7):\r<13>Nov  5 09:13:24 user-data: Failed to download OnNodeConfigured script 1 s3://chem-hpc-bootstrap/v2/post_install.sh using aws s3, cause: An error occurred (404) when calling the HeadObject operation: Not Found.\r<13>Nov  5 09:13:29 user-data: Bootstrap failed",
      "bootstrap_failure", MATCH_FIRE, { "node=cpu-st-c6i4xl-1", "action=OnNodeConfigured", "url=s3://chem-hpc-bootstrap/v2/post_install.sh", "http_status=404", "verb=download" } },
    { "compute_console", "2024-11-05 09:18:47,809 - Console output for node q-dy-cr-3 (Instance Id i-0aa):\r<13>Nov  5 09:13:24 user-data: Failed to download OnNodeStart script 2 https://example.com/a.sh, HTTP status code 403.\r",
      "bootstrap_failure", MATCH_FIRE, { "action=OnNodeStart", "url=https://example.com/a.sh", "http_status=403" } },
    { "compute_console", "2024-11-05 09:18:47,809 - Console output for node q-dy-cr-3 (Instance Id i-0aa):\r<13>Nov  5 09:13:24 user-data: Failed to execute OnNodeConfigured script 1 s3://b/k.sh, return code: 2.\r",
      "bootstrap_failure", MATCH_FIRE, { "verb=execute", "return_code=2", "url=s3://b/k.sh" } },
    { "compute_console", "2024-11-05 09:18:47,809 - Console output for node q-dy-cr-3 (Instance Id i-0aa):\r<13>Nov  5 09:13:24 user-data: all fine\r",
      NULL, MATCH_NONE, { 0 } },
    { "bootstrap_error_msg", "fetch_and_run - Failed to execute OnNodeConfigured script 1, return code: 1. Please check /var/log/cfn-init.log in the head node",
      "bootstrap_failure", MATCH_FIRE, { "action=OnNodeConfigured" } },
    { "slurm_suspend", "2024-12-03 03:16:19,914 - [slurm_plugin.common:expired_clustermgtd_heartbeat] - ERROR - Clustermgtd has been offline since 2024-12-03 03:10:46.137235+00:00. Current time is 2024-12-03 03:16:19.909806+00:00. Timeout of 300 seconds has expired!",
      "clustermgtd_down", MATCH_FIRE, { "heartbeat=2024-12-03 03:10:46.137235+00:00", "heartbeat_timeout=300" } },
    { "slurm_resume", "2024-12-03 03:40:19,914 - 61900 - [slurm_plugin.common:is_clustermgtd_heartbeat_valid] - INFO - Latest heartbeat from clustermgtd: 2024-12-03 03:39:46.137235+00:00",
      "clustermgtd_down", MATCH_RESOLVE, { "heartbeat=2024-12-03 03:39:46.137235+00:00" } },
    { "clustermgtd", "2024-12-02 14:22:45,633 - [slurm_plugin.clustermgtd:_get_nodes_failing_health_check] - WARNING - Node batch-st-c6i-8xl-3(10.0.19.78) is associated with instance i-045a66de301f9171a that is failing ec2_health_check. EC2 health state: ['i-045a66de301f9171a', 'running', {'Details': [{'ImpairedSince': datetime.datetime(2024, 12, 2, 14, 18, 40, tzinfo=tzlocal()), 'Name': 'reachability', 'Status': 'failed'}], 'Status': 'impaired'}, {'Details': [{'Name': 'reachability', 'Status': 'passed'}], 'Status': 'ok'}, None]",
      "unhealthy_node", MATCH_FIRE, { "node=batch-st-c6i-8xl-3", "health_check_type=ec2_health_check", "instance_id=i-045a66de301f9171a", "impaired_since=2024, 12, 2, 14, 18, 40" } },
    { "clustermgtd", "2024-11-05 09:08:30,531 - [slurm_plugin.clustermgtd:_get_nodes_failing_health_check] - WARNING - Node cpu-st-c6i4xl-1(10.0.29.75) is associated with instance i-0628c5df2813c4f90 that is failing scheduled_events_check. EC2 health state: ['i-0628c5df2813c4f90', 'running', {'Status': 'ok'}, {'Status': 'ok'}, [{'Code': 'instance-retirement', 'Description': 'The instance is running on degraded hardware'}]]",
      "unhealthy_node", MATCH_FIRE, { "health_check_type=scheduled_events_check", "event_code=instance-retirement" } },
    { "cfn_init", "2024-07-29 14:07:13,212 [ERROR] Command chef (cinc-client --local-mode) failed",
      "cluster_update_failure", MATCH_FIRE, { 0 } },
    { "clustermgtd_events", "{\"datetime\": \"2024-10-14T06:26:02.578+00:00\", \"version\": 0, \"scheduler\": \"slurm\", \"cluster-name\": \"genomics-prod\", \"node-role\": \"HeadNode\", \"component\": \"clustermgtd\", \"level\": \"INFO\", \"instance-id\": \"i-04b1\", \"event-type\": \"compute-node-idle-time\", \"message\": \"Longest idle time\", \"detail\": {\"node-type\": \"dynamic\", \"longest-idle-time\": 12.5, \"count\": 3}}",
      "idle_time_event", MATCH_IGNORE, { "cluster=genomics-prod" } },
    /* benign lines that repeat all day */
    { "clustermgtd", "2024-10-14 06:26:02,577 - [slurm_plugin.clustermgtd:_maintain_nodes] - INFO - The following compute resources are in down state due to insufficient capacity: {'gpu': {'g5-12xl': ComputeResourceFailureEvent(timestamp=datetime.datetime(2024, 10, 14, 6, 21, 56, 621736, tzinfo=datetime.timezone.utc), error_code='InsufficientInstanceCapacity')}}, compute resources will be reset after insufficient capacity timeout (600.0 seconds) expired",
      NULL, MATCH_NONE, { 0 } },
    { "slurm_resume", "2024-10-22 14:10:09,027 - 36238 - [slurm_plugin.fleet_manager:_evaluate_launch_params] - WARNING - JobID 23117 - All-or-Nothing is only available with single instance type compute resources or single subnet queues",
      NULL, MATCH_NONE, { 0 } },
    { "clustermgtd", "2024-10-19 07:17:02,000 - [slurm_plugin.slurm_resources:is_healthy] - WARNING - Node state check: static node without nodeaddr set, node: sh-st-c5-1(sh-st-c5-1), node state: IDLE+CLOUD",
      NULL, MATCH_NONE, { 0 } },
};

START_TEST(default_rules_on_real_lines)
{
    const rule_case *tc = &cases[_i];
    match m = {0}, clears[4] = {{0}};
    enum match_what w = rules_eval(r, source(tc->source), tc->line, strlen(tc->line), 0, &m);
    size_t nclears = rules_eval_clears(r, source(tc->source), tc->line, strlen(tc->line), clears, 4);
    if (tc->what == MATCH_RESOLVE || tc->what == MATCH_PENDING) {
        /* the clearing side: the first state rule this line clears */
        ck_assert_msg(nclears > 0, "case %d: clears nothing", _i);
        fields_free(&m.fields);
        m = clears[0];
        clears[0] = (match){0};
        w = m.what;
    } else
        ck_assert_msg(nclears == 0, "case %d: unexpectedly clears %s", _i, cfg->rules[clears[0].rule].id);
    for (size_t k = 0; k < 4; k++)
        fields_free(&clears[k].fields);
    ck_assert_msg(w == tc->what, "case %d: what %d, want %d", _i, w, tc->what);
    if (tc->rule)
        ck_assert_str_eq(cfg->rules[m.rule].id, tc->rule);
    for (size_t k = 0; k < ELEMENTSOF(tc->fields) && tc->fields[k]; k++) {
        const char *eq = strchr(tc->fields[k], '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - tc->fields[k]), tc->fields[k]);
        const char *got = fields_get(&m.fields, name);
        ck_assert_msg(got && str_eq(got, eq + 1), "case %d: %s is %s, want %s", _i, name, got ? got : "(none)", eq + 1);
    }
    fields_free(&m.fields);
}
END_TEST

/* One line can clear several states: a fleet start ends both protected mode and a stop. */
START_TEST(one_line_clears_several_states)
{
    static const char running[] = "2024-10-19 07:16:32,222 - [clusterstatusmgtd:_update_compute_fleet_status] - INFO - Updating compute fleet status from STARTING to RUNNING";
    match out[4] = {{0}};
    size_t n = rules_eval_clears(r, source("clusterstatusmgtd"), running, strlen(running), out, 4);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(cfg->rules[out[0].rule].id, "protected_mode");
    ck_assert_str_eq(cfg->rules[out[1].rule].id, "fleet_stopped");
    ck_assert_int_eq(out[1].what, MATCH_RESOLVE);
    ck_assert_str_eq(fields_get(&out[1].fields, "status_to"), "RUNNING");
    for (size_t i = 0; i < 4; i++)
        fields_free(&out[i].fields);
}
END_TEST

/* The EC2 error line names no nodes: the launch line before it, of the same process, does. */
START_TEST(context_by_pid)
{
    static const char launch[] = "2024-10-14 06:21:35,735 - 41283 - [x:y] - INFO - JobID 8812 - Launching all-or-nothing instances for nodes (x2) ['gpu-dy-g5-12xl-1', 'gpu-dy-g5-12xl-2']";
    static const char other[] = "2024-10-14 06:21:36,735 - 50000 - [x:y] - INFO - Launching best-effort instances for nodes (x1) ['cpu-dy-c5-1']";
    static const char ice[] = "2024-10-14 06:21:39,234 - 41283 - [x:y] - ERROR - JobID 8812 - Failed RunInstances request (f4): InsufficientInstanceCapacity - There is no Spot capacity available that matches your request.";
    static const char ice_other[] = "2024-10-14 06:21:39,234 - 777 - [x:y] - ERROR - Failed RunInstances request (f4): InsufficientInstanceCapacity - none";
    uint64_t t = UINT64_C(1728886895) * 1000000;
    size_t src = source("slurm_resume");
    match m = {0};
    rules_eval(r, src, launch, strlen(launch), t, &m);
    rules_eval(r, src, other, strlen(other), t, &m);
    ck_assert_int_eq(rules_eval(r, src, ice, strlen(ice), t + 4000000, &m), MATCH_FIRE);
    ck_assert_str_eq(fields_get(&m.fields, "nodes"), "['gpu-dy-g5-12xl-1', 'gpu-dy-g5-12xl-2']");
    ck_assert_str_eq(fields_get(&m.fields, "node_count"), "2");
    rules_eval(r, src, ice_other, strlen(ice_other), t + 4000000, &m);
    ck_assert_ptr_null(fields_get(&m.fields, "nodes"));   /* another process: no context */
    /* past the context's ttl the facts are stale */
    rules_eval(r, src, ice, strlen(ice), t + 3600 * UINT64_C(1000000), &m);
    ck_assert_ptr_null(fields_get(&m.fields, "nodes"));
    fields_free(&m.fields);
}
END_TEST

START_TEST(hostile_lines)
{
    /* NUL bytes, invalid UTF-8, huge and pathological lines: no crash, bounded, still a verdict */
    size_t n = 1 << 20;
    char *big = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i % 251);
    match m = {0};
    for (size_t s = 0; s < cfg->nsources; s++)
        rules_eval(r, s, big, n, 0, &m);
    memset(big, 'a', n);
    memcpy(big, " - WARNING - Node ", 18);
    rules_eval(r, source("clustermgtd"), big, n, 0, &m);
    const char junk_json[] = "{\"datetime\": \"x\", \"event-type\": \"compute-node-idle-time\", \"detail\": {";
    ck_assert_int_eq(rules_eval(r, source("clustermgtd_events"), junk_json, sizeof junk_json - 1, 0, &m), MATCH_NONE);
    ck_assert_uint_ge(rules_get_stats(r)->json_errors, 1);
    free(big);
    fields_free(&m.fields);
}
END_TEST

static const char PATHOLOGICAL[] =
    "state_dir: /tmp\n"
    "sources: [{name: a, path: /a}]\n"
    "rules:\n"
    "  - id: evil\n"
    "    match: '^(a+)+$'\n";

/* fail2ban #4084: a catastrophic regex on a crafted line is cut off by the match limit. */
START_TEST(match_limit_bounds_backtracking)
{
    config_errors errs = {0};
    pcmon_config *c = config_load_buffer("evil.yaml", PATHOLOGICAL, sizeof PATHOLOGICAL - 1, &errs);
    ck_assert_ptr_nonnull(c);
    for (unsigned flags = 0; flags <= RULES_NO_JIT; flags += RULES_NO_JIT) {
        rules *e = rules_compile_flags(c, flags, &errs);
        ck_assert_ptr_nonnull(e);
        char line[64];
        memset(line, 'a', sizeof line - 2);
        line[sizeof line - 2] = '!';
        match m = {0};
        ck_assert_int_eq(rules_eval(e, 0, line, sizeof line - 1, 0, &m), MATCH_NONE);
        ck_assert_uint_eq(rules_get_stats(e)->match_errors, 1);
        ck_assert_int_eq(rules_eval(e, 0, "aaa", 3, 0, &m), MATCH_FIRE);   /* same matches either way */
        fields_free(&m.fields);
        rules_free(e);
    }
    config_free(c);
    config_errors_free(&errs);
}
END_TEST

static const char BAD_REGEX[] =
    "state_dir: /tmp\n"
    "sources: [{name: a, path: /a}]\n"
    "rules:\n"
    "  - id: broken\n"
    "    match: 'abc(def'\n"
    "    grop_by: [queue]\n";

/* A bad regex is reported at its own position, in the same run as the file's other errors. */
START_TEST(bad_regex_reports_offset)
{
    config_errors errs = {0};
    pcmon_config *c = config_load_buffer("bad.yaml", BAD_REGEX, sizeof BAD_REGEX - 1, &errs);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_int_eq(errs.v[0].line, 5);
    ck_assert_int_eq(errs.v[0].col, 12);
    ck_assert_msg(strstr(errs.v[0].msg, "match: bad regular expression at offset 7"), "%s", errs.v[0].msg);
    ck_assert_int_eq(errs.v[1].line, 6);
    ck_assert_msg(strstr(errs.v[1].msg, "grop_by"), "%s", errs.v[1].msg);
    config_errors_free(&errs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, default_rules_on_real_lines, 0, ELEMENTSOF(cases));
    tcase_add_test(tc, context_by_pid);
    tcase_add_test(tc, one_line_clears_several_states);
    tcase_add_test(tc, hostile_lines);
    tcase_add_test(tc, match_limit_bounds_backtracking);
    tcase_add_test(tc, bad_regex_reports_offset);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
