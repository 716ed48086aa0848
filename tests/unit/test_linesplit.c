/* The line splitter: table-driven cases, then the invariant that any chunking of a byte stream
 * yields exactly the lines a reference split of the whole stream gives. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "linesplit.h"
#include "macro.h"
#include "util.h"

typedef struct got {
    strbuf lines[256];
    bool cut[256];
    size_t n;
} got;

static void collect(void *ud, const char *data, size_t len, bool cut)
{
    got *g = ud;
    ck_assert_uint_lt(g->n, ELEMENTSOF(g->lines));
    strbuf_add(&g->lines[g->n], data, len);
    g->cut[g->n] = cut;
    g->n++;
}

static void got_free(got *g)
{
    for (size_t i = 0; i < ELEMENTSOF(g->lines); i++)
        strbuf_free(&g->lines[i]);
}

typedef struct table_case {
    const char *name;
    size_t max_line;
    const char *chunks[6];     /* fed in order; NULL ends */
    const char *want[6];       /* lines; a leading '!' marks a cut line */
    size_t pending;
} table_case;

static const table_case cases[] = {
    { "one line", 16, { "abc\n" }, { "abc" }, 0 },
    { "empty lines", 16, { "\n\n" }, { "", "" }, 0 },
    { "partial waits", 16, { "abc" }, { NULL }, 3 },
    { "partial completed", 16, { "ab", "c\nde" }, { "abc" }, 2 },
    { "newline alone", 16, { "abc", "\n" }, { "abc" }, 0 },
    { "exactly the cap", 4, { "abcd\n" }, { "abcd" }, 0 },
    { "cap plus one", 4, { "abcde\nxy\n" }, { "!abcd", "xy" }, 0 },
    { "cut across chunks", 4, { "ab", "cdef", "gh\nok\n" }, { "!abcd", "ok" }, 0 },
    { "cut while held", 4, { "abcd", "e" }, { "!abcd" }, 0 },
    { "cap reached, newline next", 4, { "abcd", "\n" }, { "abcd" }, 0 },
    { "skip survives chunks", 3, { "abcdef", "ghi", "jk\nz\n" }, { "!abc", "z" }, 0 },
    { "crlf kept", 16, { "a\r\n" }, { "a\r" }, 0 },
};

START_TEST(table)
{
    const table_case *tc = &cases[_i];
    got g = {0};
    linesplit ls;
    linesplit_init(&ls, tc->max_line, false);
    for (size_t i = 0; i < ELEMENTSOF(tc->chunks) && tc->chunks[i]; i++)
        linesplit_feed(&ls, tc->chunks[i], strlen(tc->chunks[i]), collect, &g);
    size_t want = 0;
    while (want < ELEMENTSOF(tc->want) && tc->want[want])
        want++;
    ck_assert_msg(g.n == want, "%s: %zu lines, want %zu", tc->name, g.n, want);
    for (size_t i = 0; i < want; i++) {
        bool cut = tc->want[i][0] == '!';
        const char *w = tc->want[i] + cut;
        ck_assert_msg(g.lines[i].len == strlen(w) && memcmp(g.lines[i].s, w, g.lines[i].len) == 0,
                      "%s: line %zu", tc->name, i);
        ck_assert_msg(g.cut[i] == cut, "%s: cut flag of line %zu", tc->name, i);
    }
    ck_assert_msg(linesplit_pending(&ls) == tc->pending, "%s: pending %zu", tc->name, linesplit_pending(&ls));
    linesplit_free(&ls);
    got_free(&g);
}
END_TEST

START_TEST(binary_bytes)
{
    static const char in[] = "a\0b\xff\xfe\n\0\n";
    got g = {0};
    linesplit ls;
    linesplit_init(&ls, 64, false);
    linesplit_feed(&ls, in, sizeof in - 1, collect, &g);
    ck_assert_uint_eq(g.n, 2);
    ck_assert_uint_eq(g.lines[0].len, 5);
    ck_assert(memcmp(g.lines[0].s, "a\0b\xff\xfe", 5) == 0);
    ck_assert_uint_eq(g.lines[1].len, 1);
    ck_assert_int_eq(g.lines[1].s[0], 0);
    linesplit_free(&ls);
    got_free(&g);
}
END_TEST

