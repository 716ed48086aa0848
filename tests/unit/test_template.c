/* Message templates: substitution, literal braces, hostile values (braces, printf conversions,
 * invalid UTF-8, huge values) and the output cap, plus a seeded randomized invariant loop. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "template.h"
#include "util.h"

static fieldset f, g;

static void setup(void)
{
    fields_set(&f, "queue", "gpu");
    fields_set(&f, "count", "3");
    fields_set(&f, "evil", "{queue}{{}}");
    fields_set(&f, "fmt", "%s%n%x%%");
    fields_set(&f, "empty", "");
    fields_set(&f, "a.b", "dotted");
    fields_set(&f, "x-y_z", "hyph");
    fields_set(&f, "bad", "\xff\xfeok");
    fields_set(&f, "esc", "\x1b[31mred");
    fields_set(&g, "count", "99");
    fields_set(&g, "cluster", "demo");
    fields_set(&g, "only_g", "G");
}

static void teardown(void)
{
    fields_free(&f);
    fields_free(&g);
}

#define FFFD "\xef\xbf\xbd"

static const struct {
    const char *tpl;
    size_t max;
    const char *out;
} cases[] = {
    { "No capacity in {queue}/{cluster}", 100, "No capacity in gpu/demo" },
    { "{count}", 100, "3" },
    { "{only_g}", 100, "G" },
    { "[{missing}]", 100, "[]" },
    { "", 100, "" },
    { "plain text", 100, "plain text" },
    { "{{queue}}", 100, "{queue}" },
    { "{{{queue}}}", 100, "{gpu}" },
    { "a }} b {{", 100, "a } b {" },
    { "lone } brace", 100, "lone } brace" },
    { "unterminated {queue", 100, "unterminated {queue" },
    { "ends with {", 100, "ends with {" },
    { "{a b} {} {q!} {#}", 100, "{a b} {} {q!} {#}" },
    { "{a{queue}", 100, "{agpu" },
    { "{evil}", 100, "{queue}{{}}" },
    { "{fmt}", 100, "%s%n%x%%" },
    { "%s %n %%{queue}", 100, "%s %n %%gpu" },
    { "{a.b}{x-y_z}", 100, "dottedhyph" },
    { "{queue?Q: }{queue}", 100, "Q: gpu" },
    { "{missing?X}{empty?Y}end", 100, "end" },
    { "{only_g? (g)}", 100, " (g)" },
    { "{queue?unterminated", 100, "{queue?unterminated" },
    { "{queue?{nested}}", 100, "{nested}" },
    { "{bad}", 100, FFFD FFFD "ok" },
    { "a\xc3(", 100, "a" FFFD "(" },
    { "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80", 100, FFFD FFFD " " FFFD FFFD FFFD " " FFFD FFFD FFFD FFFD },
    { "\xf0\x9f\x98\x80 \xe2\x80\x94 \xc3\xa9", 100, "\xf0\x9f\x98\x80 \xe2\x80\x94 \xc3\xa9" },
    { "{esc}", 100, "\x1b[31mred" },
    /* the cap: max bytes, cut on a character boundary, "…" when cut */
    { "hello", 5, "hello" },
    { "hello!", 5, "he\xe2\x80\xa6" },
    { "hello world", 6, "hel\xe2\x80\xa6" },
    { "h\xc3\xa9llo w\xc3\xb6rld", 6, "h\xc3\xa9\xe2\x80\xa6" },
    { "h\xc3\xa9llo w\xc3\xb6rld", 5, "h\xe2\x80\xa6" },
    { "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 6, "\xe2\x80\xa6" },
    { "{queue}{queue}{queue}", 7, "gpug\xe2\x80\xa6" },
    { "hello", 3, "\xe2\x80\xa6" },
    { "hello", 2, "he" },
    { "hello", 0, "" },
    { "", 0, "" },
};

START_TEST(render)
{
    char *s = template_render(cases[_i].tpl, &f, &g, cases[_i].max);
    ck_assert_str_eq(s, cases[_i].out);
    ck_assert_uint_le(strlen(s), cases[_i].max);
    free(s);
}
END_TEST

START_TEST(null_fieldsets)
{
    char *s = template_render("[{queue}]", NULL, NULL, 100);
    ck_assert_str_eq(s, "[]");
    free(s);
    s = template_render("[{cluster}]", NULL, &g, 100);
    ck_assert_str_eq(s, "[demo]");
    free(s);
}
END_TEST

