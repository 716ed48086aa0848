/* The config loader: every error class at its line:col, parsed values and defaults, hostile YAML,
 * and the embedded default config. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "util.h"

#define SRC_A "sources: [{name: a, path: /a}]\n"

/* A config that must not load: each expected string ("LINE:COL: text") must be a substring of the
 * error at the same index ("LINE:COL: message", errors sorted by position), and no other error may
 * appear. len 0 means strlen(yaml). */
typedef struct bad_case {
    const char *name;
    const char *yaml;
    size_t len;
    const char *expect[6];
} bad_case;

static const bad_case bad_cases[] = {
    /* --- unknown keys and suggestions --- */
    { "unknown top key", "stat_dir: /x\n", 0, { "1:1: unknown key \"stat_dir\" (did you mean \"state_dir\"?)" } },
    { "unknown key no suggestion", "colour: red\n", 0, { "1:1: unknown key \"colour\"" } },
    { "unknown rule key", SRC_A "rules:\n  - id: r\n    match: x\n    grop_by: [q]\n", 0,
      { "5:5: rules[0]: unknown key \"grop_by\" (did you mean \"group_by\"?)" } },
    { "unknown grouping key", "grouping:\n  group_wiat: 1s\n", 0,
      { "2:3: grouping: unknown key \"group_wiat\" (did you mean \"group_wait\"?)" } },
    { "unknown notifier key", "notifiers:\n  - {name: n, type: stdout, tiemout: 1s}\n", 0,
      { "2:29: notifiers[0]: unknown key \"tiemout\" (did you mean \"timeout\"?)" } },
    { "duplicate key", "state_dir: /a\nstate_dir: /b\n", 0, { "2:1: state_dir: duplicate key (first at line 1)" } },
    /* --- wrong types --- */
    { "list for scalar", "state_dir: [/a]\n", 0, { "1:12: state_dir: expected an absolute path, got a list" } },
    { "mapping for string", "cluster: {a: b}\n", 0, { "1:10: cluster: expected a string, got a mapping" } },
    { "scalar for list", "sources: clustermgtd\n", 0, { "1:10: sources: expected a list, got a string" } },
    { "scalar for section", "grouping: 5\n", 0, { "1:11: grouping: expected a mapping, got a string" } },
    { "list item not mapping", "sources:\n  - a\n", 0, { "2:5: sources[0]: expected a mapping, got a string" } },
    { "mapping for strlist", SRC_A "rules:\n  - id: r\n    match: {a: b}\n", 0,
      { "4:12: rules[0].match: expected a string or a list of strings, got a mapping" } },
    { "list in strlist", SRC_A "rules:\n  - id: r\n    match: [x, [y]]\n", 0,
      { "4:16: rules[0].match[1]: expected a string, got a list" } },
    { "top level list", "- a\n- b\n", 0, { "1:1: top level: expected a mapping, got a list" } },
    { "top level scalar", "hello\n", 0, { "1:1: top level: expected a mapping, got a string" } },
    { "bad bool", SRC_A "rules:\n  - id: r\n    match: x\n    ignore: maybe\n", 0,
      { "5:13: rules[0].ignore: expected true or false, got \"maybe\"" } },
    /* --- numbers and durations --- */
    { "max_lines 0", "grouping:\n  max_lines: 0\n", 0,
      { "2:14: grouping.max_lines: \"0\" is out of range 1..100000" } },
    { "max_groups big", "grouping:\n  max_groups: 1000001\n", 0,
      { "2:15: grouping.max_groups: \"1000001\" is out of" } },
    { "storm big", "grouping:\n  storm_per_minute: 10001\n", 0,
      { "2:21: grouping.storm_per_minute: \"10001\" is out" } },
    { "number junk", "grouping:\n  max_lines: 12abc\n", 0,
      { "2:14: grouping.max_lines: expected a whole number, got \"12abc\"" } },
    { "negative", "grouping:\n  max_lines: -1\n", 0, { "2:14: grouping.max_lines: expected a whole number" } },
    { "huge number", "grouping:\n  max_lines: 99999999999999999999999\n", 0, { "2:14: grouping.max_lines: \"9999" } },
    { "max_line small", "tailer:\n  max_line: 1023\n", 0,
      { "2:13: tailer.max_line: \"1023\" is out of range 1024..16777216" } },
    { "max_line big", "tailer:\n  max_line: 17MiB\n", 0, { "2:13: tailer.max_line: \"17MiB\" is out of range" } },
    { "max_line unit", "tailer:\n  max_line: 64kb\n", 0,
      { "2:13: tailer.max_line: expected a size in bytes (65536, 64KiB, 1MiB), got \"64kb\"" } },
    { "bad duration", "tailer:\n  partial_flush: 5x\n", 0,
      { "2:18: tailer.partial_flush: expected a duration like 250ms, 10s, 15m, 4h or 1d, got \"5x\"" } },
    { "duration with space", "grouping:\n  group_wait: 10 m\n", 0,
      { "2:15: grouping.group_wait: expected a duration" } },
    { "empty duration", "grouping:\n  group_wait: \"\"\n", 0, { "2:15: grouping.group_wait: expected a duration" } },
    { "zero interval", "grouping:\n  repeat_interval: 0s\n", 0,
      { "2:20: grouping.repeat_interval: must be greater than 0, got \"0s\"" } },
    { "zero partial_flush", "tailer: {partial_flush: 0}\n", 0,
      { "1:25: tailer.partial_flush: must be greater than 0" } },
    { "rule duration", SRC_A "rules:\n  - id: r\n    match: x\n    group_wait: soon\n", 0,
      { "5:17: rules[0].group_wait: expected a duration" } },
    /* --- enums --- */
    { "severity", SRC_A "rules:\n  - id: r\n    match: x\n    severity: urgent\n", 0,
      { "5:15: rules[0].severity: expected one of critical, warning, info, got \"urgent\"" } },
    { "kind", SRC_A "rules:\n  - id: r\n    kind: sometimes\n    match: x\n", 0,
      { "4:11: rules[0].kind: expected one of event, state, flatline, context, got \"sometimes\"" } },
    { "format", "sources:\n  - {name: a, path: /a, format: xml}\n", 0,
      { "2:33: sources[0].format: expected one of text, json, got \"xml\"" } },
    { "start_at", "sources:\n  - {name: a, path: /a, start_at: middle}\n", 0,
      { "2:35: sources[0].start_at: expected one of end, beginning, got \"middle\"" } },
    { "notifier type", "notifiers:\n  - name: n\n    type: pager\n", 0,
      { "3:11: notifiers[0].type: expected one of file, stdout, slack, smtp, alertmanager, sns, got \"pager\"" } },
    /* --- names and duplicates --- */
    { "dup source", "sources:\n  - {name: a, path: /a}\n  - {name: a, path: /b}\n", 0,
      { "3:12: sources[1].name: duplicate source name \"a\" (first at line 2)" } },
    { "dup source path", "sources:\n  - {name: a, path: /a}\n  - {name: b, path: /a}\n", 0,
      { "3:21: sources[1].path: \"/a\" is already followed by sources[0] (line 2)" } },
    { "dup rule id", SRC_A "rules:\n  - {id: r, match: x}\n  - {id: r, match: y}\n", 0,
      { "4:10: rules[1].id: duplicate rule id \"r\" (first at line 3)" } },
    { "dup notifier", "notifiers:\n  - {name: n, type: stdout}\n  - {name: n, type: stdout}\n", 0,
      { "3:12: notifiers[1].name: duplicate notifier name \"n\" (first at line 2)" } },
    { "bad source name", "sources:\n  - {name: Clustermgtd, path: /a}\n", 0,
      { "2:12: sources[0].name: invalid name \"Clustermgtd\" (use lower-case letters, digits, _, . and -)" } },
    { "bad rule id", SRC_A "rules:\n  - {id: my-rule, match: x}\n", 0,
      { "3:10: rules[0].id: invalid name \"my-rule\" (use lower-case letters, digits and _)" } },
    { "bad group_by field", SRC_A "rules:\n  - {id: r, match: x, group_by: [queue, 1st]}\n", 0,
      { "3:41: rules[0].group_by[1]: invalid field name \"1st\"" } },
    { "bad set field", SRC_A "rules:\n  - {id: r, match: x, set: {a b: c}}\n", 0,
      { "3:29: rules[0].set: invalid field name \"a b\"" } },
    /* --- required keys --- */
    { "source without path", "sources:\n  - name: a\n", 0, { "2:5: sources[0]: missing required key \"path\"" } },
    { "source without name", "sources:\n  - path: /a\n", 0, { "2:5: sources[0]: missing required key \"name\"" } },
    { "rule without id", SRC_A "rules:\n  - match: x\n", 0, { "3:5: rules[0]: missing required key \"id\"" } },
    { "notifier without type", "notifiers:\n  - name: n\n", 0, { "2:5: notifiers[0]: missing required key \"type\"" } },
    { "empty required", "sources:\n  - name:\n    path: /a\n", 0, { "2:10: sources[0].name: must not be empty" } },
    { "rule needs match", SRC_A "rules:\n  - id: r\n    severity: info\n", 0,
      { "3:5: rules[0]: needs \"match\" or \"json\"" } },
    { "flatline needs silence", SRC_A "rules:\n  - id: r\n    kind: flatline\n", 0,
      { "3:5: rules[0]: kind flatline needs \"silence\"" } },
    { "resolve_changed alone", SRC_A "rules:\n  - {id: r, kind: state, match: x, resolve_changed: hb}\n", 0,
      { "3:53: rules[0].resolve_changed: needs \"resolve\"" } },
    /* --- references --- */
    { "undefined source", SRC_A "rules:\n  - {id: r, match: x, sources: [a, b]}\n", 0,
      { "3:36: rules[0].sources: undefined source \"b\"" } },
    { "undefined source scalar", SRC_A "rules:\n  - {id: r, match: x, sources: zz}\n", 0,
      { "3:32: rules[0].sources: undefined source \"zz\"" } },
    { "undefined notifier", SRC_A "rules:\n  - {id: r, match: x, notify: slack}\n", 0,
      { "3:31: rules[0].notify: undefined notifier \"slack\"" } },
    { "undefined for", SRC_A "rules:\n  - {id: r, match: x}\n  - {id: c, kind: context, match: y, for: [r, q]}\n", 0,
      { "4:47: rules[1].for: undefined rule \"q\"" } },
    { "empty list", SRC_A "rules:\n  - {id: r, match: x, notify: []}\n", 0,
      { "3:31: rules[0].notify: empty list (leave the key out to mean all)" } },
    /* --- keys on the wrong kind --- */
    { "resolve on event", SRC_A "rules:\n  - id: r\n    match: x\n    resolve: y\n", 0,
      { "5:5: rules[0].resolve: only for kind state, not kind event" } },
    { "silence on state", SRC_A "rules:\n  - {id: r, kind: state, match: x, silence: 5m}\n", 0,
      { "3:36: rules[0].silence: only for kind flatline, not kind state" } },
    { "key on event", SRC_A "rules:\n  - {id: r, match: x, key: pid}\n", 0,
      { "3:23: rules[0].key: only for kind context, not kind event" } },
    { "title on context", SRC_A "rules:\n  - {id: r, kind: context, match: x, title: t}\n", 0,
      { "3:38: rules[0].title: only for kind event, state or flatline, not kind context" } },
    { "ignore with severity", SRC_A "rules:\n  - {id: r, ignore: true, match: x, severity: info}\n", 0,
      { "3:37: rules[0].severity: has no effect on an ignore rule" } },
    { "ignore on state", SRC_A "rules:\n  - {id: r, kind: state, ignore: true, match: x}\n", 0,
      { "3:34: rules[0].ignore: only event rules can be ignore rules, this one is kind state" } },
    { "path on slack", "notifiers:\n  - {name: s, type: slack, url: https://h/x, path: /x}\n", 0,
      { "2:46: notifiers[0].path: only for type file, not type slack" } },
    /* --- relative paths --- */
    { "relative source path", "sources:\n  - {name: a, path: var/log/x}\n", 0,
      { "2:21: sources[0].path: expected an absolute path (starting with /), got \"var/log/x\"" } },
    { "relative state_dir", "state_dir: state\n", 0, { "1:12: state_dir: expected an absolute path" } },
    { "relative url_file", "notifiers:\n  - {name: s, type: slack, url_file: slack.url}\n", 0,
      { "2:38: notifiers[0].url_file: expected an absolute path" } },
    /* --- notifier types --- */
    { "file needs path", "notifiers:\n  - {name: f, type: file}\n", 0,
      { "2:5: notifiers[0]: type file needs \"path\"" } },
    { "slack needs url", "notifiers:\n  - {name: s, type: slack}\n", 0,
      { "2:5: notifiers[0]: type slack needs \"url\"" } },
    { "slack both", "notifiers:\n  - {name: s, type: slack, url: https://h/x, url_file: /u}\n", 0,
      { "2:56: notifiers[0]: give \"url\" or \"url_file\", not both" } },
    { "smtp needs", "notifiers:\n  - {name: m, type: smtp, url: http://mail}\n", 0,
      { "2:5: notifiers[0]: type smtp needs \"from\"", "2:5: notifiers[0]: type smtp needs \"to\"",
        "2:32: notifiers[0].url: expected an smtp:// or smtps:// URL, got \"http://mail\"" } },
    { "alertmanager needs url", "notifiers:\n  - {name: a, type: alertmanager}\n", 0,
      { "2:5: notifiers[0]: type alertmanager needs \"url\"" } },
    { "alertmanager bad urls", "notifiers:\n  - {name: a, type: alertmanager, urls: [http://a:9093, am2]}\n", 0,
      { "2:57: notifiers[0].urls[1]: expected an http:// or https:// URL, got \"am2\"" } },
    { "alertmanager empty urls", "notifiers:\n  - {name: a, type: alertmanager, urls: []}\n", 0,
      { "2:41: notifiers[0].urls: empty list" } },
    { "sns arn", "notifiers:\n  - {name: s, type: sns, topic_arn: topic}\n", 0,
      { "2:37: notifiers[0].topic_arn: expected an SNS topic ARN" } },
    { "sns needs arn", "notifiers:\n  - {name: s, type: sns, region: us-east-1}\n", 0,
      { "2:5: notifiers[0]: type sns needs \"topic_arn\"" } },
    /* --- JSON rules --- */
    { "json empty list", "sources: [{name: e, path: /e, format: json}]\nrules:\n  - {id: r, json: {level: []}}\n", 0,
      { "3:27: rules[0].json.level: expected a value or a non-empty list of values, got an empty list" } },
    { "json mapping value", "sources: [{name: e, path: /e, format: json}]\nrules:\n  - {id: r, json: {a: {b: c}}}\n", 0,
      { "3:23: rules[0].json.a: expected a value or a non-empty list of values, got a mapping" } },
    { "json on text source", SRC_A "rules:\n  - {id: r, json: {level: ERROR}}\n", 0,
      { "3:19: rules[0].json: JSON conditions need a source with format json" } },
    { "json fields not mapping",
      "sources: [{name: e, path: /e, format: json}]\nrules:\n  - {id: r, json: {a: b}, fields: x}\n",
      0, { "3:35: rules[0].fields: expected a mapping, got a string" } },
    /* --- several errors in one run --- */
    { "several", "state_dir: rel\nsources:\n  - {name: a, path: /a}\nrules:\n  - {id: r, match: x, severity: bad}\n"
                 "grouping:\n  max_lines: 0\n", 0,
      { "1:12: state_dir: expected an absolute path", "5:33: rules[0].severity: expected one of",
        "7:14: grouping.max_lines: \"0\" is out of range" } },
    /* --- hostile YAML --- */
    { "empty", "", 0, { "1:1: empty configuration" } },
    { "only comments", "# nothing\n\n", 0, { "1:1: empty configuration" } },
    { "document marker only", "---\n", 0, { "empty configuration" } },
    { "tab indent", "grouping:\n\tmax_lines: 5\n", 0,
      { "2:1: syntax error: a tab character; YAML indents with spaces only" } },
    { "unclosed quote", "cluster: \"demo\nregion: x\n", 0,
      { "3:1: syntax error: found unexpected end of stream while scanning a quoted scalar (line 1 column 10)" } },
    { "unclosed flow", "rules: [a, b\n", 0, { "2:1: syntax error: did not find expected ',' or ']'" } },
    { "NUL byte", "cluster: a\0b\n", 12, { "1:11: invalid input: control characters are not allowed (byte 0x00)" } },
    { "NUL escape", "cluster: \"a\\0b\"\n", 0, { "1:10: NUL character in a value" } },
    { "binary junk", "cluster: \xff\xfe\x01junk\n", 0,
      { "1:10: invalid input: invalid leading UTF-8 octet (byte 0xff)" } },
    { "anchor", "cluster: &c demo\nregion: *c\n", 0,
      { "1:10: YAML anchors and aliases (&name, *name) are not allowed" } },
    { "alias only", "a: [1]\nb: *x\n", 0, { "2:4: YAML anchors and aliases" } },
    { "merge key", "grouping: &g {max_lines: 5}\n", 0, { "1:11: YAML anchors and aliases" } },
    { "two documents", "cluster: a\n---\ncluster: b\n", 0, { "2:1: more than one YAML document" } },
    { "non-scalar key", "? [a]\n: b\n", 0, { "1:3: top level: expected a string as key, got a list" } },
};

