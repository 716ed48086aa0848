/* The alert object: exact JSON shape, round trips, escaping of hostile text (checked with
 * json-c's own strict tokenizer), junk rejected without touching the output, the terminal
 * rendering, and deep copies. */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "macro.h"
#include "timeparse.h"
#include "util.h"

static uint64_t ts(const char *s)
{
    uint64_t us = 0;
    ck_assert_uint_eq(ts_parse(s, strlen(s), &us), strlen(s));
    return us;
}

static char **strv(size_t n, const char *const *v)
{
    char **d = xcalloc(n, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = xstrdup(v[i]);
    return d;
}

/* The alert of the example in the brief: ICE on gpu/g5-12xl. */
static void example(alert *a)
{
    static const char *lines[] = { "var/log/parallelcluster/slurm_resume.log:191",
                                   "var/log/parallelcluster/slurm_resume.log:192",
                                   "var/log/parallelcluster/slurm_resume.events:1" };
    *a = (alert){
        .rule = xstrdup("insufficient_capacity"),
        .severity = xstrdup("critical"),
        .title = xstrdup("EC2 has no capacity for g5.12xlarge in gpu/g5-12xl"),
        .text = xstrdup("32 nodes failed to launch.\nSlurm requeues the jobs."),
        .count = 3,
        .first_seen = ts("2024-10-14T06:21:39.234Z"),
        .last_seen = ts("2024-10-14T06:35:32.167Z"),
        .lines = strv(3, lines),
        .nlines = 3,
    };
    fields_set(&a->labels, "cluster", "genomics-prod");
    fields_set(&a->labels, "queue", "gpu");
    fields_set(&a->labels, "compute_resource", "g5-12xl");
    fields_set(&a->fields, "nodes", "gpu-dy-g5-12xl-[1-32]");
    fields_set(&a->fields, "instance_type", "g5.12xlarge");
}

static const char EXAMPLE_JSON[] =
    "{\"rule\":\"insufficient_capacity\",\"state\":\"firing\",\"severity\":\"critical\","
    "\"title\":\"EC2 has no capacity for g5.12xlarge in gpu/g5-12xl\","
    "\"text\":\"32 nodes failed to launch.\\nSlurm requeues the jobs.\",\"count\":3,"
    "\"first_seen\":\"2024-10-14T06:21:39.234Z\",\"last_seen\":\"2024-10-14T06:35:32.167Z\","
    "\"labels\":{\"cluster\":\"genomics-prod\",\"queue\":\"gpu\",\"compute_resource\":\"g5-12xl\"},"
    "\"fields\":{\"nodes\":\"gpu-dy-g5-12xl-[1-32]\",\"instance_type\":\"g5.12xlarge\"},"
    "\"lines\":[\"var/log/parallelcluster/slurm_resume.log:191\","
    "\"var/log/parallelcluster/slurm_resume.log:192\",\"var/log/parallelcluster/slurm_resume.events:1\"]}";

START_TEST(json_shape)
{
    alert a;
    example(&a);
    char *s = alert_to_json(&a);
    ck_assert_str_eq(s, EXAMPLE_JSON);
    free(s);

    a.resolved = true;
    a.group_key = xstrdup("insufficient_capacity\x1fgpu");
    a.notify = strv(2, (const char *[]){ "slack", "audit" });
    a.nnotify = 2;
    a.test = true;
    s = alert_to_json(&a);
    static const char tail[] = "/slurm_resume.events:1\"],\"group_key\":\"insufficient_capacity\\u001fgpu\","
                               "\"notify\":[\"slack\",\"audit\"],\"test\":true}";
    ck_assert(str_startswith(s, "{\"rule\":\"insufficient_capacity\",\"state\":\"resolved\","));
    ck_assert_uint_gt(strlen(s), strlen(tail));
    ck_assert_str_eq(s + strlen(s) - strlen(tail), tail);
    free(s);
    alert_clear(&a);
}
END_TEST

START_TEST(json_optional_keys)
{
    alert a = {0};
    char *s = alert_to_json(&a);
    ck_assert_str_eq(s, "{\"rule\":\"\",\"state\":\"firing\",\"severity\":\"\",\"title\":\"\",\"text\":\"\","
                        "\"count\":0,\"first_seen\":\"1970-01-01T00:00:00.000Z\","
                        "\"last_seen\":\"1970-01-01T00:00:00.000Z\",\"labels\":{},\"fields\":{},\"lines\":[]}");
    alert b;
    ck_assert_int_eq(alert_from_json(s, strlen(s), &b), 0);
    ck_assert_ptr_null(b.group_key);
    ck_assert_uint_eq(b.nnotify, 0);
    ck_assert(!b.test);
    ck_assert_uint_eq(b.first_seen, 0);
    free(s);
    alert_clear(&b);
}
END_TEST

/* Hostile strings: each must come out as valid JSON (json-c's strict, UTF-8 validating
 * tokenizer accepts it) and parse back to the same text, or to its UTF-8-repaired form. */
static const struct {
    const char *in, *back;
} hostile[] = {
    { "say \"hi\" \\ back\\slash", NULL },
    { "line1\nline2\r\n\ttab", NULL },
    { "<script>alert(1)</script> & &amp; </", NULL },
    { "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87", NULL },
    { "bad \xff\xfe utf8 \xc3", "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd" },
    { "\x01\x02\x1b[2J\x7f", NULL },
    { "%s%n%x {queue} {{", NULL },
    { "\xe2\x80\xa8 \xe2\x80\xa9", NULL },   /* U+2028/9: valid JSON, trouble in JS */
};

START_TEST(json_escaping)
{
    alert a;
    example(&a);
    free(a.title);
    a.title = xstrdup(hostile[_i].in);
    fields_set(&a.fields, hostile[_i].in, hostile[_i].in);
    fields_set(&a.labels, "queue", hostile[_i].in);
    free(a.lines[0]);
    a.lines[0] = xstrdup(hostile[_i].in);
    char *s = alert_to_json(&a);
    ck_assert_ptr_null(memchr(s, '\n', strlen(s)));

    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, s, (int)strlen(s));
    ck_assert_msg(o != NULL, "json-c rejects: %s", s);
    ck_assert_uint_eq(json_tokener_get_parse_end(tok), strlen(s));
    json_tokener_free(tok);
    const char *want = hostile[_i].back ? hostile[_i].back : hostile[_i].in;
    json_object *v;
    ck_assert(json_object_object_get_ex(o, "title", &v));
    ck_assert_str_eq(json_object_get_string(v), want);
    json_object_put(o);

    alert b;
    ck_assert_int_eq(alert_from_json(s, strlen(s), &b), 0);
    ck_assert_str_eq(b.title, want);
    ck_assert_str_eq(fields_get(&b.fields, want), want);
    ck_assert_str_eq(fields_get(&b.labels, "queue"), want);
    ck_assert_str_eq(b.lines[0], want);
    char *again = alert_to_json(&b);
    ck_assert_str_eq(again, s);
    free(again);
    free(s);
    alert_clear(&a);
    alert_clear(&b);
}
END_TEST

