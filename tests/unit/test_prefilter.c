/* The fast paths in front of PCRE2 and json-c, each checked against the slow path it replaces:
 * "any of" literal sets never miss a PCRE2 match, the multi-literal prefilter reports exactly what
 * memmem finds, and the JSON scanner accepts only lines json-c parses to the same members. The
 * randomized loops use a fixed seed, so a failure repeats. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <check.h>
#include <json-c/json.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"
#include "literal.h"
#include "macro.h"
#include "prefilter.h"
#include "util.h"

static const struct {
    const char *pattern;
    const char *any[5];   /* the expected set, NULL-terminated; { NULL } for none */
} any_cases[] = {
    { "abc|defg", { "abc", "defg" } },
    { "x(?<n>foo|barbaz)y", { "xfooy", "xbarbazy" } },
    { "\\): (?<code>Ab|Cd) - (?=.*x)", { "): Ab - ", "): Cd - " } },
    { "ab(?:cd)ef", { "abcdef" } },
    { "ab(cd)?ef", { "ab" } },
    { "abc(d|e)?", { "abc" } },
    { "q(a|(b|c))z", { "qaz", "qbz", "qcz" } },
    { "(?|Failed (?<api>Run|Create) request|Error in (?<api>Create) request) \\(", {
      "Failed Run request (", "Failed Create request (", "Error in Create request (" } },
    { "a\\x41bcd", { "bcd" } },                 /* the digits of \x41 are not literals */
    { "\\012abc", { "abc" } },
    { "[[:alpha:]]xyz", { "xyz" } },
    { "\\cAxyz", { "xyz" } },
    { "(?mi)abc", { NULL } },
    { "(?s-i:abc)", { NULL } },
    { "abc(*ACCEPT)defgh", { NULL } },
    { "foo|", { NULL } },
    { "(?<=abc)d", { "d" } },
    { "a.b*", { "a" } },
};

START_TEST(literal_sets)
{
    litset s = literal_any(any_cases[_i].pattern);
    size_t n = 0;
    while (n < 5 && any_cases[_i].any[n])
        n++;
    ck_assert_msg(s.n == n, "%s: %zu strings, want %zu", any_cases[_i].pattern, s.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(s.v[i], any_cases[_i].any[i]);
    litset_free(&s);
}
END_TEST

/* A random pattern over a tiny alphabet, from the constructs the literal walk understands. */
static void random_pattern(unsigned *seed, strbuf *b, int depth)
{
    static const char *const atoms[] = { "a", "b", "c", "ab", "\\.", ".", "[ab]", "\\d", "\\x61", "(?=a)", "\\b" };
    static const char *const quant[] = { "", "", "", "?", "*", "+", "{2}", "{0,1}" };
    int parts = 1 + rand_r(seed) % 4;
    for (int i = 0; i < parts; i++) {
        if (depth < 2 && rand_r(seed) % 4 == 0) {
            static const char *const open[] = { "(", "(?:", "(?<g>", "(?|", "(?>" };
            strbuf_adds(b, open[rand_r(seed) % 5]);
            random_pattern(seed, b, depth + 1);
            if (rand_r(seed) % 2) {
                strbuf_addc(b, '|');
                random_pattern(seed, b, depth + 1);
            }
            strbuf_addc(b, ')');
        } else
            strbuf_adds(b, atoms[rand_r(seed) % ELEMENTSOF(atoms)]);
        strbuf_adds(b, quant[rand_r(seed) % ELEMENTSOF(quant)]);
    }
}

static bool contains_any(const char *subject, const litset *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (strstr(subject, s->v[i]))
            return true;
    return s->n == 0;
}

/* Invariant: whenever PCRE2 matches, the subject holds one of literal_any's strings and
 * literal_required's string. */
START_TEST(literal_sets_never_miss_a_match)
{
    unsigned seed = 4242;
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    size_t matched = 0;
    for (int t = 0; t < 3000; t++) {
        strbuf pat = {0};
        random_pattern(&seed, &pat, 0);
        int err;
        PCRE2_SIZE off;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat.s, PCRE2_ZERO_TERMINATED, PCRE2_DUPNAMES | PCRE2_UTF, &err,
                                         &off, NULL);
        if (!code) {
            strbuf_free(&pat);
            continue;
        }
        litset s = literal_any(pat.s);
        char *req = literal_required(pat.s);
        for (int k = 0; k < 40; k++) {
            char subject[24];
            size_t n = (size_t)(rand_r(&seed) % 20);
            for (size_t i = 0; i < n; i++)
                subject[i] = "abc.1 "[rand_r(&seed) % 6];
            subject[n] = 0;
            if (pcre2_match(code, (PCRE2_SPTR)subject, n, 0, 0, md, NULL) < 0)
                continue;
            matched++;
            ck_assert_msg(contains_any(subject, &s), "/%s/ matched \"%s\" without any of its %zu literals", pat.s,
                          subject, s.n);
            ck_assert_msg(strstr(subject, req), "/%s/ matched \"%s\" without \"%s\"", pat.s, subject, req);
        }
        free(req);
        litset_free(&s);
        pcre2_code_free(code);
        strbuf_free(&pat);
    }
    ck_assert_uint_gt(matched, 1000);   /* the loop did exercise matches */
    pcre2_match_data_free(md);
}
END_TEST