static char *fmt_error(const config_error *e)
{
    return xasprintf("%d:%d: %s", e->line, e->col, e->msg);
}

static void dump_errors(const config_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "  %s:%d:%d: %s\n", e->v[i].file, e->v[i].line, e->v[i].col, e->v[i].msg);
}

START_TEST(test_bad_configs)
{
    const bad_case *t = &bad_cases[_i];
    config_errors e = { 0 };
    size_t len = t->len ? t->len : strlen(t->yaml), nexp = 0;
    pcmon_config *c = config_load_buffer("t.yaml", t->yaml, len, &e);
    while (nexp < ELEMENTSOF(t->expect) && t->expect[nexp])
        nexp++;
    if (e.n != nexp)
        dump_errors(&e);
    ck_assert_msg(c == NULL, "%s: loaded", t->name);
    ck_assert_msg(e.n == nexp, "%s: %zu errors, expected %zu", t->name, e.n, nexp);
    for (size_t i = 0; i < nexp; i++) {
        _cleanup_free_ char *got = fmt_error(&e.v[i]);
        ck_assert_str_eq(e.v[i].file, "t.yaml");
        ck_assert_msg(strstr(got, t->expect[i]), "%s: error %zu is \"%s\", expected \"%s\"", t->name, i, got,
                      t->expect[i]);
    }
    config_errors_free(&e);
}
END_TEST