START_TEST(json_no_slash_escape)
{
    alert a;
    example(&a);
    char *s = alert_to_json(&a);
    ck_assert_ptr_null(strstr(s, "\\/"));
    ck_assert_ptr_nonnull(strstr(s, "var/log/parallelcluster/"));
    free(s);
    alert_clear(&a);
}
END_TEST

START_TEST(round_trip)
{
    alert a, b;
    example(&a);
    a.group_key = xstrdup("insufficient_capacity\x1fgpu\x1fg5-12xl");
    a.notify = strv(1, (const char *[]){ "slack" });
    a.nnotify = 1;
    a.test = true;
    a.count = UINT64_C(123456789012);
    a.first_seen = ts("2026-01-23T18:06:34.184Z");
    char *s = alert_to_json(&a);
    ck_assert_int_eq(alert_from_json(s, strlen(s), &b), 0);
    char *again = alert_to_json(&b);
    ck_assert_str_eq(again, s);
    ck_assert_str_eq(b.rule, a.rule);
    ck_assert_str_eq(b.severity, a.severity);
    ck_assert_str_eq(b.title, a.title);
    ck_assert_str_eq(b.text, a.text);
    ck_assert_str_eq(b.group_key, a.group_key);
    ck_assert_uint_eq(b.count, a.count);
    ck_assert_uint_eq(b.first_seen, a.first_seen);
    ck_assert_uint_eq(b.last_seen, a.last_seen);
    ck_assert(b.test && !b.resolved);
    ck_assert_uint_eq(b.labels.n, 3);
    ck_assert_str_eq(b.labels.v[2].name, "compute_resource");
    ck_assert_uint_eq(b.nlines, 3);
    ck_assert_str_eq(b.lines[2], a.lines[2]);
    ck_assert_uint_eq(b.nnotify, 1);
    ck_assert_str_eq(b.notify[0], "slack");
    free(s);
    free(again);
    alert_clear(&a);
    alert_clear(&b);
}
END_TEST

