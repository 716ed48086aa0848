/* The delivery spool: durable puts that survive a reopen in order, route bookkeeping (done entries
 * removed, dead ones kept), per-notifier FIFO, caps that drop the oldest but never a kept entry,
 * age expiry, corrupt and half-written files skipped and counted, the lock, and the memory-only
 * mode. Each test works in its own temp directory. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "spool.h"
#include "util.h"

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/pcmon-spool-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return xasprintf("%s/spool", tmpl);
}

static void mk_alert(alert *a, int i)
{
    *a = (alert){ .rule = xasprintf("rule_%d", i), .severity = xstrdup("warning"), .title = xasprintf("t%d", i),
                  .text = xstrdup("x"), .count = 1, .first_seen = 1000, .last_seen = 2000 };
    fields_set(&a->labels, "cluster", "demo");
}

static char *names2[] = { "slack", "mail" };

static spool_entry *put(spool *s, int i, size_t nn, uint64_t now)
{
    alert a;
    mk_alert(&a, i);
    spool_entry *e = NULL;
    ck_assert_int_eq(spool_put(s, &a, names2, nn, now, &e), 0);
    alert_clear(&a);
    return e;
}

static size_t count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += strlen(de->d_name) > strlen(suffix) && str_eq(de->d_name + strlen(de->d_name) - strlen(suffix), suffix);
    if (d)
        closedir(d);
    return n;
}

START_TEST(put_reopen_order)
{
    _cleanup_free_ char *dir = tmpdir();
    spool *s;
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    for (int i = 0; i < 5; i++)
        ck_assert(put(s, i, 2, 100 + (uint64_t)i)->durable);
    ck_assert_uint_eq(count_files(dir, ".json"), 5);
    spool_free(s);
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    ck_assert_uint_eq(spool_count(s), 5);
    for (size_t i = 0; i < 5; i++) {
        spool_entry *e = spool_nth(s, i);
        ck_assert_uint_eq(e->seq, i + 1);
        ck_assert_uint_eq(e->enqueued, 100 + i);
        ck_assert_uint_eq(e->nroutes, 2);
        ck_assert_str_eq(e->routes[1].notifier, "mail");
        ck_assert_str_eq(fields_get(&e->a.labels, "cluster"), "demo");
    }
    spool_entry *e = put(s, 9, 1, 200);
    ck_assert_uint_eq(e->seq, 6);   /* numbering continues after a reopen */
    spool_free(s);
}
END_TEST

START_TEST(routes_done_dead_fifo)
{
    _cleanup_free_ char *dir = tmpdir();
    spool *s;
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    put(s, 0, 2, 1);
    put(s, 1, 2, 2);
    ck_assert_uint_eq(spool_next(s, "slack")->seq, 1);
    spool_entry *e = spool_get(s, 1);
    spool_route_of(e, "slack")->state = ROUTE_DONE;
    ck_assert_int_eq(spool_save(s, e), 0);
    ck_assert_uint_eq(spool_next(s, "slack")->seq, 2);   /* FIFO per notifier */
    ck_assert_uint_eq(spool_next(s, "mail")->seq, 1);
    e = spool_get(s, 1);
    spool_route *r = spool_route_of(e, "mail");
    r->state = ROUTE_DEAD;
    r->error = xstrdup("HTTP 404 channel_not_found");
    ck_assert_int_eq(spool_save(s, e), 0);
    spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.depth, 1);
    ck_assert_uint_eq(st.dead, 1);
    spool_free(s);
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);   /* dead state and reason survive */
    e = spool_get(s, 1);
    ck_assert_int_eq(spool_route_of(e, "mail")->state, ROUTE_DEAD);
    ck_assert_str_eq(spool_route_of(e, "mail")->error, "HTTP 404 channel_not_found");
    ck_assert_uint_eq(spool_next(s, "mail")->seq, 2);
    e = spool_get(s, 2);
    spool_route_of(e, "slack")->state = ROUTE_DONE;
    spool_route_of(e, "mail")->state = ROUTE_DONE;
    ck_assert_int_eq(spool_save(s, e), 0);   /* every route done: gone */
    ck_assert_ptr_null(spool_get(s, 2));
    ck_assert_uint_eq(spool_purge_dead(s), 1);
    ck_assert_uint_eq(count_files(dir, ".json"), 0);
    spool_free(s);
}
END_TEST