static pcmon_config *load_ok(const char *yaml)
{
    config_errors e = { 0 };
    pcmon_config *c = config_load_buffer("ok.yaml", yaml, strlen(yaml), &e);
    if (!c)
        dump_errors(&e);
    ck_assert_msg(c != NULL, "config did not load");
    ck_assert_uint_eq(e.n, 0);
    config_errors_free(&e);
    return c;
}

START_TEST(test_defaults)
{
    pcmon_config *c = load_ok("cluster:\nnotifiers:\n");
    ck_assert_str_eq(c->file, "ok.yaml");
    ck_assert_str_eq(c->state_dir, "/var/lib/pcmon");
    ck_assert_str_eq(c->cluster, "");
    ck_assert_str_eq(c->region, "");
    ck_assert_uint_eq(c->max_line, 65536);
    ck_assert_uint_eq(c->partial_flush, 5 * USEC_PER_SEC);
    ck_assert_uint_eq(c->grouping.group_wait_event, 10 * USEC_PER_SEC);
    ck_assert_uint_eq(c->grouping.group_wait_state, 0);
    ck_assert_uint_eq(c->grouping.group_interval, 15 * 60 * USEC_PER_SEC);
    ck_assert_uint_eq(c->grouping.repeat_interval, 4 * 3600 * USEC_PER_SEC);
    ck_assert_uint_eq(c->grouping.max_lines, 1000);
    ck_assert_uint_eq(c->grouping.max_groups, 1000);
    ck_assert_uint_eq(c->grouping.storm_per_minute, 30);
    ck_assert_uint_eq(c->grouping.pending_timeout, 10 * 60 * USEC_PER_SEC);
    ck_assert_uint_eq(c->nsources + c->nrules + c->nnotifiers, 0);
    ck_assert_ptr_null(config_free(c));
    ck_assert_ptr_null(config_free(NULL));
}
END_TEST

