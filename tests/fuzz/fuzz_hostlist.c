/* Slurm hostlists and node names from log text. An expression that expands compresses back to
 * a hostlist that expands to the same set of names; nodes_parse and node_name_split take any
 * text. Input: a C string (the first NUL ends it). */
#include <errno.h>

#include "hostlist.h"

#include "fuzz.h"

#define MAX_NAMES 2000

static void free_names(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts v and drops duplicates; returns the new count. */
static int sort_unique(char **v, int n)
{
    int u = 0;
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    for (int i = 0; i < n; i++) {
        if (u > 0 && strcmp(v[u - 1], v[i]) == 0)
            free(v[i]);
        else
            v[u++] = v[i];
    }
    return u;
}

static void check_roundtrip(const char *expr)
{
    char **names = NULL, **back = NULL;
    int n = hostlist_expand(expr, &names, MAX_NAMES);
    FUZZ_ASSERT(n >= 0 || n == -EINVAL || n == -E2BIG);
    if (n < 0) {
        FUZZ_ASSERT(names == NULL);
        return;
    }
    FUZZ_ASSERT(names != NULL && n <= MAX_NAMES);
    char *compressed = hostlist_compress(names, (size_t)n);
    int m = hostlist_expand(compressed, &back, MAX_NAMES);
    if (n == 0) {
        FUZZ_ASSERT(compressed[0] == '\0');
    } else {
        if (m < 0)
            fprintf(stderr, "'%s' compressed to '%s', which does not expand (%d)\n", expr, compressed, m);
        FUZZ_ASSERT(m > 0);
        n = sort_unique(names, n);
        m = sort_unique(back, m);
        FUZZ_ASSERT(n == m);
        for (int i = 0; i < n; i++)
            FUZZ_ASSERT(strcmp(names[i], back[i]) == 0);
    }
    free(compressed);
    free_names(back, m > 0 ? m : 0);
    free_names(names, n);
}

static void check_nodes(const char *text)
{
    char **names = NULL;
    int n = nodes_parse(text, &names, 64);
    FUZZ_ASSERT(n >= 0 && n <= 64 && names != NULL);
    for (int i = 0; i < n; i++) {
        char *q = NULL, *cr = NULL;
        FUZZ_ASSERT(names[i][0] != '\0');
        if (node_name_split(names[i], &q, &cr))
            FUZZ_ASSERT(q && cr && q[0] && cr[0]);
        free(q);
        free(cr);
    }
    free_names(names, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    char *q = NULL, *cr = NULL;
    check_roundtrip(s);
    check_nodes(s);
    if (node_name_split(s, &q, &cr))
        FUZZ_ASSERT(strlen(q) + strlen(cr) + 6 <= strlen(s));
    free(q);
    free(cr);
    free(s);
    return 0;
}
