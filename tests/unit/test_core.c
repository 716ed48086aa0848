/* Small core helpers: timestamps, durations, the required-literal prefilter, fields. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "literal.h"
#include "macro.h"
#include "timeparse.h"
#include "util.h"

static const struct {
    const char *in;
    size_t consumed;
    const char *iso;
} ts_cases[] = {
    { "2024-10-14 06:21:39,234 - 41283 - [x] - ERROR - y", 23, "2024-10-14T06:21:39.234Z" },
    { "[2024-10-25T09:40:07.380] update_node: node", 25, "2024-10-25T09:40:07.380Z" },
    { "2024-10-14T06:26:02.578+00:00\"", 29, "2024-10-14T06:26:02.578Z" },
    { "2024-10-14T08:26:02.578+02:00", 29, "2024-10-14T06:26:02.578Z" },
    { "2024-12-03 03:10:46.137235+00:00. Current", 32, "2024-12-03T03:10:46.137Z" },
    { "[2026-03-25T18:22:21+00:00] FATAL: x", 27, "2026-03-25T18:22:21.000Z" },
    { "2024-02-29 23:59:59 tail", 19, "2024-02-29T23:59:59.000Z" },
    { "2026-01-23T18:06:34Z", 20, "2026-01-23T18:06:34.000Z" },
};

START_TEST(timestamps)
{
    uint64_t us = 0;
    char buf[40];
    size_t n = ts_parse(ts_cases[_i].in, strlen(ts_cases[_i].in), &us);
    ck_assert_uint_eq(n, ts_cases[_i].consumed);
    ck_assert_str_eq(ts_format(us, buf, sizeof buf), ts_cases[_i].iso);
}
END_TEST

START_TEST(timestamps_rejected)
{
    static const char *bad[] = { "", "Please check and terminate", "2024-13-01 00:00:00,000", "2024-10-14",
                                 "2024-10-14 06:21", "1969-12-31 23:59:59", "2024-10-14X06:21:39",
                                 "2024-10-14 06:21:39,", "{\"datetime\": 1}", "2024-10-14 25:00:00" };
    uint64_t us = 42;
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        ck_assert_msg(ts_parse(bad[i], strlen(bad[i]), &us) == 0, "accepted %s", bad[i]);
    /* never reads past len */
    ck_assert_uint_eq(ts_parse("2024-10-14 06:21:39,234", 18, &us), 0);
}
END_TEST

START_TEST(durations)
{
    static const struct { const char *in; uint64_t us; } ok[] = {
        { "0", 0 }, { "90", 90 * USEC_PER_SEC }, { "90s", 90 * USEC_PER_SEC }, { "10m", 600 * USEC_PER_SEC },
        { "4h", 4 * 3600 * USEC_PER_SEC }, { "1d", 86400 * USEC_PER_SEC }, { "250ms", 250 * USEC_PER_MSEC },
        { "1h30m", 5400 * USEC_PER_SEC },
    };
    static const char *bad[] = { "", "m", "10x", "-1s", "1.5s", "10 m", "99999999999999999999d", "5mss" };
    uint64_t us;
    char buf[32];
    for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
        ck_assert_int_eq(parse_duration(ok[i].in, &us), 0);
        ck_assert_uint_eq(us, ok[i].us);
    }
    for (size_t i = 0; i < ELEMENTSOF(bad); i++)
        ck_assert_msg(parse_duration(bad[i], &us) == -EINVAL, "accepted %s", bad[i]);
    ck_assert_str_eq(format_duration(5400 * USEC_PER_SEC, buf, sizeof buf), "1h30m");
    ck_assert_str_eq(format_duration(0, buf, sizeof buf), "0ms");
    ck_assert_str_eq(format_duration(600 * USEC_PER_SEC, buf, sizeof buf), "10m");
}
END_TEST

static const struct {
    const char *pattern;
    const char *literal;
} lit_cases[] = {
    { "Cluster is in protected mode", "Cluster is in protected mode" },
    { " - WARNING - Found the following bootstrap failure nodes: \\(x(?<n>\\d+)\\) (?<nodes>.*)",
      " - WARNING - Found the following bootstrap failure nodes: (x" },
    { "abc|def", "" },
    { "(?i)protected", "" },
    { "ab?cdef", "cdef" },
    { "abcd*ef", "abc" },
    { "x{2}yyyy", "yyyy" },
    { "[abc]+ long literal here", " long literal here" },
    { "a(b|c)d", "a" },
    { "\\d+ seconds", " seconds" },
    { "Timeout of (?<t>\\d+) seconds has expired!", " seconds has expired!" },
    { "\\[ERROR\\] Command chef", "[ERROR] Command chef" },
    { "^start.end$", "start" },
};

START_TEST(required_literal)
{
    char *l = literal_required(lit_cases[_i].pattern);
    ck_assert_str_eq(l, lit_cases[_i].literal);
    free(l);
}
END_TEST

START_TEST(fieldsets)
{
    fieldset f = {0};
    fields_set(&f, "a", "1");
    fields_set(&f, "b", "2");
    fields_set(&f, "a", "3");
    fields_set_default(&f, "b", "9");
    ck_assert_uint_eq(f.n, 2);
    ck_assert_str_eq(fields_get(&f, "a"), "3");
    ck_assert_str_eq(fields_get(&f, "b"), "2");
    fields_remove(&f, "a");
    ck_assert_ptr_null(fields_get(&f, "a"));
    fields_setn(&f, "c", "xyz", 2);
    ck_assert_str_eq(fields_get(&f, "c"), "xy");
    fields_free(&f);
    ck_assert_uint_eq(f.n, 0);
}
END_TEST

START_TEST(atomic_write_and_read)
{
    char dir[] = "/tmp/pcmon-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/state.json", dir), *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(write_file_atomic(path, "hello", 5, 0600), 0);
    ck_assert_int_eq(write_file_atomic(path, "world!", 6, 0600), 0);
    ck_assert_int_eq(read_file(path, 100, &data, &len), 0);
    ck_assert_str_eq(data, "world!");
    free(data);
    ck_assert_int_eq(read_file(path, 3, &data, &len), -EFBIG);
    unlink(path);
    rmdir(dir);
    free(path);
    ck_assert_int_eq(write_file_atomic("/nonexistent-dir/x", "a", 1, 0600), -ENOENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, timestamps, 0, ELEMENTSOF(ts_cases));
    tcase_add_test(tc, timestamps_rejected);
    tcase_add_test(tc, durations);
    tcase_add_loop_test(tc, required_literal, 0, ELEMENTSOF(lit_cases));
    tcase_add_test(tc, fieldsets);
    tcase_add_test(tc, atomic_write_and_read);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
