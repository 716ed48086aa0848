/* The rest of delivery that needs no network: the Alertmanager and SNS payloads, secret handling
 * (URL redaction, scrubbing, secret files), the backoff arithmetic, and the engine itself driven
 * with a fake clock over file notifiers: retry schedule, in-order delivery after a failure, an
 * unavailable SNS notifier (old libcurl) reported, its alerts parked as dead, and the operator told
 * once through the other notifier. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "notify.h"
#include "notify_backend.h"
#include "util.h"

static void mk(alert *a, int i)
{
    *a = (alert){ .rule = xstrdup("protected_mode"), .severity = xstrdup("critical"), .title = xasprintf("title %d", i),
                  .text = xstrdup("Cluster is in protected mode"), .count = 3,
                  .first_seen = 1769191594184000, .last_seen = 1769191622010000 };
    fields_set(&a->labels, "cluster", "demo");
    fields_set(&a->labels, "my-label", "x");
    fields_set(&a->labels, "1st", "y");
    fields_set(&a->fields, "nodes", "q-dy-c5-[1-3]");
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

START_TEST(alertmanager_json)
{
    alert a;
    mk(&a, 0);
    _cleanup_free_ char *p = alertmanager_payload(&a, NULL, 1);
    json_object *arr = json_tokener_parse(p);
    ck_assert_uint_eq(json_object_array_length(arr), 1);
    json_object *al = json_object_array_get_idx(arr, 0), *l = get(al, "labels"), *an = get(al, "annotations");
    ck_assert_str_eq(json_object_get_string(get(l, "alertname")), "protected_mode");
    ck_assert_str_eq(json_object_get_string(get(l, "severity")), "critical");
    ck_assert_str_eq(json_object_get_string(get(l, "cluster")), "demo");
    ck_assert_str_eq(json_object_get_string(get(l, "my_label")), "x");
    ck_assert_str_eq(json_object_get_string(get(l, "_1st")), "y");
    ck_assert_str_eq(json_object_get_string(get(an, "summary")), "title 0");
    ck_assert_str_eq(json_object_get_string(get(an, "description")), "Cluster is in protected mode");
    ck_assert_str_eq(json_object_get_string(get(an, "nodes")), "q-dy-c5-[1-3]");
    ck_assert_str_eq(json_object_get_string(get(al, "startsAt")), "2026-01-23T18:06:34.184Z");
    ck_assert_ptr_null(get(al, "endsAt"));
    json_object_put(arr);
    a.resolved = true;
    _cleanup_free_ char *q = alertmanager_payload(&a, NULL, 1);
    arr = json_tokener_parse(q);
    ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(arr, 0), "endsAt")),
                     "2026-01-23T18:07:02.010Z");
    json_object_put(arr);
    alert_clear(&a);
}
END_TEST

static char *form_value(const char *body, const char *name)
{
    _cleanup_free_ char *key = xasprintf("&%s=", name);
    const char *p = strstr(body, key);
    if (!p)
        return NULL;
    p += strlen(key);
    strbuf b = {0};
    for (; *p && *p != '&'; p++) {
        if (*p == '%') {
            char hex[3] = { p[1], p[2], 0 };
            strbuf_addc(&b, (char)strtol(hex, NULL, 16));
            p += 2;
        } else {
            strbuf_addc(&b, *p);
        }
    }
    return strbuf_take(&b);
}

START_TEST(sns_form)
{
    alert a;
    mk(&a, 0);
    free(a.title);
    a.title = xstrdup("n\xc3\xb6" "de\r\ndown " "0123456789012345678901234567890123456789012345678901234567890123456789");
    _cleanup_free_ char *p = sns_publish_body(&a, "arn:aws:sns:eu-west-1:123456789012:alerts");
    ck_assert(str_startswith(p, "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A"));
    _cleanup_free_ char *subj = form_value(p, "Subject"), *msg = form_value(p, "Message");
    ck_assert_uint_lt(strlen(subj), 100);
    for (const char *c = subj; *c; c++)
        ck_assert(*c >= 0x20 && *c < 0x7f);
    ck_assert(str_startswith(subj, "[FIRING critical] demo n??de  down"));
    ck_assert(strstr(msg, "q-dy-c5-[1-3]"));
    ck_assert_ptr_null(strstr(p, "MessageGroupId"));
    _cleanup_free_ char *f = sns_publish_body(&a, "arn:aws:sns:eu-west-1:123456789012:alerts.fifo");
    _cleanup_free_ char *g = form_value(f, "MessageGroupId"), *d = form_value(f, "MessageDeduplicationId");
    ck_assert_str_eq(g, "protected_mode");
    ck_assert_uint_eq(strlen(d), 32);
    alert_clear(&a);
    _cleanup_free_ char *r1 = sns_region_of("arn:aws:sns:us-east-2:1:t"), *r2 = sns_region_of("arn:aws-cn:sns:cn-north-1:1:t");
    ck_assert_str_eq(r1, "us-east-2");
    ck_assert_str_eq(r2, "cn-north-1");
    ck_assert_ptr_null(sns_region_of("nonsense"));
}
END_TEST

static const struct {
    const char *url, *want;
} redact[] = {
    { "https://hooks.slack.com/services/T0/B0/secret", "https://hooks.slack.com" },
    { "smtp://user:pass@mail.example.com:587/x", "smtp://mail.example.com:587" },
    { "http://127.0.0.1:9093", "http://127.0.0.1:9093" },
    { "https://am.example/?token=abc", "https://am.example" },
    { "not a url", "(url)" },
};

START_TEST(url_redaction)
{
    _cleanup_free_ char *r = url_redact(redact[_i].url);
    ck_assert_str_eq(r, redact[_i].want);
}
END_TEST

START_TEST(secrets)
{
    char *sec[] = { "https://hooks.slack.com/services/T0/B0/XYZ", "/services/T0/B0/XYZ", NULL, "" };
    _cleanup_free_ char *s = redact_secrets("POST https://hooks.slack.com/services/T0/B0/XYZ failed; path "
                                            "/services/T0/B0/XYZ", sec, 4);
    ck_assert_str_eq(s, "POST \xe2\x80\xa6 failed; path \xe2\x80\xa6");
    char tmpl[] = "/tmp/pcmon-secret-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "  hunter2 \nsecond line\n", 23), 23);
    close(fd);
    char *pw = NULL;
    ck_assert_int_eq(read_secret(tmpl, &pw), 0);
    ck_assert_str_eq(pw, "hunter2");
    free(pw);
    unlink(tmpl);
    ck_assert_int_lt(read_secret(tmpl, &pw), 0);
}
END_TEST

START_TEST(backoff)
{
    uint64_t st = 42, base = USEC_PER_SEC, max = 8 * USEC_PER_SEC;
    static const uint64_t full[] = { 1, 2, 4, 8, 8, 8 };
    for (unsigned k = 0; k < 200; k++)
        for (unsigned a = 1; a <= ELEMENTSOF(full); a++) {
            uint64_t d = notify_backoff(base, max, a, &st), f = full[a - 1] * USEC_PER_SEC;
            ck_assert_uint_ge(d, f / 2);   /* equal jitter: half fixed, half random */
            ck_assert_uint_le(d, f);
        }
    uint64_t s1 = 7, s2 = 7;
    ck_assert_uint_eq(notify_backoff(base, max, 3, &s1), notify_backoff(base, max, 3, &s2));   /* seeded */
}
END_TEST

