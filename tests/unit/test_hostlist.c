/* Slurm hostlists and ParallelCluster node names: table-driven cases for each function and a
 * seeded randomized round trip (compress, expand, compare with the sorted deduplicated set). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"
#include "macro.h"
#include "util.h"

#define N(...) ((const char *[]){ __VA_ARGS__, NULL })

static void free_names(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Names joined by ',' (caller frees), for compact expectations. */
static char *join(char **v, int n)
{
    strbuf b = {0};
    for (int i = 0; i < n; i++) {
        if (i)
            strbuf_addc(&b, ',');
        strbuf_adds(&b, v[i]);
    }
    return strbuf_take(&b);
}

static size_t count(const char **v)
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

static const struct {
    const char **in;
    const char *out;
} compress_cases[] = {
    { N("n01", "n02", "n3"), "n[01-02],n3" },
    { N("a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7", "a-9", "a-10", "a-11"), "a-[1-7,9-11]" },
    { N("d-4c-8g-237g-dy-c6xl-9", "d-4c-8g-237g-dy-c6xl-1", "d-4c-8g-237g-dy-c6xl-2"), "d-4c-8g-237g-dy-c6xl-[1-2,9]" },
    { N("a-2", "a-1", "a-2", "a-1"), "a-[1-2]" },
    { N("a-10", "a-9", "a-1"), "a-[1,9-10]" },
    { N("q-dy-b-1", "other-1", "q-dy-a-2", "q-dy-a-1"), "other-1,q-dy-a-[1-2],q-dy-b-1" },
    { N("login", "head", "n1", "head"), "head,login,n1" },
    { N("gpu-dy-g5-12xl-17", "gpu-dy-g5-12xl-18", "gpu-dy-g5-12xl-20"), "gpu-dy-g5-12xl-[17-18,20]" },
    { N("n08", "n09", "n10", "n11"), "n[08-11]" },
    { N("n1", "n01", "n001"), "n1,n01,n001" },
    { N("n001", "n002", "n1", "n2", "n01"), "n[1-2],n01,n[001-002]" },
    { N("n0", "n1"), "n[0-1]" },
    { N("x1234567890123456789012", "x1"), "x1,x1234567890123456789012" },
    { N("one"), "one" },
    { N("a-1", "b-1", "a-2", "b-2", "b-3"), "a-[1-2],b-[1-3]" },
    { N("c6i-5", "c6i-3", "c6i-4"), "c6i-[3-5]" },
    { N("n9", "n10", "n099", "n100"), "n[9-10],n[099-100]" },
};

START_TEST(compress)
{
    const char **in = compress_cases[_i].in;
    char *s = hostlist_compress((char *const *)in, count(in));
    ck_assert_str_eq(s, compress_cases[_i].out);
    free(s);
}
END_TEST

START_TEST(compress_edges)
{
    char *s = hostlist_compress(NULL, 0);
    ck_assert_str_eq(s, "");
    free(s);
    char *with_null[] = { "b-1", NULL, "", "b-2" };
    s = hostlist_compress(with_null, ELEMENTSOF(with_null));
    ck_assert_str_eq(s, "b-[1-2]");
    free(s);
    /* a storm of 256 launches is one short string */
    char *many[256];
    for (int i = 0; i < 256; i++)
        many[i] = xasprintf("gpu-dy-g5-12xl-%d", 256 - i);
    s = hostlist_compress(many, 256);
    ck_assert_str_eq(s, "gpu-dy-g5-12xl-[1-256]");
    free(s);
    for (int i = 0; i < 256; i++)
        free(many[i]);
}
END_TEST