static const char full_yaml[] =
    "rules:\n"
    "  - id: st\n"
    "    kind: state\n"
    "    sources: clustermgtd\n"
    "    match: ['a (?<x>\\d+)', b]\n"
    "    resolve: c\n"
    "    resolve_changed: x\n"
    "    pending: d\n"
    "    severity: critical\n"
    "    group_by: [queue, compute_resource]\n"
    "    group_wait: 250ms\n"
    "    title: 'T {x}'\n"
    "    text: |-\n"
    "      line one\n"
    "      line two\n"
    "    notify: audit\n"
    "  - id: ev\n"
    "    sources: [events]\n"
    "    json: {event-type: x, detail.failure-type: [a, b], level: 40}\n"
    "    fields: {node: detail.node.name}\n"
    "    set: {code: X, reason: \"y z\"}\n"
    "    group_interval: 1h\n"
    "    repeat_interval: 1d\n"
    "    notify: [audit, am]\n"
    "  - id: quiet\n"
    "    kind: flatline\n"
    "    silence: 10m\n"
    "  - id: ctx\n"
    "    kind: context\n"
    "    match: 'pid (?<pid>\\d+)'\n"
    "    key: pid\n"
    "    for: st\n"
    "  - id: noise\n"
    "    ignore: yes\n"
    "    match: idle\n"
    "    pending_timeout:\n"
    "sources:\n"
    "  - name: clustermgtd\n"
    "    path: /var/log/parallelcluster/clustermgtd\n"
    "  - name: events\n"
    "    path: /var/log/parallelcluster/clustermgtd.events\n"
    "    format: json\n"
    "    start_at: beginning\n"
    "grouping:\n"
    "  pending_timeout: 7m\n"
    "  group_wait: 30s\n"
    "tailer:\n"
    "  max_line: 1MiB\n"
    "  partial_flush: 250ms\n"
    "state_dir: /tmp/pcmon-state\n"
    "cluster: demo\n"
    "region: 'us-east-1'\n"
    "notifiers:\n"
    "  - {name: audit, type: file, path: /var/log/pcmon/alerts.jsonl}\n"
    "  - name: am\n"
    "    type: alertmanager\n"
    "    url: http://127.0.0.1:9093\n"
    "    urls: [http://127.0.0.1:9094]\n"
    "    timeout: 3s\n"
    "  - {name: chat, type: slack, url_file: /etc/pcmon/slack.url, insecure_skip_verify: true, ca_file: /ca.pem}\n"
    "  - name: mail\n"
    "    type: smtp\n"
    "    url: smtps://smtp.example.com:465\n"
    "    from: pcmon@example.com\n"
    "    to: admin@example.com\n"
    "    username: pcmon\n"
    "    password_file: /etc/pcmon/smtp.pass\n"
    "  - {name: topic, type: sns, topic_arn: 'arn:aws:sns:us-east-1:123:t', endpoint: 'http://127.0.0.1:1'}\n"
    "  - {name: out, type: stdout}\n";