/* An independent check: every sequence is a well-formed UTF-8 scalar value. */
static bool valid_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned cp, n;
        if (u[0] < 0x80) {
            u++;
            continue;
        } else if ((u[0] & 0xe0) == 0xc0) {
            cp = u[0] & 0x1f, n = 1;
        } else if ((u[0] & 0xf0) == 0xe0) {
            cp = u[0] & 0x0f, n = 2;
        } else if ((u[0] & 0xf8) == 0xf0) {
            cp = u[0] & 0x07, n = 3;
        } else {
            return false;
        }
        for (unsigned i = 1; i <= n; i++) {
            if ((u[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (u[i] & 0x3f);
        }
        static const unsigned min[] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        u += n + 1;
    }
    return true;
}

START_TEST(huge_values)
{
    size_t big = 1 << 20;
    char *v = xmalloc(big + 1);
    memset(v, 'x', big);
    v[big] = '\0';
    fieldset h = {0};
    fields_set(&h, "v", v);
    /* two-byte characters: the cut must not split one */
    for (size_t i = 0; i + 1 < big; i += 2)
        v[i] = '\xc3', v[i + 1] = '\xa9';
    fields_set(&h, "w", v);
    static const size_t maxes[] = { 100, 101, 4000, 65536 };
    for (size_t i = 0; i < ELEMENTSOF(maxes); i++) {
        char *s = template_render("title: {v}", &h, NULL, maxes[i]);
        ck_assert_uint_eq(strlen(s), maxes[i]);
        ck_assert(str_startswith(s, "title: xxx"));
        ck_assert_str_eq(s + strlen(s) - 3, "\xe2\x80\xa6");
        free(s);
        s = template_render("{w}", &h, NULL, maxes[i]);
        ck_assert_uint_le(strlen(s), maxes[i]);
        ck_assert_uint_ge(strlen(s), maxes[i] - 1);
        ck_assert(valid_utf8(s));
        ck_assert_str_eq(s + strlen(s) - 3, "\xe2\x80\xa6");
        free(s);
    }
    fields_free(&h);
    free(v);
}
END_TEST

static const struct {
    const char *in, *out;
} utf8_cases[] = {
    { "plain", "plain" },
    { "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80" },
    { "\x80", FFFD },
    { "a\xc3", "a" FFFD },
    { "\xe2\x80", FFFD FFFD },
    { "\xc1\xbf", FFFD FFFD },                     /* overlong */
    { "\xe0\x80\xaf", FFFD FFFD FFFD },             /* overlong */
    { "\xed\xbf\xbf", FFFD FFFD FFFD },             /* surrogate */
    { "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD },    /* past U+10FFFF */
    { "\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD },
    { "\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf" },
};

START_TEST(utf8)
{
    strbuf b = {0};
    utf8_append(&b, utf8_cases[_i].in, strlen(utf8_cases[_i].in));
    ck_assert_str_eq(b.s, utf8_cases[_i].out);
    strbuf_free(&b);
}
END_TEST

/* Random templates and values of hostile bytes: the result is always valid UTF-8 within max,
 * and whenever it is not cut it equals a straightforward reference rendering. */
START_TEST(random_invariants)
{
    static const char alphabet[] = "{}{}??ab.-_ %sn\xc3\xa9\xff\x80\xe2\x1b\n";
    unsigned seed = 42;
    for (int iter = 0; iter < 5000; iter++) {
        char tpl[40], val[40];
        size_t tn = (size_t)rand_r(&seed) % (sizeof tpl - 1), vn = (size_t)rand_r(&seed) % (sizeof val - 1);
        for (size_t i = 0; i < tn; i++)
            tpl[i] = alphabet[(unsigned)rand_r(&seed) % (sizeof alphabet - 1)];
        for (size_t i = 0; i < vn; i++)
            val[i] = alphabet[(unsigned)rand_r(&seed) % (sizeof alphabet - 1)];
        tpl[tn] = val[vn] = '\0';
        fieldset h = {0};
        fields_set(&h, "a", val);
        fields_set(&h, "b", "");
        size_t max = (size_t)rand_r(&seed) % 48;
        char *s = template_render(tpl, &h, NULL, max);
        ck_assert_msg(strlen(s) <= max, "iteration %d: %zu > %zu", iter, strlen(s), max);
        ck_assert_msg(valid_utf8(s), "iteration %d: invalid UTF-8", iter);
        char *full = template_render(tpl, &h, NULL, SIZE_MAX);
        if (strlen(full) <= max)
            ck_assert_str_eq(s, full);
        else if (max >= 3)
            ck_assert_str_eq(s + strlen(s) - 3, "\xe2\x80\xa6");
        free(full);
        free(s);
        fields_free(&h);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("template");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, render, 0, ELEMENTSOF(cases));
    tcase_add_test(tc, null_fieldsets);
    tcase_add_test(tc, huge_values);
    tcase_add_loop_test(tc, utf8, 0, ELEMENTSOF(utf8_cases));
    tcase_add_test(tc, random_invariants);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