static const struct {
    const char *in;
    size_t max;
    int rc;
    const char *out;
} expand_cases[] = {
    { "a-[1-3,5],b-[07-09]", 100, 7, "a-1,a-2,a-3,a-5,b-07,b-08,b-09" },
    { "single", 100, 1, "single" },
    { "n[01-10]", 100, 10, "n01,n02,n03,n04,n05,n06,n07,n08,n09,n10" },
    { "n[9-11]", 100, 3, "n9,n10,n11" },
    { "n[098-101]", 100, 4, "n098,n099,n100,n101" },
    { "a,b", 100, 2, "a,b" },
    { "rack[1-2]-x", 100, 2, "rack1-x,rack2-x" },
    { "d-4c-8g-237g-dy-c6xl-[1-7,9-11]", 100, 10,
      "d-4c-8g-237g-dy-c6xl-1,d-4c-8g-237g-dy-c6xl-2,d-4c-8g-237g-dy-c6xl-3,d-4c-8g-237g-dy-c6xl-4,"
      "d-4c-8g-237g-dy-c6xl-5,d-4c-8g-237g-dy-c6xl-6,d-4c-8g-237g-dy-c6xl-7,d-4c-8g-237g-dy-c6xl-9,"
      "d-4c-8g-237g-dy-c6xl-10,d-4c-8g-237g-dy-c6xl-11" },
    { "x-[5]", 100, 1, "x-5" },
    { "", 100, 0, "" },
    { "a-[1-3],b-[1-3]", 6, 6, "a-1,a-2,a-3,b-1,b-2,b-3" },
    { "a-[1-3],b-[1-3]", 5, -E2BIG, NULL },
    { "a,b,c", 2, -E2BIG, NULL },
    { "a-[1-1000000000000]", 1000, -E2BIG, NULL },
    { "a-[0-999999999999999999]", 1000, -E2BIG, NULL },
    { "a-[1-99999999999999999999]", 1000, -EINVAL, NULL },
    { "a-[1-3", 100, -EINVAL, NULL },
    { "a-1-3]", 100, -EINVAL, NULL },
    { "a-[3-1]", 100, -EINVAL, NULL },
    { "a,,b", 100, -EINVAL, NULL },
    { ",a", 100, -EINVAL, NULL },
    { "a,", 100, -EINVAL, NULL },
    { "a-[]", 100, -EINVAL, NULL },
    { "a-[1-]", 100, -EINVAL, NULL },
    { "a-[-2]", 100, -EINVAL, NULL },
    { "a-[,1]", 100, -EINVAL, NULL },
    { "a-[1,]", 100, -EINVAL, NULL },
    { "a-[1-2][3]", 100, -EINVAL, NULL },
    { "a-[[1]]", 100, -EINVAL, NULL },
    { "a-[x]", 100, -EINVAL, NULL },
    { "a-[1-2-3]", 100, -EINVAL, NULL },
    { "a b", 100, -EINVAL, NULL },
    { "a-[1,2]]", 100, -EINVAL, NULL },
    { "a%s%n", 100, -EINVAL, NULL },
};

START_TEST(expand)
{
    char **v = (char **)&v;   /* must be reset on failure */
    int n = hostlist_expand(expand_cases[_i].in, &v, expand_cases[_i].max);
    ck_assert_msg(n == expand_cases[_i].rc, "%s: got %d", expand_cases[_i].in, n);
    if (n < 0) {
        ck_assert_ptr_null(v);
        return;
    }
    char *s = join(v, n);
    ck_assert_str_eq(s, expand_cases[_i].out);
    free(s);
    free_names(v, n);
}
END_TEST