START_TEST(test_full)
{
    pcmon_config *c = load_ok(full_yaml);
    ck_assert_str_eq(c->state_dir, "/tmp/pcmon-state");
    ck_assert_str_eq(c->cluster, "demo");
    ck_assert_str_eq(c->region, "us-east-1");
    ck_assert_uint_eq(c->max_line, 1 << 20);
    ck_assert_uint_eq(c->partial_flush, 250 * USEC_PER_MSEC);
    ck_assert_uint_eq(c->grouping.group_wait_event, 30 * USEC_PER_SEC);
    ck_assert_uint_eq(c->grouping.repeat_interval, 4 * 3600 * USEC_PER_SEC);

    ck_assert_uint_eq(c->nsources, 2);
    ck_assert(c->sources[0].format == SOURCE_TEXT && !c->sources[0].start_at_beginning);
    ck_assert(c->sources[1].format == SOURCE_JSON && c->sources[1].start_at_beginning);
    ck_assert_int_eq(c->sources[1].line, 40);
    ck_assert_int_eq(c->sources[1].col, 5);
    ck_assert_ptr_eq(config_source(c, "events"), &c->sources[1]);
    ck_assert_ptr_null(config_source(c, "nope"));

    ck_assert_uint_eq(c->nrules, 5);
    const rule_cfg *st = &c->rules[0];
    ck_assert(st->kind == RULE_STATE && !st->ignore);
    ck_assert_int_eq(st->line, 2);
    ck_assert_uint_eq(st->nsources, 1);
    ck_assert_str_eq(st->sources[0], "clustermgtd");
    ck_assert_uint_eq(st->nmatch, 2);
    ck_assert_str_eq(st->match[0], "a (?<x>\\d+)");
    ck_assert_str_eq(st->resolve, "c");
    ck_assert_str_eq(st->resolve_changed, "x");
    ck_assert_str_eq(st->pending, "d");
    ck_assert_uint_eq(st->pending_timeout, 7 * 60 * USEC_PER_SEC);   /* from grouping, given later */
    ck_assert_str_eq(st->severity, "critical");
    ck_assert_uint_eq(st->ngroup_by, 2);
    ck_assert_str_eq(st->group_by[1], "compute_resource");
    ck_assert_uint_eq(st->group_wait, 250 * USEC_PER_MSEC);
    ck_assert_uint_eq(st->group_interval, USEC_INFINITY);
    ck_assert_uint_eq(st->repeat_interval, USEC_INFINITY);
    ck_assert_str_eq(st->title, "T {x}");
    ck_assert_str_eq(st->text, "line one\nline two");
    ck_assert_uint_eq(st->nnotify, 1);
    ck_assert_str_eq(st->notify[0], "audit");

    const rule_cfg *ev = &c->rules[1];
    ck_assert(ev->kind == RULE_EVENT);
    ck_assert_uint_eq(ev->nmatch, 0);
    ck_assert_uint_eq(ev->njson, 3);
    ck_assert_str_eq(ev->json[1].path, "detail.failure-type");
    ck_assert_uint_eq(ev->json[1].nvalues, 2);
    ck_assert_str_eq(ev->json[1].values[1], "b");
    ck_assert_str_eq(ev->json[2].values[0], "40");
    ck_assert_uint_eq(ev->njson_fields, 1);
    ck_assert_str_eq(ev->json_fields[0].name, "node");
    ck_assert_str_eq(ev->json_fields[0].path, "detail.node.name");
    ck_assert_str_eq(fields_get(&ev->set, "reason"), "y z");
    ck_assert_str_eq(ev->severity, "warning");
    ck_assert_uint_eq(ev->group_wait, USEC_INFINITY);
    ck_assert_uint_eq(ev->group_interval, 3600 * USEC_PER_SEC);
    ck_assert_uint_eq(ev->repeat_interval, 86400 * USEC_PER_SEC);
    ck_assert_uint_eq(ev->nnotify, 2);

    const rule_cfg *fl = &c->rules[2];
    ck_assert(fl->kind == RULE_FLATLINE);
    ck_assert_uint_eq(fl->silence, 600 * USEC_PER_SEC);
    ck_assert_uint_eq(fl->nsources, 0);   /* every source */
    ck_assert_uint_eq(fl->nnotify, 0);    /* every notifier */
    ck_assert_ptr_null(fl->title);

    const rule_cfg *cx = &c->rules[3];
    ck_assert(cx->kind == RULE_CONTEXT);
    ck_assert_str_eq(cx->context_key, "pid");
    ck_assert_uint_eq(cx->ncontext_for, 1);
    ck_assert_str_eq(cx->context_for[0], "st");
    ck_assert_uint_eq(cx->context_ttl, 120 * USEC_PER_SEC);
    ck_assert(c->rules[4].ignore);
    ck_assert_uint_eq(c->rules[4].pending_timeout, 7 * 60 * USEC_PER_SEC);

    ck_assert_uint_eq(c->nnotifiers, 6);
    const notifier_cfg *am = config_notifier(c, "am");
    ck_assert(am && am->type == NOTIFY_ALERTMANAGER);
    ck_assert_uint_eq(am->nurls, 2);
    ck_assert_str_eq(am->urls[0], "http://127.0.0.1:9093");
    ck_assert_str_eq(am->urls[1], "http://127.0.0.1:9094");
    ck_assert_str_eq(am->url, "http://127.0.0.1:9093 http://127.0.0.1:9094");
    ck_assert_uint_eq(am->timeout, 3 * USEC_PER_SEC);
    const notifier_cfg *chat = config_notifier(c, "chat");
    ck_assert(chat->type == NOTIFY_SLACK && chat->insecure_skip_verify);
    ck_assert_ptr_null(chat->url);
    ck_assert_str_eq(chat->url_file, "/etc/pcmon/slack.url");
    ck_assert_uint_eq(chat->timeout, 10 * USEC_PER_SEC);
    const notifier_cfg *mail = config_notifier(c, "mail");
    ck_assert_uint_eq(mail->nto, 1);
    ck_assert_str_eq(mail->to[0], "admin@example.com");
    ck_assert_str_eq(mail->password_file, "/etc/pcmon/smtp.pass");
    ck_assert_str_eq(config_notifier(c, "topic")->endpoint, "http://127.0.0.1:1");
    ck_assert(config_notifier(c, "out")->type == NOTIFY_STDOUT);
    ck_assert_ptr_null(config_notifier(c, "missing"));
    config_free(c);
}
END_TEST