START_TEST(caps_drop_oldest_never_kept)
{
    _cleanup_free_ char *dir = tmpdir();
    spool_limits lim = { .max_alerts = 3 };
    spool *s;
    ck_assert_int_eq(spool_open(dir, &lim, 0, &s), 0);
    spool_entry *k = put(s, 0, 1, 1);
    k->keep = true;
    spool_save(s, k);
    for (int i = 1; i <= 4; i++)
        put(s, i, 1, 1 + (uint64_t)i);
    ck_assert_uint_eq(spool_count(s), 3);
    ck_assert_uint_eq(spool_nth(s, 0)->seq, 1);   /* the kept one stays */
    ck_assert_uint_eq(spool_nth(s, 1)->seq, 4);
    ck_assert_uint_eq(spool_nth(s, 2)->seq, 5);
    spool_drops d;
    ck_assert(spool_take_dropped(s, &d));
    ck_assert_uint_eq(d.count, 2);
    ck_assert_str_eq(d.rules, "rule_1, rule_2");
    ck_assert_uint_eq(d.first_enqueued, 2);
    free(d.rules);
    ck_assert(!spool_take_dropped(s, &d));
    ck_assert_uint_eq(count_files(dir, ".json"), 3);
    spool_free(s);
    ck_assert_int_eq(spool_open(dir, &lim, 0, &s), 0);
    ck_assert(spool_get(s, 1)->keep);   /* persisted */
    spool_free(s);
}
END_TEST

START_TEST(byte_cap_and_age)
{
    _cleanup_free_ char *dir = tmpdir();
    spool *s;
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    size_t one = put(s, 0, 2, 10)->size;
    spool_free(s);
    spool_limits lim = { .max_bytes = one * 3 + one / 2, .max_age = 100 };
    ck_assert_int_eq(spool_open(dir, &lim, 0, &s), 0);
    for (int i = 1; i < 6; i++)
        put(s, i, 2, 10 * (uint64_t)i + 10);
    spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_le(st.bytes, lim.max_bytes);
    ck_assert_uint_eq(st.dropped, 3);
    ck_assert_uint_eq(spool_expire(s, 145), 1);   /* enqueued 40: older than 100 at 145 */
    ck_assert_uint_eq(spool_nth(s, 0)->enqueued, 50);
    spool_free(s);
}
END_TEST

static void write_text(const char *dir, const char *name, const char *text)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
    ck_assert_int_eq(write_file_atomic(p, text, strlen(text), 0600), 0);
}

START_TEST(corrupt_files_skipped)
{
    _cleanup_free_ char *dir = tmpdir();
    spool *s;
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    put(s, 0, 1, 1);
    spool_free(s);
    write_text(dir, "0000000000000007.json", "{\"seq\": 7, \"alert\": ");
    write_text(dir, "0000000000000008.json", "[]");
    write_text(dir, "0000000000000009.json", "{\"seq\":3,\"alert\":{},\"routes\":[]}");   /* seq mismatch */
    write_text(dir, "0000000000000010.json.tmp.42", "{");
    write_text(dir, "README", "not an entry");
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    ck_assert_uint_eq(spool_count(s), 1);
    spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.corrupt, 4);
    ck_assert_uint_eq(count_files(dir, ".corrupt"), 3);
    ck_assert_uint_eq(count_files(dir, ".42"), 0);
    spool_free(s);
}
END_TEST

START_TEST(lock_and_memory_mode)
{
    _cleanup_free_ char *dir = tmpdir();
    spool *s, *t;
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    ck_assert_int_eq(spool_open(dir, NULL, 0, &t), -EBUSY);
    ck_assert_int_eq(spool_open(dir, NULL, SPOOL_READONLY, &t), 0);   /* status may look */
    spool_free(t);
    spool_free(s);
    ck_assert_int_eq(spool_open(NULL, NULL, 0, &s), 0);
    spool_entry *e = put(s, 1, 1, 5);
    ck_assert(!e->durable);
    ck_assert_uint_eq(spool_count(s), 1);
    spool_free(s);
}
END_TEST

START_TEST(write_error_keeps_in_memory)
{
    _cleanup_free_ char *dir = tmpdir();
    spool *s;
    ck_assert_int_eq(spool_open(dir, NULL, 0, &s), 0);
    _cleanup_free_ char *blocker = xasprintf("%s/0000000000000001.json.tmp.%ld", dir, (long)getpid());
    ck_assert_int_eq(mkdir(blocker, 0700), 0);   /* the temp file cannot be created */
    alert a;
    mk_alert(&a, 1);
    spool_entry *e = NULL;
    ck_assert_int_lt(spool_put(s, &a, names2, 1, 1, &e), 0);
    ck_assert_ptr_nonnull(e);
    ck_assert(!e->durable);
    ck_assert_ptr_eq(spool_next(s, "slack"), e);
    spool_stats st;
    spool_get_stats(s, &st);
    ck_assert_uint_eq(st.write_errors, 1);
    alert_clear(&a);
    rmdir(blocker);
    spool_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = tcase_create("spool");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, put_reopen_order);
    tcase_add_test(tc, routes_done_dead_fifo);
    tcase_add_test(tc, caps_drop_oldest_never_kept);
    tcase_add_test(tc, byte_cap_and_age);
    tcase_add_test(tc, corrupt_files_skipped);
    tcase_add_test(tc, lock_and_memory_mode);
    tcase_add_test(tc, write_error_keeps_in_memory);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