static const struct {
    const char *in;
    size_t max;
    const char *out;
} parse_cases[] = {
    { "['gpu-dy-g5-48xl-33(10.0.40.98)', 'gpu-dy-g5-48xl-34(10.0.44.249)']", 100,
      "gpu-dy-g5-48xl-33,gpu-dy-g5-48xl-34" },
    { "{'batch-st-c6i-8xl-3'}", 100, "batch-st-c6i-8xl-3" },
    { "cpu-st-c6i4xl-1", 100, "cpu-st-c6i4xl-1" },
    { "  cpu-st-c6i4xl-1(10.0.16.149)", 100, "cpu-st-c6i4xl-1" },
    { "gpu-dy-g5-12xl-[1-3]", 100, "gpu-dy-g5-12xl-1,gpu-dy-g5-12xl-2,gpu-dy-g5-12xl-3" },
    { "a-1, a-2,a-3", 100, "a-1,a-2,a-3" },
    { "a-[1-2],b-[07-08]", 100, "a-1,a-2,b-07,b-08" },
    { "(x2) ['cpu-st-c6i4xl-1', 'cpu-st-c6i4xl-2']", 100, "cpu-st-c6i4xl-1,cpu-st-c6i4xl-2" },
    { "['batch-dy-c6i-8xl-[1,19-21]']", 100,
      "batch-dy-c6i-8xl-1,batch-dy-c6i-8xl-19,batch-dy-c6i-8xl-20,batch-dy-c6i-8xl-21" },
    { "[\"a-1\", \"a-2\"]", 100, "a-1,a-2" },
    { "['a-1(a-1)', 'b-2(b-2)']", 100, "a-1,b-2" },
    /* cut off mid-way: the complete names before the cut count */
    { "['a-1(10.0.0.1)', 'a-2(10.0", 100, "a-1" },
    { "['a-1', 'a-2', 'a-", 100, "a-1,a-2" },
    { "['train-dy-p4d-1', [...]]", 100, "train-dy-p4d-1" },
    { "gpu-dy-g5-12xl-[1-3", 100, "" },
    { "a-1,gpu-dy-g5-12xl-[1-3", 100, "a-1" },
    /* capped at max */
    { "gpu-dy-g5-12xl-[1-32]", 3, "gpu-dy-g5-12xl-1,gpu-dy-g5-12xl-2,gpu-dy-g5-12xl-3" },
    { "['a-1', 'a-2', 'a-3']", 1, "a-1" },
    { "['a-[1-3]', 'b-1']", 4, "a-1,a-2,a-3,b-1" },
    { "['a-[1-3]', 'b-1']", 2, "a-1,a-2" },
    { "a-[1-1000000000000]", 2, "a-1,a-2" },
    /* nothing there */
    { "", 100, "" },
    { "   ", 100, "" },
    { "[]", 100, "" },
    { "{}", 100, "" },
    { "['a-[3-1]', 'b-1']", 100, "b-1" },
    { "['not a name', 'b-1']", 100, "b-1" },
    { "[...]", 100, "" },
    { "%s%n", 100, "" },
    { "a-1 and then prose, b-2", 100, "a-1" },
};

START_TEST(parse)
{
    char **v = NULL;
    int n = nodes_parse(parse_cases[_i].in, &v, parse_cases[_i].max);
    ck_assert_int_ge(n, 0);
    ck_assert_uint_le((size_t)n, parse_cases[_i].max);
    char *s = join(v, n);
    ck_assert_msg(str_eq(s, parse_cases[_i].out), "%s: got '%s'", parse_cases[_i].in, s);
    free(s);
    free_names(v, n);
}
END_TEST

START_TEST(parse_max_zero)
{
    char **v = NULL;
    int n = nodes_parse("a-1,a-2", &v, 0);
    ck_assert_int_eq(n, 0);
    free_names(v, n);
}
END_TEST

static const struct {
    const char *name, *queue, *cr;
} split_cases[] = {
    { "gpu-dy-g5-12xl-17", "gpu", "g5-12xl" },
    { "d-4c-8g-237g-dy-c6xl-12", "d-4c-8g-237g", "c6xl" },
    { "cpu-st-c6i4xl-1", "cpu", "c6i4xl" },
    { "batch-st-c6i-8xl-3", "batch", "c6i-8xl" },
    { "q-dy-dy-1", "q", "dy" },
    { "a-dy-b-dy-c-1", "a-dy-b", "c" },
    { "q-st-st-st-2", "q-st", "st" },
    { "login1", NULL, NULL },
    { "gpu-dy-g5-12xl", NULL, NULL },
    { "gpu-dy-17", NULL, NULL },
    { "-dy-c-1", NULL, NULL },
    { "gpu-xx-c-1", NULL, NULL },
    { "gpu-dy-c-", NULL, NULL },
    { "gpu-dy-c-1a", NULL, NULL },
    { "ip-10-0-0-1", NULL, NULL },
    { "gpu-dy--1", NULL, NULL },
    { "gpu dy-dy-c-1", NULL, NULL },
    { "", NULL, NULL },
};

