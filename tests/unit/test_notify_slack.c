/* The Slack payload builder: mrkdwn escaping that never splits an entity or a UTF-8 character,
 * Slack's limits held for a storm-sized alert (blocks, header, section and field sizes, total),
 * overflow counted as "…and N more", nothing from log text able to mention or link, and the
 * severity/resolved/test presentation. Payloads are checked by parsing them with json-c. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "notify_backend.h"
#include "util.h"

static const struct {
    const char *in;
    size_t cap;
    const char *out;
    size_t used;
} esc[] = {
    { "a<b>&c", 100, "a&lt;b&gt;&amp;c", 6 },
    { "<!channel>", 100, "&lt;!channel&gt;", 10 },
    { "<<<", 5, "&lt;", 1 },                       /* never half an entity */
    { "\xc3\xa9\xc3\xa9\xc3\xa9", 3, "\xc3\xa9", 2 },  /* never half a character */
    { "*bold* _it_ `code`", 100, "*bold* _it_ `code`", 18 },   /* only & < > are special */
    { "", 10, "", 0 },
};

START_TEST(escape)
{
    strbuf b = {0};
    strbuf_adds(&b, "");
    size_t used = slack_escape(&b, esc[_i].in, strlen(esc[_i].in), esc[_i].cap);
    ck_assert_str_eq(b.s, esc[_i].out);
    ck_assert_uint_eq(used, esc[_i].used);
    strbuf_free(&b);
}
END_TEST

static void base_alert(alert *a)
{
    *a = (alert){ .rule = xstrdup("insufficient_capacity"), .severity = xstrdup("critical"),
                  .title = xstrdup("No capacity for g5.12xlarge"), .text = xstrdup("32 nodes failed"), .count = 32,
                  .first_seen = 1700000000000000, .last_seen = 1700000060000000 };
    fields_set(&a->labels, "cluster", "demo");
    fields_set(&a->labels, "queue", "gpu");
    fields_set(&a->fields, "nodes", "gpu-dy-g5-[1-32]");
    a->lines = xcalloc(2, sizeof *a->lines);
    a->lines[a->nlines++] = xstrdup("var/log/parallelcluster/slurm_resume.log:191");
    a->lines[a->nlines++] = xstrdup("var/log/parallelcluster/slurm_resume.log:192");
}

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    ck_assert_ptr_nonnull(o);
    return o;
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, k, &v), "missing %s", k);
    return v;
}

static const char *block_text(json_object *b)
{
    json_object *t;
    if (!json_object_object_get_ex(b, "text", &t))
        return "";
    return json_object_get_string(get(t, "text"));
}

/* Walks every block (top level and the attachment's) and checks Slack's limits. */
static size_t check_limits(json_object *o)
{
    json_object *lists[2] = { get(o, "blocks"), get(json_object_array_get_idx(get(o, "attachments"), 0), "blocks") };
    size_t nblocks = 0, total = 0;
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < json_object_array_length(lists[l]); i++, nblocks++) {
            json_object *b = json_object_array_get_idx(lists[l], i);
            const char *type = json_object_get_string(get(b, "type"));
            size_t len = strlen(block_text(b));
            total += len;
            if (str_eq(type, "header"))
                ck_assert_uint_le(len, 150);
            ck_assert_uint_le(len, 3000);
            json_object *f;
            if (json_object_object_get_ex(b, "fields", &f)) {
                ck_assert_uint_le(json_object_array_length(f), 10);
                for (size_t k = 0; k < json_object_array_length(f); k++) {
                    size_t fl = strlen(json_object_get_string(get(json_object_array_get_idx(f, k), "text")));
                    ck_assert_uint_le(fl, 2000);
                    total += fl;
                }
            }
            json_object *els;
            if (json_object_object_get_ex(b, "elements", &els))
                for (size_t k = 0; k < json_object_array_length(els); k++)
                    total += strlen(json_object_get_string(get(json_object_array_get_idx(els, k), "text")));
        }
    ck_assert_uint_le(nblocks, 50);
    ck_assert_uint_lt(total, 12000);
    return total;
}

START_TEST(small_alert)
{
    alert a;
    base_alert(&a);
    _cleanup_free_ char *p = slack_payload(&a);
    json_object *o = parse(p);
    check_limits(o);
    json_object *blocks = get(o, "blocks");
    ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(blocks, 0), "type")), "header");
    ck_assert(strstr(block_text(json_object_array_get_idx(blocks, 0)), "[FIRING critical] No capacity"));
    ck_assert(strstr(json_object_get_string(get(o, "text")), "cluster demo"));
    ck_assert(strstr(p, "slurm_resume.log:192"));
    ck_assert(!strstr(p, "more"));
    ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(get(o, "attachments"), 0), "color")),
                     "#d00000");
    json_object_put(o);
    alert_clear(&a);
}
END_TEST

