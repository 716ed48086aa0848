/* The grouper with a fake clock: every timer and transition, persistence, and a randomized
 * invariant (no match is lost, no two open groups share a key). */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "grouper.h"
#include "macro.h"
#include "util.h"

#define S(x) ((uint64_t)(x) * USEC_PER_SEC)
#define T0 S(1700000000)

static const char CONFIG[] =
    "state_dir: /tmp\n"
    "grouping: {group_wait: 10s, state_group_wait: 0s, group_interval: 15m, repeat_interval: 4h,\n"
    "           pending_timeout: 10m, max_lines: 5}\n"
    "sources:\n"
    "  - {name: a, path: /var/log/a}\n"
    "rules:\n"
    "  - id: ev\n"
    "    match: 'E (?<queue>\\w+)'\n"
    "    group_by: [queue]\n"
    "    title: 'ev in {queue}: {count}'\n"
    "  - id: st\n"
    "    kind: state\n"
    "    match: 'S on'\n"
    "    resolve: 'S off'\n"
    "    pending: 'S clearing'\n"
    "  - id: hb\n"
    "    kind: state\n"
    "    match: 'H stale (?<hb>\\d+)'\n"
    "    resolve: 'H latest (?<hb>\\d+)'\n"
    "    resolve_changed: hb\n"
    "  - id: quiet\n"
    "    kind: flatline\n"
    "    silence: 10m\n";

typedef struct sinkbuf {
    alert v[64];
    size_t n;
} sinkbuf;

static void collect(void *ud, const alert *a)
{
    sinkbuf *s = ud;
    ck_assert_uint_lt(s->n, ELEMENTSOF(s->v));
    alert_copy(&s->v[s->n++], a);
}

static void sink_clear(sinkbuf *s)
{
    for (size_t i = 0; i < s->n; i++)
        alert_clear(&s->v[i]);
    s->n = 0;
}

static pcmon_config *cfg;
static sinkbuf out;
static grouper *g;

static void setup(void)
{
    config_errors errs = {0};
    cfg = config_load_buffer("test.yaml", CONFIG, sizeof CONFIG - 1, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%d:%d: %s\n", errs.v[i].line, errs.v[i].col, errs.v[i].msg);
    ck_assert_ptr_nonnull(cfg);
    config_errors_free(&errs);
    memset(&out, 0, sizeof out);
    g = grouper_new(cfg, collect, &out);
}

static void teardown(void)
{
    grouper_free(g);
    sink_clear(&out);
    config_free(cfg);
}

static size_t rule(const char *id)
{
    for (size_t i = 0; i < cfg->nrules; i++)
        if (str_eq(cfg->rules[i].id, id))
            return i;
    ck_abort_msg("no rule %s", id);
    return 0;
}

static void feed(const char *id, enum match_what w, const char *k, const char *v, uint64_t now)
{
    fieldset f = {0};
    if (k)
        fields_set(&f, k, v);
    char ref[64];
    snprintf(ref, sizeof ref, "a:%llu", (unsigned long long)(now / USEC_PER_SEC % 100000));
    grouper_match(g, rule(id), w, &f, ref, now, now);
    fields_free(&f);
}

START_TEST(event_waits_then_notifies_once)
{
    feed("ev", MATCH_FIRE, "queue", "q1", T0);
    feed("ev", MATCH_FIRE, "queue", "q1", T0 + S(2));
    ck_assert_uint_eq(out.n, 0);
    ck_assert_uint_eq(grouper_next_deadline(g), T0 + S(10));
    grouper_tick(g, T0 + S(10));
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].rule, "ev");
    ck_assert(!out.v[0].resolved);
    ck_assert_uint_eq(out.v[0].count, 2);
    ck_assert_str_eq(out.v[0].title, "ev in q1: 2");
    ck_assert_str_eq(fields_get(&out.v[0].labels, "queue"), "q1");
    /* absorbed: more of the same incident within group_interval is not a new message */
    feed("ev", MATCH_FIRE, "queue", "q1", T0 + S(600));
    feed("ev", MATCH_FIRE, "queue", "q1", T0 + S(1400));
    grouper_tick(g, T0 + S(1400) + S(899));
    ck_assert_uint_eq(out.n, 1);
    ck_assert_uint_eq(grouper_open_groups(g), 1);
    /* quiet for group_interval: the group closes; the next match is a new incident */
    grouper_tick(g, T0 + S(1400) + S(900));
    ck_assert_uint_eq(grouper_open_groups(g), 0);
    feed("ev", MATCH_FIRE, "queue", "q1", T0 + S(5000));
    grouper_tick(g, T0 + S(5010));
    ck_assert_uint_eq(out.n, 2);
    ck_assert_uint_eq(out.v[1].count, 1);
}
END_TEST