/* A Slack webhook URL is a credential: no error may repeat more than its scheme and host. */
START_TEST(test_secret_not_echoed)
{
    static const char yaml[] = "notifiers:\n"
                               "  - name: s\n"
                               "    type: slack\n"
                               "    url: ftp://user:pw@hooks.slack.com/services/T000/B000/SECRETTOKEN\n"
                               "  - {name: f, type: file, "
                               "path: 'https://hooks.slack.com/services/T1/B1/OTHERSECRET'}\n";
    config_errors e = { 0 };
    ck_assert_ptr_null(config_load_buffer("s.yaml", yaml, strlen(yaml), &e));
    ck_assert_uint_eq(e.n, 2);
    for (size_t i = 0; i < e.n; i++) {
        ck_assert_msg(strstr(e.v[i].msg, "hooks.slack.com"), "%s", e.v[i].msg);
        ck_assert_msg(!strstr(e.v[i].msg, "SECRET") && !strstr(e.v[i].msg, "T000") && !strstr(e.v[i].msg, "T1") &&
                      !strstr(e.v[i].msg, "pw"), "secret in \"%s\"", e.v[i].msg);
    }
    config_errors_free(&e);
}
END_TEST

START_TEST(test_error_cap)
{
    strbuf b = { 0 };
    for (int i = 0; i < 300; i++)
        strbuf_addf(&b, "bogus%d: 1\n", i);
    config_errors e = { 0 };
    ck_assert_ptr_null(config_load_buffer("cap.yaml", b.s, b.len, &e));
    ck_assert_uint_eq(e.n, 101);
    ck_assert_str_eq(e.v[100].msg, "too many errors; stopping here");
    ck_assert_int_eq(e.v[99].line, 100);
    config_errors_free(&e);
    strbuf_free(&b);
}
END_TEST