START_TEST(storm_within_limits)
{
    alert a;
    base_alert(&a);
    free(a.title);
    free(a.text);
    strbuf t = {0};
    for (int i = 0; i < 400; i++)
        strbuf_adds(&t, "\xe2\x9c\x93");   /* multi-byte characters right at the cut */
    a.title = strbuf_take(&t);
    for (int i = 0; i < 3000; i++)
        strbuf_adds(&t, "<!channel> & ");
    a.text = strbuf_take(&t);
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "f%02d", i);
        strbuf_reset(&t);
        for (int j = 0; j < 300; j++)
            strbuf_adds(&t, "<@U1>");
        fields_set(&a.fields, k, t.s);
    }
    strbuf_free(&t);
    a.lines = xrealloc(a.lines, 1000 * sizeof *a.lines);
    for (; a.nlines < 1000; a.nlines++)
        a.lines[a.nlines] = xasprintf("var/log/parallelcluster/slurm_resume.log:%zu", a.nlines + 1);
    _cleanup_free_ char *p = slack_payload(&a);
    ck_assert_uint_lt(strlen(p), 40000);
    json_object *o = parse(p);
    check_limits(o);
    ck_assert(!strstr(p, "<!channel>"));
    ck_assert(!strstr(p, "<@U1>"));
    ck_assert(strstr(p, "&lt;!channel&gt; &amp;"));
    ck_assert(strstr(p, "\xe2\x80\xa6" "and "));
    ck_assert(strstr(p, "more fields"));
    ck_assert(strstr(p, "Contributing log lines* (1000)"));
    json_object_put(o);
    alert_clear(&a);
}
END_TEST

START_TEST(resolved_and_test)
{
    alert a;
    base_alert(&a);
    a.resolved = true;
    _cleanup_free_ char *p = slack_payload(&a);
    json_object *o = parse(p);
    const char *h = block_text(json_object_array_get_idx(get(o, "blocks"), 0));
    ck_assert_msg(str_startswith(h, "\xe2\x9c\x85 [RESOLVED]"), "%s", h);
    ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(get(o, "attachments"), 0), "color")),
                     "#2eb67d");
    json_object_put(o);
    a.resolved = false;
    a.test = true;
    _cleanup_free_ char *q = slack_payload(&a);
    o = parse(q);
    h = block_text(json_object_array_get_idx(get(o, "blocks"), 0));
    ck_assert_msg(strstr(h, "[TEST FIRING critical]"), "%s", h);
    ck_assert(strstr(q, "test alert"));
    json_object_put(o);
    alert_clear(&a);
}
END_TEST

/* What the engine scrubs from every message for a Slack notifier: the URL, its path, and the bare
 * token (a proxy or an error page may echo any of them). */
START_TEST(init_secrets)
{
    notifier_cfg cfg = { .name = "slack", .type = NOTIFY_SLACK,
                         .url = "https://hooks.slack.com/services/T0AAA/B0BBB/TOKENsecret123" };
    notifier n = { .cfg = &cfg };
    char *err = NULL;
    ck_assert_int_eq(notify_slack_backend.init(&n, &err), 0);
    ck_assert_str_eq(n.target, "https://hooks.slack.com");
    ck_assert_str_eq(n.secrets[0], cfg.url);
    ck_assert_str_eq(n.secrets[1], "/services/T0AAA/B0BBB/TOKENsecret123");
    ck_assert_str_eq(n.secrets[2], "TOKENsecret123");
    _cleanup_free_ char *m = redact_secrets("HTTP 403 invalid_token TOKENsecret123 for /services/T0AAA/B0BBB/"
                                            "TOKENsecret123", n.secrets, NOTIFIER_SECRETS);
    ck_assert_msg(!strstr(m, "TOKENsecret123"), "%s", m);
    notify_slack_backend.done(&n);
    free(n.target);
    for (size_t i = 0; i < NOTIFIER_SECRETS; i++)
        free(n.secrets[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notify_slack");
    TCase *tc = tcase_create("slack");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, escape, 0, ELEMENTSOF(esc));
    tcase_add_test(tc, small_alert);
    tcase_add_test(tc, storm_within_limits);
    tcase_add_test(tc, resolved_and_test);
    tcase_add_test(tc, init_secrets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