START_TEST(event_groups_by_label)
{
    feed("ev", MATCH_FIRE, "queue", "q1", T0);
    feed("ev", MATCH_FIRE, "queue", "q2", T0 + S(1));
    ck_assert_uint_eq(grouper_open_groups(g), 2);
    grouper_flush(g, T0 + S(1));
    ck_assert_uint_eq(out.n, 2);
}
END_TEST

START_TEST(event_repeats_only_with_news)
{
    uint64_t t = T0;
    feed("ev", MATCH_FIRE, "queue", "q", t);
    grouper_tick(g, t + S(10));
    ck_assert_uint_eq(out.n, 1);
    /* a match every 10 minutes keeps the incident open for 5 hours */
    for (t = T0 + S(600); t <= T0 + S(5 * 3600); t += S(600))
        feed("ev", MATCH_FIRE, "queue", "q", t);
    ck_assert_uint_eq(out.n, 2);
    ck_assert(strstr(out.v[1].title, "Still happening after 4h") != NULL);
    ck_assert_uint_gt(out.v[1].count, out.v[0].count);
}
END_TEST

START_TEST(state_fires_absorbs_resolves)
{
    feed("st", MATCH_FIRE, NULL, NULL, T0);
    ck_assert_uint_eq(out.n, 1);   /* state_group_wait 0: at once */
    feed("st", MATCH_FIRE, NULL, NULL, T0 + S(60));
    feed("st", MATCH_FIRE, NULL, NULL, T0 + S(120));
    ck_assert_uint_eq(out.n, 1);
    feed("st", MATCH_RESOLVE, NULL, NULL, T0 + S(300));
    ck_assert_uint_eq(out.n, 2);
    ck_assert(out.v[1].resolved);
    ck_assert_uint_eq(out.v[1].count, 3);
    ck_assert_uint_eq(out.v[1].nlines, 4);   /* three firing lines and the clearing line */
    ck_assert_uint_eq(grouper_open_groups(g), 0);
}
END_TEST

START_TEST(state_resolve_without_fire_is_silent)
{
    feed("st", MATCH_RESOLVE, NULL, NULL, T0);
    ck_assert_uint_eq(out.n, 0);
    ck_assert_uint_eq(grouper_open_groups(g), 0);
}
END_TEST

START_TEST(state_flapping)
{
    feed("st", MATCH_FIRE, NULL, NULL, T0);
    feed("st", MATCH_RESOLVE, NULL, NULL, T0 + S(1));
    feed("st", MATCH_FIRE, NULL, NULL, T0 + S(2));
    ck_assert_uint_eq(out.n, 3);
    ck_assert(!out.v[0].resolved && out.v[1].resolved && !out.v[2].resolved);
}
END_TEST

START_TEST(state_repeats_while_firing)
{
    feed("st", MATCH_FIRE, NULL, NULL, T0);
    ck_assert_uint_eq(grouper_next_deadline(g), T0 + S(4 * 3600));
    grouper_tick(g, T0 + S(4 * 3600) - 1);
    ck_assert_uint_eq(out.n, 1);
    grouper_tick(g, T0 + S(4 * 3600));
    ck_assert_uint_eq(out.n, 2);
    ck_assert(strstr(out.v[1].title, "Still firing after 4h") != NULL);
}
END_TEST