/* Invariant: the prefilter's bits are exactly memmem's answers, for strings of every length
 * (one-byte, two-byte, window-sized, longer) over an alphabet small enough to collide often. */
START_TEST(prefilter_is_exact)
{
    unsigned seed = 7;
    for (int t = 0; t < 300; t++) {
        prefilter *pf = prefilter_new();
        char strs[70][24];
        size_t lens[70], n = 1 + (size_t)(rand_r(&seed) % 70);
        for (size_t i = 0; i < n; i++) {
            lens[i] = 1 + (size_t)(rand_r(&seed) % 20);
            for (size_t k = 0; k < lens[i]; k++)
                strs[i][k] = "ab -"[rand_r(&seed) % 4];
            prefilter_add(pf, strs[i], lens[i], (unsigned)i);
        }
        prefilter_build(pf);
        for (int k = 0; k < 50; k++) {
            char line[200];
            size_t len = (size_t)(rand_r(&seed) % sizeof line);
            for (size_t i = 0; i < len; i++)
                line[i] = "ab -"[rand_r(&seed) % 4];
            uint64_t present[2] = { 0, 0 };
            prefilter_scan(pf, line, len, present);
            for (size_t i = 0; i < n; i++) {
                bool want = memmem(line, len, strs[i], lens[i]) != NULL;
                bool got = present[i / 64] >> (i % 64) & 1;
                ck_assert_msg(want == got, "string %zu \"%.*s\" in \"%.*s\": prefilter %d, memmem %d", i,
                              (int)lens[i], strs[i], (int)len, line, got, want);
            }
        }
        prefilter_free(pf);
    }
}
END_TEST

static const char event[] =
    "{\"datetime\": \"2024-12-02T00:00:45.720+00:00\", \"version\": 0, \"scheduler\": \"slurm\", "
    "\"cluster-name\": \"climate-sim\", \"node-role\": \"HeadNode\", \"component\": \"clustermgtd\", "
    "\"level\": \"INFO\", \"instance-id\": \"i-0f6c2a9e1b4d7830a\", \"event-type\": \"compute-node-idle-time\", "
    "\"message\": \"Longest idle time\", \"detail\": {\"node-type\": \"static\", \"longest-idle-time\": 3508.065253, "
    "\"longest-idle-node\": {\"name\": \"batch-st-c6i-8xl-2\", \"state-reason\": null, \"state-flags\": [\"CLOUD\"], "
    "\"partitions\": [\"batch\"]}, \"count\": 4}}";

START_TEST(jsonscan_event)
{
    jscan js;
    ck_assert(jscan_object(event, strlen(event), &js));
    ck_assert_uint_eq(js.n, 11);
    const jmember *m = jscan_get(&js, "event-type");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->type, JSCAN_STRING);
    ck_assert(m->vlen == strlen("compute-node-idle-time") && memcmp(m->val, "compute-node-idle-time", m->vlen) == 0);
    ck_assert_int_eq(jscan_get(&js, "detail")->type, JSCAN_OBJECT);
    ck_assert_int_eq(jscan_get(&js, "version")->type, JSCAN_SCALAR);
    ck_assert_ptr_null(jscan_get(&js, "node-type"));   /* nested, not top-level */
}
END_TEST