START_TEST(test_limits)
{
    config_errors e = { 0 };
    /* Deep nesting stops at the cap instead of recursing or allocating without bound. */
    strbuf b = { 0 };
    strbuf_adds(&b, "cluster: ");
    for (int i = 0; i < 100000; i++)
        strbuf_addc(&b, '[');
    ck_assert_ptr_null(config_load_buffer("deep.yaml", b.s, b.len, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.v[0].msg, "nesting deeper than 64 levels");
    ck_assert_int_eq(e.v[0].col, 9 + 64);   /* the top mapping is level 1 */
    config_errors_free(&e);
    strbuf_free(&b);

    /* Too many nodes: a flat list of a quarter million items. */
    strbuf_adds(&b, "cluster: [");
    for (int i = 0; i < 250000; i++)
        strbuf_adds(&b, "1,");
    strbuf_adds(&b, "1]\n");
    ck_assert_ptr_null(config_load_buffer("wide.yaml", b.s, b.len, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_msg(strstr(e.v[0].msg, "too many YAML nodes"), "%s", e.v[0].msg);
    config_errors_free(&e);
    strbuf_free(&b);

    /* Over 4 MiB in a buffer: refused before parsing. */
    size_t big = (4u << 20) + 1;
    char *p = xmalloc(big);
    memset(p, '#', big);
    ck_assert_ptr_null(config_load_buffer("big.yaml", p, big, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.v[0].msg, "configuration is larger than 4 MiB");
    free(p);
    config_errors_free(&e);
}
END_TEST

START_TEST(test_load_file)
{
    char dir[] = "/tmp/pcmon-test-config-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    _cleanup_free_ char *good = xasprintf("%s/pcmon.yaml", dir), *huge = xasprintf("%s/huge.yaml", dir),
                        *missing = xasprintf("%s/missing.yaml", dir);
    static const char text[] = "sources:\n  - {name: a, path: /a}\nrules:\n  - {id: r, match: x, severity: urgent}\n";
    ck_assert_int_eq(write_file_atomic(good, text, strlen(text), 0600), 0);
    config_errors e = { 0 };
    ck_assert_ptr_null(config_load_file(good, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.v[0].file, good);
    ck_assert_int_eq(e.v[0].line, 4);
    config_errors_free(&e);

    /* A sparse 5 MiB file: rejected by size, not read. */
    int fd = open(huge, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 5 << 20), 0);
    close(fd);
    ck_assert_ptr_null(config_load_file(huge, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.v[0].msg, "file is larger than 4 MiB; not read");
    config_errors_free(&e);

    ck_assert_ptr_null(config_load_file(missing, &e));
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.v[0].msg, "cannot read: No such file or directory");
    config_errors_free(&e);
    ck_assert_ptr_null(config_load_file(dir, &e));
    ck_assert_uint_eq(e.n, 1);
    config_errors_free(&e);

    static const char ok[] = "state_dir: /s\n";
    ck_assert_int_eq(write_file_atomic(good, ok, strlen(ok), 0600), 0);
    pcmon_config *c = config_load_file(good, &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->file, good);
    ck_assert_str_eq(c->state_dir, "/s");
    config_free(c);
    unlink(good);
    unlink(huge);
    rmdir(dir);
}
END_TEST

START_TEST(test_embedded_default)
{
    config_errors e = { 0 };
    ck_assert_uint_gt(pcmon_default_config_len, 0);
    pcmon_config *c = config_load_default(&e);
    if (!c)
        dump_errors(&e);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->file, "<embedded>");
    ck_assert_uint_gt(c->nsources, 0);
    ck_assert_uint_gt(c->nrules, 0);
    config_free(c);
    config_errors_free(&e);
}
END_TEST

/* Damaged copies of the default config: each either loads or reports errors, all with a position
 * and a message, and nothing leaks or crashes (run under ASan/valgrind). */
START_TEST(test_mutations)
{
    uint64_t seed = 0x9e3779b97f4a7c15u;
    size_t n = pcmon_default_config_len;
    char *buf = xmalloc(n + 1);
    for (int round = 0; round < 300; round++) {
        memcpy(buf, pcmon_default_config, n);
        size_t len = n;
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            size_t at = (size_t)(seed >> 33) % n;
            static const char junk[] = { ':', '-', '[', '{', '"', '\'', '\t', '\n', ' ', '&', '*', '!', 0, '\xff' };
            if (round % 7 == 6)
                len = at;
            else
                buf[at] = junk[(seed >> 20) % sizeof junk];
        }
        config_errors e = { 0 };
        pcmon_config *c = config_load_buffer("m.yaml", buf, len, &e);
        ck_assert_msg((c != NULL) == (e.n == 0), "round %d: config %p with %zu errors", round, (void *)c, e.n);
        for (size_t i = 0; i < e.n; i++)
            ck_assert_msg(e.v[i].line >= 1 && e.v[i].col >= 1 && e.v[i].msg[0], "round %d: bad error", round);
        config_free(c);
        config_errors_free(&e);
    }
    free(buf);
}
END_TEST

/* The rule for files holding secrets (docs/security.md): o+r leaks, o+w and g+w let another user
 * replace the secret; group read (root:pcmon 0640) is how the daemon reads it. */
START_TEST(test_secret_modes)
{
    static const struct { unsigned mode; const char *want; } cases[] = {
        { 0640, NULL }, { 0600, NULL }, { 0400, NULL }, { 0440, NULL }, { 0750, NULL }, { 0100640, NULL },
        { 0644, "world-readable" }, { 0604, "world-readable" }, { 0100644, "world-readable" },
        { 0602, "world-writable" }, { 0660, "group-writable" }, { 0620, "group-writable" },
        { 0606, "world-readable and world-writable" }, { 0664, "world-readable and group-writable" },
        { 0666, "world-readable, world-writable and group-writable" },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_free_ char *got = config_secret_mode_problem(cases[i].mode);
        if (!cases[i].want)
            ck_assert_msg(!got, "mode %04o: got \"%s\"", cases[i].mode, got);
        else
            ck_assert_msg(got && str_eq(got, cases[i].want), "mode %04o: got \"%s\", want \"%s\"", cases[i].mode,
                          got ? got : "(null)", cases[i].want);
    }
}
END_TEST

static bool any_has(const config_errors *e, const char *a, const char *b)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->v[i].msg, a) && (!b || strstr(e->v[i].msg, b)))
            return true;
    return false;
}

/* Real files with real modes: which files are secret, one report per file, the fix named, the
 * secret itself never in a message. */