START_TEST(from_json_tolerant)
{
    static const char in[] =
        "  {\"lines\": [], \"labels\": {\"b\": \"2\", \"a\": \"1\"}, \"state\": \"resolved\", \"count\": 7,\n"
        "   \"future_key\": {\"x\": [1, 2]}, \"fields\": {}, \"title\": \"t\", \"text\": \"\",\n"
        "   \"last_seen\": \"2024-10-14T06:35:32.167Z\", \"first_seen\": \"2024-10-14T06:21:39.234Z\",\n"
        "   \"severity\": \"warning\", \"rule\": \"r\", \"test\": false, \"notify\": [\"a\\/b\"]}\n";
    alert b;
    ck_assert_int_eq(alert_from_json(in, strlen(in), &b), 0);
    ck_assert(b.resolved);
    ck_assert(!b.test);
    ck_assert_uint_eq(b.count, 7);
    ck_assert_str_eq(b.labels.v[0].name, "b");
    ck_assert_str_eq(b.notify[0], "a/b");
    ck_assert_uint_eq(b.last_seen - b.first_seen, ts("2024-10-14T06:35:32.167Z") - ts("2024-10-14T06:21:39.234Z"));
    alert_clear(&b);
    /* only len bytes are read: what follows them does not matter */
    alert a;
    example(&a);
    char *s = alert_to_json(&a);
    char *padded = xasprintf("%s garbage", s);
    ck_assert_int_eq(alert_from_json(padded, strlen(s), &b), 0);
    ck_assert_int_eq(alert_from_json(padded, strlen(padded), &a), -EINVAL);
    alert_clear(&b);
    alert_clear(&a);
    free(s);
    free(padded);
}
END_TEST

#define BASE "\"rule\":\"r\",\"severity\":\"s\",\"title\":\"t\",\"text\":\"x\",\"labels\":{},\"fields\":{}," \
             "\"lines\":[],\"first_seen\":\"2024-10-14T06:21:39.234Z\",\"last_seen\":\"2024-10-14T06:21:39.234Z\""

static const char *junk[] = {
    "",
    " ",
    "null",
    "[]",
    "\"string\"",
    "42",
    "{}",
    "{",
    "not json",
    "{" BASE ",\"state\":\"firing\",\"count\":1",
    "{" BASE ",\"state\":\"firing\",\"count\":1}}",
    "{" BASE ",\"state\":\"firing\",\"count\":1} {}",
    "{" BASE ",\"state\":\"firing\",\"count\":1},",
    "{" BASE ",\"state\":\"maybe\",\"count\":1}",
    "{" BASE ",\"state\":true,\"count\":1}",
    "{" BASE ",\"count\":1}",
    "{" BASE ",\"state\":\"firing\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":\"1\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":-1}",
    "{" BASE ",\"state\":\"firing\",\"count\":1.5}",
    "{" BASE ",\"state\":\"firing\",\"count\":null}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"test\":\"true\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"test\":1}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"notify\":\"slack\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"notify\":[1]}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"group_key\":7}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"rule\":null}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"labels\":[]}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"labels\":{\"a\":1}}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"fields\":{\"a\":{\"b\":\"c\"}}}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"lines\":\"x:1\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"lines\":[\"ok\",null]}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"first_seen\":\"yesterday\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"first_seen\":1728886899}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"first_seen\":\"2024-10-14T06:21:39.234Z junk\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"last_seen\":\"[2024-10-14T06:21:39.234Z\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"title\":\"a\\u0000b\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"title\":\"\xff\"}",
    "{" BASE ",\"state\":\"firing\",\"count\":1,\"title\":'single'}",
    "{\"rule\":\"r\",\"state\":\"firing\",\"count\":1}",
};

START_TEST(from_json_junk)
{
    alert a, before;
    example(&a);
    before = a;
    ck_assert_int_eq(alert_from_json(junk[_i], strlen(junk[_i]), &a), -EINVAL);
    ck_assert(memcmp(&a, &before, sizeof a) == 0);
    ck_assert_str_eq(a.rule, "insufficient_capacity");
    alert_clear(&a);
}
END_TEST

START_TEST(from_json_valid_base)
{
    /* the junk table's base object is itself valid: each junk case fails for its own reason */
    static const char ok[] = "{" BASE ",\"state\":\"firing\",\"count\":1}";
    alert a;
    ck_assert_int_eq(alert_from_json(ok, strlen(ok), &a), 0);
    alert_clear(&a);
    ck_assert_int_eq(alert_from_json("{\"rule\":\"r\"}\0{}", 15, &a), -EINVAL);
    ck_assert_int_eq(alert_from_json(NULL, 0, &a), -EINVAL);
}
END_TEST