START_TEST(state_pending_timeout)
{
    feed("st", MATCH_FIRE, NULL, NULL, T0);
    feed("st", MATCH_PENDING, NULL, NULL, T0 + S(60));
    ck_assert_uint_eq(grouper_next_deadline(g), T0 + S(660));
    grouper_tick(g, T0 + S(660));
    ck_assert_uint_eq(out.n, 2);
    ck_assert(strstr(out.v[1].title, "Not cleared 10m after the clear was requested") != NULL);
    /* a clear in time says nothing more than resolved */
    feed("st", MATCH_RESOLVE, NULL, NULL, T0 + S(700));
    ck_assert_uint_eq(out.n, 3);
    ck_assert(out.v[2].resolved);
}
END_TEST

START_TEST(state_resolve_changed)
{
    feed("hb", MATCH_FIRE, "hb", "100", T0);
    feed("hb", MATCH_RESOLVE, "hb", "100", T0 + S(30));   /* same stale heartbeat: not a clear */
    ck_assert_uint_eq(out.n, 1);
    feed("hb", MATCH_RESOLVE, "hb", "200", T0 + S(60));
    ck_assert_uint_eq(out.n, 2);
    ck_assert(out.v[1].resolved);
}
END_TEST

START_TEST(flatline_fires_on_silence_and_resolves)
{
    grouper_activity(g, rule("quiet"), 0, "a:1", T0);
    ck_assert_uint_eq(grouper_next_deadline(g), T0 + S(600));
    grouper_tick(g, T0 + S(599));
    ck_assert_uint_eq(out.n, 0);
    grouper_tick(g, T0 + S(600));
    ck_assert_uint_eq(out.n, 1);
    ck_assert_str_eq(out.v[0].rule, "quiet");
    ck_assert_str_eq(fields_get(&out.v[0].labels, "source"), "a");
    grouper_tick(g, T0 + S(1200));
    ck_assert_uint_eq(out.n, 1);   /* one alert per silence */
    grouper_activity(g, rule("quiet"), 0, "a:2", T0 + S(1300));
    ck_assert_uint_eq(out.n, 2);
    ck_assert(out.v[1].resolved);
}
END_TEST

START_TEST(flatline_unarmed_stays_quiet)
{
    grouper_tick(g, T0 + S(100000));
    ck_assert_uint_eq(out.n, 0);
    ck_assert_uint_eq(grouper_next_deadline(g), USEC_INFINITY);
}
END_TEST

START_TEST(lines_are_capped_and_counted)
{
    for (int i = 0; i < 8; i++)
        feed("ev", MATCH_FIRE, "queue", "q", T0 + S(i));
    grouper_flush(g, T0 + S(8));
    ck_assert_uint_eq(out.v[0].nlines, 5);
    ck_assert_uint_eq(out.v[0].count, 8);
    ck_assert_uint_eq(grouper_get_stats(g)->lines_dropped, 3);
}
END_TEST

START_TEST(restart_while_firing_does_not_repage)
{
    feed("st", MATCH_FIRE, NULL, NULL, T0);
    ck_assert_uint_eq(out.n, 1);
    char *saved = grouper_save(g);
    grouper_free(g);
    g = grouper_new(cfg, collect, &out);
    ck_assert_int_eq(grouper_restore(g, saved, strlen(saved)), 0);
    free(saved);
    feed("st", MATCH_FIRE, NULL, NULL, T0 + S(60));
    ck_assert_uint_eq(out.n, 1);
    grouper_tick(g, T0 + S(4 * 3600));
    ck_assert_uint_eq(out.n, 2);   /* the repeat still comes on time */
    feed("st", MATCH_RESOLVE, NULL, NULL, T0 + S(4 * 3600 + 1));
    ck_assert_uint_eq(out.n, 3);
    ck_assert(out.v[2].resolved);
    ck_assert_uint_eq(out.v[2].count, 2);
}
END_TEST