static const struct {
    const char *line;
    bool ok;
} scan_cases[] = {
    { "{}", true },
    { "  {\"a\": [1, 2.5e3, -0, true, false, null, {\"b\": []}]}  ", true },
    { "{\"a\": \"x\\\"y\"}", true },
    { "{\"a\\u0041\": 1}", false },          /* escaped top-level key: json-c's job */
    { "{\"a\": \"\\ud800\"}", false },       /* surrogate escape */
    { "{\"a\": \"\\u0000\"}", false },
    { "{\"a\": 01}", false },
    { "{\"a\": 1,}", false },
    { "{\"a\": tru}", false },
    { "{\"a\": 1} x", false },               /* text after the object */
    { "{\"a\": \"\xc3\xa9\"}", false },      /* non-ASCII */
    { "{\"a\": \"tab\there\"}", false },     /* raw control byte */
    { "{\"a\": 12345678901234567890}", false },
    { "[1]", false },
    { "{\"a\" 1}", false },
    { "{\"a\": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", false },   /* deeper than jsonscan goes */
};

START_TEST(jsonscan_cases)
{
    jscan js;
    const char *l = scan_cases[_i].line;
    ck_assert_msg(jscan_object(l, strlen(l), &js) == scan_cases[_i].ok, "%s", l);
}
END_TEST

/* A key as a C string, valid until the next call. */
static const char *xstrndup_tmp(const char *s, size_t n)
{
    static char buf[256];
    n = n < sizeof buf - 1 ? n : sizeof buf - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

/* Invariant: a line jsonscan accepts is one json-c parses to an object with the same top-level
 * keys (the last of repeated ones) and the same string values. Lines are mutations of an event. */
START_TEST(jsonscan_agrees_with_json_c)
{
    unsigned seed = 99;
    size_t accepted = 0;
    static const char noise[] = "{}[]\",:\\ 0-.eEtrufalsn\x01\x80x";
    for (int t = 0; t < 20000; t++) {
        char line[sizeof event + 8];
        size_t len = sizeof event - 1;
        memcpy(line, event, len);
        int edits = rand_r(&seed) % 3;
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)rand_r(&seed) % len;
            if (rand_r(&seed) % 2)
                line[at] = noise[rand_r(&seed) % (sizeof noise - 1)];
            else {
                memmove(line + at, line + at + 1, len - at - 1);
                len--;
            }
        }
        jscan js;
        if (!jscan_object(line, len, &js))
            continue;
        accepted++;
        json_tokener *tok = json_tokener_new_ex(32);
        json_object *o = json_tokener_parse_ex(tok, line, (int)len);
        ck_assert_msg(o && json_object_is_type(o, json_type_object), "json-c rejects what jsonscan took: %.*s",
                      (int)len, line);
        size_t distinct = 0;
        for (size_t i = 0; i < js.n; i++)
            distinct += jscan_get(&js, xstrndup_tmp(js.v[i].key, js.v[i].klen)) == &js.v[i];
        ck_assert_uint_eq(distinct, (size_t)json_object_object_length(o));
        for (size_t i = 0; i < js.n; i++) {
            char *key = xstrndup(js.v[i].key, js.v[i].klen);
            json_object *v;
            ck_assert_msg(json_object_object_get_ex(o, key, &v), "key %s missing in json-c", key);
            const jmember *m = jscan_get(&js, key);
            if (m->type == JSCAN_STRING && !m->escaped) {
                ck_assert(json_object_is_type(v, json_type_string));
                ck_assert(strlen(json_object_get_string(v)) == m->vlen &&
                          memcmp(json_object_get_string(v), m->val, m->vlen) == 0);
            }
            free(key);
        }
        json_object_put(o);
        json_tokener_free(tok);
    }
    ck_assert_uint_gt(accepted, 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prefilter");
    TCase *tc = tcase_create("prefilter");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, literal_sets, 0, ELEMENTSOF(any_cases));
    tcase_add_test(tc, literal_sets_never_miss_a_match);
    tcase_add_test(tc, prefilter_is_exact);
    tcase_add_test(tc, jsonscan_event);
    tcase_add_loop_test(tc, jsonscan_cases, 0, ELEMENTSOF(scan_cases));
    tcase_add_test(tc, jsonscan_agrees_with_json_c);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