typedef struct rec {
    unsigned n[NEV_INSECURE + 1];
    char last[512];
} rec;

static void on_event(void *ud, const notify_event *ev)
{
    rec *r = ud;
    r->n[ev->kind]++;
    snprintf(r->last, sizeof r->last, "%s", ev->message);
}

START_TEST(engine_file_and_unavailable)
{
    char tmpl[] = "/tmp/pcmon-engine-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    _cleanup_free_ char *yaml = xasprintf("state_dir: %s\nnotifiers:\n"
                                          "  - name: audit\n    type: file\n    path: %s/out/a.jsonl\n"
                                          "    retry_base: 1s\n    retry_max: 4s\n"
                                          "  - name: sns\n    type: sns\n    topic_arn: arn:aws:sns:eu-west-1:1:t\n",
                                          tmpl, tmpl);
    config_errors errs = {0};
    pcmon_config *cfg = config_load_buffer("t.yaml", yaml, strlen(yaml), &errs);
    ck_assert_ptr_nonnull(cfg);
    spool *sp;
    ck_assert_int_eq(spool_open(NULL, NULL, 0, &sp), 0);
    rec r = {0};
    notify_hooks h = { .event = on_event, .userdata = &r, .seed = 1, .curl_version = 0x075100 };
    notify *e = notify_new(cfg, sp, &h, &errs);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strstr(errs.v[0].msg, "SNS unavailable: libcurl 7.81.0"), "%s", errs.v[0].msg);
    ck_assert_uint_eq(r.n[NEV_UNAVAILABLE], 1);
    uint64_t t = 1769191594000000;
    for (int i = 0; i < 3; i++) {
        alert a;
        mk(&a, i);
        ck_assert_int_eq(notify_submit(e, &a, t), 0);
        alert_clear(&a);
    }
    notify_process(e, t);
    ck_assert_uint_eq(r.n[NEV_DEAD], 3);   /* sns: every alert parked with the reason */
    ck_assert_uint_eq(r.n[NEV_RETRY], 1);  /* audit: the head failed once, the rest wait behind it */
    uint64_t next = notify_next_deadline(e, t);
    ck_assert_uint_ge(next, t + USEC_PER_SEC / 2);
    ck_assert_uint_le(next, t + USEC_PER_SEC);
    notify_process(e, next - 1);
    ck_assert_uint_eq(r.n[NEV_RETRY], 1);  /* nothing before its time */
    _cleanup_free_ char *out = xasprintf("%s/out", tmpl);
    ck_assert_int_eq(mkdir(out, 0700), 0);
    notify_process(e, next);
    ck_assert_uint_eq(r.n[NEV_DELIVERED], 4);   /* the three, and the notice that sns is failing */
    ck_assert_uint_eq(notify_pending(e), 0);
    size_t n;
    const notify_stat *st = notify_stats(e, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(st[0].ok, 4);
    ck_assert_uint_eq(st[0].failed, 1);
    ck_assert_ptr_null(st[0].last_error);
    ck_assert_uint_eq(st[1].dead, 3);
    ck_assert(!st[1].available);
    _cleanup_free_ char *path = xasprintf("%s/out/a.jsonl", tmpl), *text = NULL;
    size_t len;
    ck_assert_int_eq(read_file(path, 1 << 20, &text, &len), 0);
    const char *p0 = strstr(text, "title 0"), *p1 = strstr(text, "title 1"), *p2 = strstr(text, "title 2");
    ck_assert(p0 && p1 && p2 && p0 < p1 && p1 < p2);   /* in order */
    ck_assert(strstr(p2, "pcmon_notifier_failed"));
    notify_free(e);
    spool_free(sp);
    config_free(cfg);
    config_errors_free(&errs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notify_misc");
    TCase *tc = tcase_create("misc");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, alertmanager_json);
    tcase_add_test(tc, sns_form);
    tcase_add_loop_test(tc, url_redaction, 0, ELEMENTSOF(redact));
    tcase_add_test(tc, secrets);
    tcase_add_test(tc, backoff);
    tcase_add_test(tc, engine_file_and_unavailable);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