START_TEST(flush_and_restore_skip)
{
    got g = {0};
    linesplit ls;
    linesplit_init(&ls, 8, false);
    linesplit_feed(&ls, "tail", 4, collect, &g);
    ck_assert(linesplit_flush(&ls, collect, &g));
    ck_assert(!linesplit_flush(&ls, collect, &g));
    ck_assert_uint_eq(g.n, 1);
    ck_assert_str_eq(g.lines[0].s, "tail");
    /* a restart inside a cut line resumes dropping up to its newline */
    linesplit_reset(&ls, true);
    linesplit_feed(&ls, "rest of it\nnext\n", 16, collect, &g);
    ck_assert_uint_eq(g.n, 2);
    ck_assert_str_eq(g.lines[1].s, "next");
    linesplit_free(&ls);
    got_free(&g);
}
END_TEST

/* Reference: split the whole stream at once. */
typedef struct ref_line {
    size_t off, len;
    bool cut;
} ref_line;

static size_t reference(const char *s, size_t n, size_t max, ref_line *out, size_t cap, size_t *pending)
{
    size_t k = 0, start = 0;
    *pending = 0;
    for (size_t i = 0; i <= n && k < cap; i++) {
        bool end = i == n;
        if (!end && s[i] != '\n')
            continue;
        size_t len = i - start;
        if (!end || len > max)
            out[k++] = (ref_line){ start, len > max ? max : len, len > max };
        else
            *pending = len;
        start = i + 1;
    }
    return k;
}

typedef struct rand_got {
    char *data;
    size_t len, cap;
    ref_line v[4096];
    size_t n;
} rand_got;

static void rand_collect(void *ud, const char *data, size_t len, bool cut)
{
    rand_got *g = ud;
    ck_assert_uint_lt(g->n, ELEMENTSOF(g->v));
    g->data = xgrow(g->data, &g->cap, g->len + len + 1, 1);
    memcpy(g->data + g->len, data, len);
    g->v[g->n++] = (ref_line){ g->len, len, cut };
    g->len += len;
}

START_TEST(random_chunking)
{
    unsigned seed = 0x5eed1234u;
    static char stream[64 * 1024];
    static ref_line want[4096];
    for (int round = 0; round < 400; round++) {
        size_t max = 1 + (size_t)(rand_r(&seed) % 200);
        size_t n = (size_t)(rand_r(&seed) % sizeof stream);
        for (size_t i = 0; i < n; i++) {
            unsigned r = (unsigned)rand_r(&seed);
            /* line lengths from 0 to far past the cap; NUL and high bytes included */
            stream[i] = r % (1 + round % 300) == 0 ? '\n' : (char)(r >> 8);
        }
        size_t want_pending;
        size_t nwant = reference(stream, n, max, want, ELEMENTSOF(want), &want_pending);
        if (nwant >= ELEMENTSOF(want) - 1)
            continue;
        rand_got g = {0};
        linesplit ls;
        linesplit_init(&ls, max, false);
        for (size_t off = 0; off < n;) {
            size_t step = 1 + (size_t)(rand_r(&seed) % (round % 3 == 0 ? 7 : 3000));
            if (step > n - off)
                step = n - off;
            linesplit_feed(&ls, stream + off, step, rand_collect, &g);
            off += step;
        }
        ck_assert_msg(g.n == nwant, "round %d: %zu lines, want %zu", round, g.n, nwant);
        for (size_t i = 0; i < nwant; i++) {
            ck_assert_msg(g.v[i].len == want[i].len && g.v[i].cut == want[i].cut, "round %d line %zu", round, i);
            ck_assert_msg(memcmp(g.data + g.v[i].off, stream + want[i].off, want[i].len) == 0, "round %d line %zu",
                          round, i);
        }
        ck_assert_msg(linesplit_pending(&ls) == want_pending, "round %d: pending %zu, want %zu", round,
                      linesplit_pending(&ls), want_pending);
        linesplit_free(&ls);
        free(g.data);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("linesplit");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, table, 0, (int)ELEMENTSOF(cases));
    tcase_add_test(tc, binary_bytes);
    tcase_add_test(tc, flush_and_restore_skip);
    tcase_add_test(tc, random_chunking);
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