START_TEST(text_format)
{
    alert a;
    example(&a);
    char *s = alert_format_text(&a, false);
    ck_assert_str_eq(s,
        "[FIRING critical] insufficient_capacity \xe2\x80\x94 EC2 has no capacity for g5.12xlarge in gpu/g5-12xl\n"
        "  32 nodes failed to launch.\n"
        "  Slurm requeues the jobs.\n"
        "  cluster=genomics-prod queue=gpu compute_resource=g5-12xl\n"
        "  nodes: gpu-dy-g5-12xl-[1-32]   instance_type: g5.12xlarge\n"
        "  count 3, first 2024-10-14T06:21:39.234Z, last 2024-10-14T06:35:32.167Z\n"
        "  evidence: var/log/parallelcluster/slurm_resume.log:191 (+2 more)");
    ck_assert_ptr_null(strchr(s, '\033'));
    free(s);

    s = alert_format_text(&a, true);
    ck_assert(str_startswith(s, "\033[1;31m[FIRING critical]\033[0m insufficient_capacity"));
    free(s);
    free(a.severity);
    a.severity = xstrdup("warning");
    s = alert_format_text(&a, true);
    ck_assert(str_startswith(s, "\033[1;33m[FIRING warning]\033[0m"));
    free(s);
    a.resolved = true;
    a.test = true;
    a.notify = strv(2, (const char *[]){ "slack", "audit" });
    a.nnotify = 2;
    s = alert_format_text(&a, true);
    ck_assert(str_startswith(s, "\033[1;32m[TEST RESOLVED warning]\033[0m"));
    ck_assert(strstr(s, "\n  notify: slack, audit"));
    free(s);
    alert_clear(&a);

    alert e = {0};
    s = alert_format_text(&e, false);
    ck_assert_str_eq(s, "[FIRING] \n  count 0, first 1970-01-01T00:00:00.000Z, last 1970-01-01T00:00:00.000Z");
    free(s);
}
END_TEST

/* Log-derived values cannot drive the terminal: no C0/C1 control or DEL survives, newlines only
 * where the text has them, always followed by the indent. */
START_TEST(text_strips_controls)
{
    static const char nasty[] = "a\x1b[2J\x1b]0;owned\x07 b\r\x08\x7f\xc2\x9b" "31m c\xc2\x85 d\te\nf";
    alert a;
    example(&a);
    free(a.title);
    a.title = xstrdup(nasty);
    free(a.text);
    a.text = xstrdup(nasty);
    free(a.rule);
    a.rule = xstrdup("rule\nwith newline");
    fields_set(&a.labels, "queue", nasty);
    fields_set(&a.fields, "k\x1b", nasty);
    free(a.lines[0]);
    a.lines[0] = xstrdup(nasty);
    char *s = alert_format_text(&a, false);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        ck_assert_msg(*p >= 0x20 || *p == '\n', "control 0x%02x in output", *p);
        ck_assert(*p != 0x7f);
        ck_assert(!(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f));
        if (*p == '\n')
            ck_assert(p[1] == ' ' && p[2] == ' ');
    }
    ck_assert(str_startswith(s, "[FIRING critical] rule with newline \xe2\x80\x94 a[2J]0;owned b31m c d e f\n"));
    ck_assert_ptr_nonnull(strstr(s, "\n  a[2J]0;owned b31m c d e\n  f\n"));
    free(s);
    alert_clear(&a);
}
END_TEST

START_TEST(copy_and_clear)
{
    alert a, c;
    example(&a);
    a.group_key = xstrdup("k");
    a.notify = strv(1, (const char *[]){ "slack" });
    a.nnotify = 1;
    a.test = true;
    alert_copy(&c, &a);
    char *sa = alert_to_json(&a);
    ck_assert_ptr_ne(c.rule, a.rule);
    ck_assert_ptr_ne(c.lines, a.lines);
    ck_assert_ptr_ne(c.lines[0], a.lines[0]);
    ck_assert_ptr_ne(c.labels.v, a.labels.v);
    ck_assert_ptr_ne(c.notify[0], a.notify[0]);
    alert_clear(&a);
    char *sc = alert_to_json(&c);
    ck_assert_str_eq(sc, sa);
    alert_clear(&c);
    alert_clear(&c);
    ck_assert_ptr_null(c.rule);
    ck_assert_uint_eq(c.nlines, 0);
    alert z = {0};
    alert_copy(&c, &z);
    ck_assert_ptr_null(c.rule);
    alert_clear(&c);
    free(sa);
    free(sc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alert");
    TCase *tc = tcase_create("alert");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, json_shape);
    tcase_add_test(tc, json_optional_keys);
    tcase_add_loop_test(tc, json_escaping, 0, ELEMENTSOF(hostile));
    tcase_add_test(tc, json_no_slash_escape);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, from_json_tolerant);
    tcase_add_loop_test(tc, from_json_junk, 0, ELEMENTSOF(junk));
    tcase_add_test(tc, from_json_valid_base);
    tcase_add_test(tc, text_format);
    tcase_add_test(tc, text_strips_controls);
    tcase_add_test(tc, copy_and_clear);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