START_TEST(split)
{
    char *q = (char *)"untouched", *cr = (char *)"untouched";
    bool ok = node_name_split(split_cases[_i].name, &q, &cr);
    if (!split_cases[_i].queue) {
        ck_assert_msg(!ok, "accepted %s", split_cases[_i].name);
        ck_assert_str_eq(q, "untouched");
        return;
    }
    ck_assert_msg(ok, "rejected %s", split_cases[_i].name);
    ck_assert_str_eq(q, split_cases[_i].queue);
    ck_assert_str_eq(cr, split_cases[_i].cr);
    free(q);
    free(cr);
}
END_TEST

START_TEST(split_optional_outputs)
{
    char *cr = NULL;
    ck_assert(node_name_split("gpu-dy-g5-12xl-17", NULL, NULL));
    ck_assert(node_name_split("gpu-dy-g5-12xl-17", NULL, &cr));
    ck_assert_str_eq(cr, "g5-12xl");
    free(cr);
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Random names over a few prefixes, some zero padded, some with no number, with duplicates. */
static size_t random_names(unsigned *seed, char **v, size_t cap)
{
    static const char *prefixes[] = { "gpu-dy-g5-12xl-", "q-st-c-", "n", "", "rack1-", "n0" };
    static const char *bare[] = { "login", "head-node", "gpu-dy-g5-12xl-" };
    size_t n = (size_t)rand_r(seed) % cap;
    unsigned npre = 1 + (unsigned)rand_r(seed) % 3, base = (unsigned)rand_r(seed);
    for (size_t i = 0; i < n; i++) {
        int r = rand_r(seed);
        if (r % 23 == 0) {
            v[i] = xstrdup(bare[(unsigned)r / 23 % ELEMENTSOF(bare)]);
            continue;
        }
        const char *p = prefixes[(base + (unsigned)r % npre) % ELEMENTSOF(prefixes)];
        int num = rand_r(seed) % 130, width = (int[]){ 0, 0, 2, 3 }[rand_r(seed) % 4];
        v[i] = xasprintf("%s%0*d", p, width, num);
    }
    return n;
}

START_TEST(round_trip_random)
{
    unsigned seed = 20241014;
    char *names[80];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = random_names(&seed, names, ELEMENTSOF(names));
        qsort(names, n, sizeof *names, cmp_str);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
                names[u++] = names[i];
            else
                free(names[i]);
        char *hl = hostlist_compress(names, u);
        char **v = NULL;
        int m = hostlist_expand(hl, &v, 1000);
        ck_assert_msg(m == (int)u, "iteration %d: %s expands to %d names, want %zu", iter, hl, m, u);
        qsort(v, (size_t)m, sizeof *v, cmp_str);
        for (size_t i = 0; i < u; i++)
            ck_assert_msg(str_eq(v[i], names[i]), "iteration %d: %s: %s != %s", iter, hl, v[i], names[i]);
        /* compressing the expansion again gives the same string */
        char *again = hostlist_compress(v, (size_t)m);
        ck_assert_str_eq(again, hl);
        free(again);
        free_names(v, m);
        free(hl);
        for (size_t i = 0; i < u; i++)
            free(names[i]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostlist");
    TCase *tc = tcase_create("hostlist");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, compress, 0, ELEMENTSOF(compress_cases));
    tcase_add_test(tc, compress_edges);
    tcase_add_loop_test(tc, expand, 0, ELEMENTSOF(expand_cases));
    tcase_add_loop_test(tc, parse, 0, ELEMENTSOF(parse_cases));
    tcase_add_test(tc, parse_max_zero);
    tcase_add_loop_test(tc, split, 0, ELEMENTSOF(split_cases));
    tcase_add_test(tc, split_optional_outputs);
    tcase_add_test(tc, round_trip_random);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