START_TEST(test_secret_files)
{
    char dir[] = "/tmp/pcmon-test-secrets-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    _cleanup_free_ char *cfg = xasprintf("%s/pcmon.yaml", dir), *url = xasprintf("%s/slack.url", dir),
                        *pw = xasprintf("%s/smtp.password", dir), *am = xasprintf("%s/am.url", dir),
                        *gone = xasprintf("%s/missing.password", dir);
    static const char hook[] = "https://hooks.slack.com/services/T0/B0/HOOKSECRETTOKEN\n";
    ck_assert_int_eq(write_file_atomic(url, hook, strlen(hook), 0644), 0);
    ck_assert_int_eq(write_file_atomic(pw, "PASSWORDSECRET\n", 15, 0600), 0);
    ck_assert_int_eq(write_file_atomic(am, "http://am:9093\n", 15, 0600), 0);
    ck_assert_int_eq(chmod(url, 0644), 0);   /* modes set explicitly: the umask does not decide */
    ck_assert_int_eq(chmod(am, 0666), 0);
    _cleanup_free_ char *yaml = xasprintf(
        "notifiers:\n"
        "  - {name: s1, type: slack, url_file: %s}\n"
        "  - {name: s2, type: slack, url_file: %s}\n"
        "  - {name: m, type: smtp, url: 'smtp://mail:587', from: a@b, to: c@d, password_file: %s}\n"
        "  - {name: am, type: alertmanager, url_file: %s, insecure_skip_verify: true}\n"
        "  - {name: m2, type: smtp, url: 'smtp://mail:587', from: a@b, to: c@d, password_file: %s}\n",
        url, url, pw, am, gone);
    /* The config itself holds no inline secret: its own mode does not matter. */
    ck_assert_int_eq(write_file_atomic(cfg, yaml, strlen(yaml), 0600), 0);
    ck_assert_int_eq(chmod(cfg, 0666), 0);
    config_errors e = { 0 }, bad = { 0 }, notes = { 0 };
    pcmon_config *c = config_load_file(cfg, &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(config_check_secrets(c, &bad, &notes), 2);
    ck_assert_uint_eq(bad.n, 2);
    ck_assert_msg(any_has(&bad, url, "world-readable (mode 0644"), "%s", bad.v[0].msg);
    ck_assert_msg(strstr(bad.v[0].msg, "notifiers[s1]: url_file ") && bad.v[0].line == 2, "%s", bad.v[0].msg);
    _cleanup_free_ char *fix = xasprintf("fix: chmod 0640 %s && chown root:pcmon %s", url, url);
    ck_assert_msg(strstr(bad.v[0].msg, fix), "%s", bad.v[0].msg);
    ck_assert(any_has(&bad, am, "world-readable, world-writable and group-writable (mode 0666"));
    ck_assert(!any_has(&bad, cfg, NULL) && !any_has(&bad, pw, NULL));
    ck_assert_uint_eq(notes.n, 2);
    ck_assert(any_has(&notes, "notifiers[am]: insecure_skip_verify is on", NULL));
    ck_assert(any_has(&notes, gone, "No such file"));
    for (size_t i = 0; i < bad.n + notes.n; i++) {
        const char *m = i < bad.n ? bad.v[i].msg : notes.v[i - bad.n].msg;
        ck_assert_msg(!strstr(m, "SECRET"), "secret in \"%s\"", m);
    }
    config_errors_free(&bad);
    config_errors_free(&notes);
    /* Fixed as documented: nothing to report, NULL lists are fine. */
    ck_assert_int_eq(chmod(url, 0640), 0);
    ck_assert_int_eq(chmod(am, 0440), 0);
    ck_assert_uint_eq(config_check_secrets(c, NULL, NULL), 0);
    config_free(c);

    /* Inline secrets make the config a secret file: a Slack url, user:password@ in a URL. */
    static const char *const inl[] = {
        "notifiers:\n  - {name: s, type: slack, url: 'https://hooks.slack.com/services/T/B/INLINESECRET'}\n",
        "notifiers:\n  - {name: m, type: smtp, url: 'smtp://u:INLINESECRET@mail:587', from: a@b, to: c@d}\n",
        "notifiers:\n  - {name: a, type: alertmanager, urls: ['http://am1', 'http://u:INLINESECRET@am2']}\n",
    };
    for (size_t i = 0; i < ELEMENTSOF(inl); i++) {
        ck_assert_int_eq(write_file_atomic(cfg, inl[i], strlen(inl[i]), 0600), 0);
        ck_assert_int_eq(chmod(cfg, 0604), 0);
        c = config_load_file(cfg, &e);
        ck_assert_ptr_nonnull(c);
        ck_assert_uint_eq(config_check_secrets(c, &bad, NULL), 1);
        ck_assert_msg(strstr(bad.v[0].msg, "the configuration (") && strstr(bad.v[0].msg, cfg) &&
                      strstr(bad.v[0].msg, "mode 0604") && strstr(bad.v[0].msg, "or move the secret to url_file"),
                      "%s", bad.v[0].msg);
        ck_assert_msg(!strstr(bad.v[0].msg, "INLINESECRET"), "secret in \"%s\"", bad.v[0].msg);
        config_errors_free(&bad);
        ck_assert_int_eq(chmod(cfg, 0640), 0);
        ck_assert_uint_eq(config_check_secrets(c, &bad, NULL), 0);
        config_free(c);
    }
    /* A URL without user info is no secret, in a world-readable config either. */
    static const char plain[] = "notifiers:\n  - {name: a, type: alertmanager, url: 'http://am:9093'}\n";
    ck_assert_int_eq(write_file_atomic(cfg, plain, strlen(plain), 0600), 0);
    ck_assert_int_eq(chmod(cfg, 0666), 0);
    c = config_load_file(cfg, &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(config_check_secrets(c, NULL, NULL), 0);
    config_free(c);
    /* The embedded default holds no secret. */
    c = config_load_default(&e);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(config_check_secrets(c, NULL, NULL), 0);
    config_free(c);
    config_errors_free(&e);
    unlink(cfg);
    unlink(url);
    unlink(pw);
    unlink(am);
    rmdir(dir);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_bad_configs, 0, ELEMENTSOF(bad_cases));
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_full);
    tcase_add_test(tc, test_secret_not_echoed);
    tcase_add_test(tc, test_error_cap);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_embedded_default);
    tcase_add_test(tc, test_mutations);
    tcase_add_test(tc, test_secret_modes);
    tcase_add_test(tc, test_secret_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
