/* Storm control: the per-notifier ceiling, the summary, and that nothing is dropped silently. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "storm.h"
#include "util.h"

#define S(x) ((uint64_t)(x) * USEC_PER_SEC)
#define T0 S(1700000000)

static const char CONFIG[] =
    "state_dir: /tmp\n"
    "grouping: {storm_per_minute: 2}\n"
    "sources: [{name: a, path: /a}]\n"
    "rules: [{id: r1, match: x}, {id: r2, match: y, notify: [slack]}]\n"
    "notifiers:\n"
    "  - {name: slack, type: file, path: /tmp/s}\n"
    "  - {name: audit, type: file, path: /tmp/a}\n";

typedef struct seen {
    char rule[32][32];
    char notify[32][64];
    unsigned held[32];
    size_t n;
} seen;

static void collect(void *ud, const alert *a)
{
    seen *s = ud;
    ck_assert_uint_lt(s->n, 32);
    snprintf(s->rule[s->n], 32, "%s", a->rule);
    s->notify[s->n][0] = 0;
    for (size_t i = 0; i < a->nnotify; i++)
        snprintf(s->notify[s->n] + strlen(s->notify[s->n]), 64 - strlen(s->notify[s->n]), "%s%s", i ? "," : "",
                 a->notify[i]);
    const char *h = fields_get(&a->fields, "held");
    s->held[s->n] = h ? (unsigned)atoi(h) : 0;
    s->n++;
}

static alert make(const char *rule, const char *notify)
{
    alert a = {0};
    a.rule = (char *)rule;
    if (notify) {
        static char *one[1];
        one[0] = (char *)notify;
        a.notify = one;
        a.nnotify = 1;
    }
    return a;
}

START_TEST(ceiling_and_summary)
{
    config_errors errs = {0};
    pcmon_config *c = config_load_buffer("t.yaml", CONFIG, sizeof CONFIG - 1, &errs);
    ck_assert_ptr_nonnull(c);
    seen out = {0};
    storm *s = storm_new(c, collect, &out);
    storm_tick(s, T0);
    for (int i = 0; i < 5; i++) {
        alert a = make("r1", NULL);
        storm_emit(s, &a);
    }
    /* two pass to both notifiers; the rest is held from both */
    ck_assert_uint_eq(out.n, 2);
    ck_assert_str_eq(out.notify[0], "");
    ck_assert_uint_eq(storm_held(s), 6);
    ck_assert_uint_eq(storm_next_deadline(s), T0 + S(60));
    storm_tick(s, T0 + S(59));
    ck_assert_uint_eq(out.n, 2);
    storm_tick(s, T0 + S(60));
    ck_assert_uint_eq(out.n, 4);   /* one summary per notifier */
    ck_assert_str_eq(out.rule[2], "pcmon_storm");
    ck_assert_uint_eq(out.held[2], 3);
    ck_assert_str_eq(out.notify[2], "slack");
    ck_assert_str_eq(out.notify[3], "audit");
    /* a new minute starts fresh */
    alert a = make("r1", NULL);
    storm_emit(s, &a);
    ck_assert_uint_eq(out.n, 5);
    storm_free(s);
    config_free(c);
}
END_TEST

START_TEST(narrows_to_notifiers_under_the_ceiling)
{
    config_errors errs = {0};
    pcmon_config *c = config_load_buffer("t.yaml", CONFIG, sizeof CONFIG - 1, &errs);
    seen out = {0};
    storm *s = storm_new(c, collect, &out);
    storm_tick(s, T0);
    alert a = make("r2", "slack");
    storm_emit(s, &a);
    storm_emit(s, &a);   /* slack is now at its ceiling, audit untouched */
    alert b = make("r1", NULL);
    storm_emit(s, &b);
    ck_assert_uint_eq(out.n, 3);
    ck_assert_str_eq(out.notify[2], "audit");
    storm_free(s);
    config_free(c);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("storm");
    TCase *tc = tcase_create("storm");
    tcase_add_test(tc, ceiling_and_summary);
    tcase_add_test(tc, narrows_to_notifiers_under_the_ceiling);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