START_TEST(restore_rejects_junk)
{
    static const char *junk[] = { "", "{", "[]", "{\"version\": 99, \"groups\": []}", "{\"groups\": 5}",
                                  "{\"version\": 1, \"groups\": [{\"rule\": \"nope\", \"key\": \"x\"}, 7]}" };
    feed("st", MATCH_FIRE, NULL, NULL, T0);
    for (size_t i = 0; i < ELEMENTSOF(junk); i++) {
        int r = grouper_restore(g, junk[i], strlen(junk[i]));
        if (i < 5) {
            ck_assert_int_lt(r, 0);
            ck_assert_uint_eq(grouper_open_groups(g), 1);   /* unchanged */
        } else {
            ck_assert_int_eq(r, 0);
            ck_assert_uint_eq(grouper_open_groups(g), 0);   /* unknown rule dropped */
        }
    }
}
END_TEST

static void assert_distinct_keys(void)
{
    char *saved = grouper_save(g);
    json_object *root = json_tokener_parse(saved), *groups;
    ck_assert(json_object_object_get_ex(root, "groups", &groups));
    size_t n = json_object_array_length(groups);
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++) {
            json_object *a, *b;
            json_object_object_get_ex(json_object_array_get_idx(groups, i), "key", &a);
            json_object_object_get_ex(json_object_array_get_idx(groups, k), "key", &b);
            ck_assert_str_ne(json_object_get_string(a), json_object_get_string(b));
        }
    json_object_put(root);
    free(saved);
}

/* Randomized invariant: whatever the order and timing, every fire match is accounted for in
 * exactly one group, and open groups have distinct keys. Bounded and seeded. */
START_TEST(random_invariants)
{
    unsigned seed = 12345u + (unsigned)_i;
    uint64_t t = T0, fires = 0;
    static const char *queues[] = { "a", "b", "c", "d" };
    for (int step = 0; step < 3000; step++) {
        t += S(rand_r(&seed) % 400);
        int what = rand_r(&seed) % 10;
        if (what < 6) {
            feed("ev", MATCH_FIRE, "queue", queues[rand_r(&seed) % 4], t);
            fires++;
        } else if (what < 8) {
            feed("st", MATCH_FIRE, NULL, NULL, t);
            fires++;
        } else if (what == 8)
            feed("st", MATCH_RESOLVE, NULL, NULL, t);
        else
            grouper_tick(g, t);
        if (out.n > 40)
            sink_clear(&out);
        ck_assert_uint_le(grouper_open_groups(g), 5);   /* 4 queues and one state at most */
        assert_distinct_keys();
        const grouper_stats *st = grouper_get_stats(g);
        ck_assert_uint_eq(st->closed_count + grouper_open_count(g), fires);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("grouper");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, event_waits_then_notifies_once);
    tcase_add_test(tc, event_groups_by_label);
    tcase_add_test(tc, event_repeats_only_with_news);
    tcase_add_test(tc, state_fires_absorbs_resolves);
    tcase_add_test(tc, state_resolve_without_fire_is_silent);
    tcase_add_test(tc, state_flapping);
    tcase_add_test(tc, state_repeats_while_firing);
    tcase_add_test(tc, state_pending_timeout);
    tcase_add_test(tc, state_resolve_changed);
    tcase_add_test(tc, flatline_fires_on_silence_and_resolves);
    tcase_add_test(tc, flatline_unarmed_stays_quiet);
    tcase_add_test(tc, lines_are_capped_and_counted);
    tcase_add_test(tc, restart_while_firing_does_not_repage);
    tcase_add_test(tc, restore_rejects_junk);
    tcase_add_loop_test(tc, random_invariants, 0, 5);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
