/* Slurm hostlists ("q-dy-c6xl-[1-7,9-11],other-1") and ParallelCluster node names.
 *
 * A name splits into a prefix and its final run of digits: "gpu-dy-g5-12xl-17" is prefix
 * "gpu-dy-g5-12xl-" and number 17. Names sharing a prefix and a digit width compress into one
 * bracket group. A number written with a leading zero ("01") keeps its width: it only joins
 * numbers that print the same at that width, so expanding a compressed list gives back exactly
 * the names that went in. */
#include "hostlist.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "util.h"

/* 18 decimal digits always fit in a uint64_t, and no node number is longer. */
#define NUM_DIGITS_MAX 18

typedef struct hostname {
    const char *name;
    size_t plen;       /* prefix length; the whole name when there is no number */
    bool has_num;
    uint64_t num;
    unsigned width;    /* digits as written */
    unsigned cls;      /* the width the number is printed at in a range (0: unpadded) */
} hostname;

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static void strvec_push(strvec *v, char *s)
{
    v->v = xgrow(v->v, &v->cap, v->n + 1, sizeof *v->v);
    v->v[v->n++] = s;
}

/* The array for the caller: never NULL, even when empty. */
static char **strvec_take(strvec *v)
{
    return v->v ? v->v : xcalloc(1, sizeof(char *));
}

static void strvec_free(strvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    *v = (strvec){0};
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '_' ||
           c == '.';
}

static uint64_t parse_num(const char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    return v;
}

static void hostname_split(const char *name, hostname *h)
{
    size_t len = strlen(name), d = len;
    while (d > 0 && is_digit(name[d - 1]))
        d--;
    *h = (hostname){ .name = name, .plen = len };
    if (d == len || len - d > NUM_DIGITS_MAX)
        return;
    h->plen = d;
    h->has_num = true;
    h->width = (unsigned)(len - d);
    h->num = parse_num(name + d, len - d);
}

static int cmp_prefix(const hostname *a, const hostname *b)
{
    size_t n = a->plen < b->plen ? a->plen : b->plen;
    int c = memcmp(a->name, b->name, n);
    if (c)
        return c;
    if (a->plen != b->plen)
        return a->plen < b->plen ? -1 : 1;
    return (int)a->has_num - (int)b->has_num;
}

/* Prefix, then number, then width: equal keys are equal names. */
static int cmp_name(const void *x, const void *y)
{
    const hostname *a = x, *b = y;
    int c = cmp_prefix(a, b);
    if (c)
        return c;
    if (a->num != b->num)
        return a->num < b->num ? -1 : 1;
    return (int)a->width - (int)b->width;
}

static int cmp_class(const void *x, const void *y)
{
    const hostname *a = x, *b = y;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->num != b->num)
        return a->num < b->num ? -1 : 1;
    return 0;
}

static bool padded(const hostname *h)
{
    return h->width > 1 && h->name[h->plen] == '0';
}

/* A padded number keeps its width. An unpadded one joins the padded numbers of its own width
 * ("10" prints as "10" at width 2), otherwise it is printed bare. */
static void assign_classes(hostname *h, size_t n)
{
    bool padw[NUM_DIGITS_MAX + 1] = { false };
    for (size_t i = 0; i < n; i++)
        if (padded(&h[i]))
            padw[h[i].width] = true;
    for (size_t i = 0; i < n; i++)
        h[i].cls = padw[h[i].width] ? h[i].width : 0;
}

static void add_num(strbuf *b, uint64_t v, unsigned cls)
{
    strbuf_addf(b, "%0*llu", (int)cls, (unsigned long long)v);
}

/* One bracket group (or a bare name) for h[0..n), all of one prefix and class, sorted by number. */
static void emit_group(strbuf *b, const hostname *h, size_t n)
{
    if (b->len)
        strbuf_addc(b, ',');
    if (n == 1) {
        strbuf_adds(b, h[0].name);
        return;
    }
    strbuf_add(b, h[0].name, h[0].plen);
    strbuf_addc(b, '[');
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && h[j + 1].num == h[j].num + 1)
            j++;
        if (i)
            strbuf_addc(b, ',');
        add_num(b, h[i].num, h[i].cls);
        if (j > i) {
            strbuf_addc(b, '-');
            add_num(b, h[j].num, h[i].cls);
        }
        i = j + 1;
    }
    strbuf_addc(b, ']');
}

typedef struct span {
    size_t start, n;
} span;

static int cmp_span_first(const void *x, const void *y, void *ctx)
{
    const span *a = x, *b = y;
    const hostname *h = ctx;
    return cmp_name(&h[a->start], &h[b->start]);
}

/* Emits the names of one prefix (h[0..n), deduplicated), in the order of each group's first number. */
static void emit_prefix(strbuf *b, hostname *h, size_t n)
{
    if (!h[0].has_num) {
        emit_group(b, h, 1);
        return;
    }
    assign_classes(h, n);
    qsort(h, n, sizeof *h, cmp_class);
    span *groups = xmalloc(n * sizeof *groups);
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || h[i].cls != h[i - 1].cls)
            groups[ng++] = (span){ .start = i };
        groups[ng - 1].n++;
    }
    qsort_r(groups, ng, sizeof *groups, cmp_span_first, h);
    for (size_t g = 0; g < ng; g++)
        emit_group(b, h + groups[g].start, groups[g].n);
    free(groups);
}

char *hostlist_compress(char *const *names, size_t n)
{
    hostname *h = xmalloc((n ? n : 1) * sizeof *h);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (names[i] && names[i][0])
            hostname_split(names[i], &h[m++]);
    qsort(h, m, sizeof *h, cmp_name);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || cmp_name(&h[u - 1], &h[i]) != 0)
            h[u++] = h[i];
    strbuf b = {0};
    for (size_t i = 0; i < u;) {
        size_t j = i + 1;
        while (j < u && cmp_prefix(&h[i], &h[j]) == 0)
            j++;
        emit_prefix(&b, h + i, j - i);
        i = j;
    }
    free(h);
    return strbuf_take(&b);
}

/* One item of a hostlist: name characters with at most one "[ranges]" group. */
typedef struct item {
    const char *s;
    size_t len;
    size_t lb, rb;     /* offsets of '[' and ']'; lb == len when there is none */
} item;

/* Walks the ranges of it, calling fn for each "lo[-hi]". Returns -EINVAL on a malformed one. */
static int each_range(const item *it, int (*fn)(const item *it, const char *lo, size_t lolen, uint64_t a,
                                                 uint64_t b, void *ud),
                      void *ud)
{
    const char *p = it->s + it->lb + 1, *end = it->s + it->rb;
    for (;;) {
        const char *lo = p;
        while (p < end && is_digit(*p))
            p++;
        size_t lolen = (size_t)(p - lo);
        if (lolen == 0 || lolen > NUM_DIGITS_MAX)
            return -EINVAL;
        uint64_t a = parse_num(lo, lolen), b = a;
        if (p < end && *p == '-') {
            const char *hi = ++p;
            while (p < end && is_digit(*p))
                p++;
            size_t hilen = (size_t)(p - hi);
            if (hilen == 0 || hilen > NUM_DIGITS_MAX)
                return -EINVAL;
            b = parse_num(hi, hilen);
            if (b < a)
                return -EINVAL;
        }
        int r = fn(it, lo, lolen, a, b, ud);
        if (r < 0)
            return r;
        if (p == end)
            return 0;
        if (*p != ',')
            return -EINVAL;
        p++;
    }
}

static int item_parse(const char *s, size_t len, item *it)
{
    *it = (item){ .s = s, .len = len, .lb = len, .rb = len };
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '[') {
            if (it->lb != len)
                return -EINVAL;
            it->lb = i;
            const char *rb = memchr(s + i, ']', len - i);
            if (!rb)
                return -EINVAL;
            it->rb = (size_t)(rb - s);
            i = it->rb;
        } else if (!is_name_char(s[i])) {
            return -EINVAL;
        }
    }
    return 0;
}

static int count_range(const item *it, const char *lo, size_t lolen, uint64_t a, uint64_t b, void *ud)
{
    uint64_t *total = ud;
    if (b - a >= UINT64_MAX - *total)
        return -E2BIG;
    *total += b - a + 1;
    return 0;
}

typedef struct expand_ctx {
    strvec *out;
    size_t max;
} expand_ctx;

static int emit_range(const item *it, const char *lo, size_t lolen, uint64_t a, uint64_t b, void *ud)
{
    expand_ctx *x = ud;
    const char *suffix = it->s + it->rb + 1;
    int slen = (int)(it->len - it->rb - 1);
    for (uint64_t v = a; x->out->n < x->max; v++) {
        strvec_push(x->out, xasprintf("%.*s%0*llu%.*s", (int)it->lb, it->s, (int)lolen, (unsigned long long)v,
                                      slen, suffix));
        if (v == b)
            break;
    }
    return 0;
}

/* Appends the names of one item to out. Past max: -E2BIG, or when truncate, the first names
 * up to max. The width of a range is that of its first number, as in Slurm ("[01-10]"). */
static int expand_item(const char *s, size_t len, strvec *out, size_t max, bool truncate)
{
    item it;
    int r = item_parse(s, len, &it);
    if (r < 0)
        return r;
    if (it.lb == len) {
        if (out->n >= max)
            return truncate ? 0 : -E2BIG;
        strvec_push(out, xstrndup(s, len));
        return 0;
    }
    uint64_t total = 0;
    r = each_range(&it, count_range, &total);
    if (r == -E2BIG && !truncate)
        return r;
    if (r == -EINVAL)
        return r;
    if (!truncate && total > max - out->n)
        return -E2BIG;
    expand_ctx x = { .out = out, .max = max };
    return each_range(&it, emit_range, &x);
}

int hostlist_expand(const char *expr, char ***out, size_t max)
{
    strvec v = {0};
    size_t len = strlen(expr), start = 0;
    int depth = 0, r = 0;
    if (max > INT_MAX)
        max = INT_MAX;
    *out = NULL;
    for (size_t i = 0; len > 0 && i <= len && r == 0; i++) {
        char c = i < len ? expr[i] : ',';
        if (c == '[')
            r = depth++ ? -EINVAL : 0;
        else if (c == ']')
            r = depth-- ? 0 : -EINVAL;
        else if (c == ',' && depth == 0) {
            r = expand_item(expr + start, i - start, &v, max, false);
            start = i + 1;
        }
    }
    if (r == 0 && depth != 0)
        r = -EINVAL;
    if (r < 0) {
        strvec_free(&v);
        return r;
    }
    *out = strvec_take(&v);
    return (int)v.n;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Length of a node name at p: name characters with at most one complete "[...]" group; 0 when
 * there is none (or the group is cut off). */
static size_t scan_name(const char *p)
{
    size_t i = 0;
    bool bracket = false;
    for (;;) {
        if (is_name_char(p[i])) {
            i++;
        } else if (p[i] == '[' && !bracket) {
            const char *rb = strchr(p + i, ']');
            size_t n = strspn(p + i + 1, "0123456789,-");
            if (!rb || rb != p + i + 1 + n)
                return 0;
            i += n + 2;
            bracket = true;
        } else {
            return i;
        }
    }
}

/* Length of the token "name", "name(address)" or "prefix-[1-3]" at p, with the name's length
 * in *namelen; 0 when p holds no name. */
static size_t scan_token(const char *p, size_t *namelen)
{
    size_t n = *namelen = scan_name(p);
    if (n > 0 && p[n] == '(') {
        const char *close = strchr(p + n, ')');
        n = close ? (size_t)(close - p) + 1 : strlen(p);
    }
    return n;
}

/* A malformed hostlist adds nothing; one longer than the room left adds its first names. */
static void add_name(const char *p, size_t n, strvec *v, size_t max)
{
    if (v->n < max)
        (void)expand_item(p, n, v, max, true);
}

/* The items of a Python list or set, "['a(10.0.0.1)', 'b']" (p after the opening bracket). A
 * quoted item cut off by truncation is dropped; the complete ones before it count. */
static void parse_pylist(const char *p, strvec *v, size_t max)
{
    for (;;) {
        p = skip_ws(p);
        if (*p != '\'' && *p != '"')
            return;
        const char *close = strchr(p + 1, *p);
        if (!close)
            return;
        _cleanup_free_ char *tok = xstrndup(p + 1, (size_t)(close - p - 1));
        size_t namelen;
        if (scan_token(tok, &namelen) == strlen(tok) && namelen > 0)
            add_name(tok, namelen, v, max);
        p = skip_ws(close + 1);
        if (*p != ',')
            return;
        p++;
    }
}

/* A hostlist or comma-separated names, ending at the first thing that is not one. */
static void parse_plain(const char *p, strvec *v, size_t max)
{
    for (;;) {
        p = skip_ws(p);
        size_t namelen, n = scan_token(p, &namelen);
        if (n == 0)
            return;
        add_name(p, namelen, v, max);
        p = skip_ws(p + n);
        if (*p != ',')
            return;
        p++;
    }
}

int nodes_parse(const char *text, char ***out, size_t max)
{
    strvec v = {0};
    if (max > INT_MAX)
        max = INT_MAX;
    const char *p = skip_ws(text);
    /* print_with_count's "(x12) " in front of a list */
    if (p[0] == '(' && p[1] == 'x') {
        size_t d = strspn(p + 2, "0123456789");
        if (d > 0 && p[2 + d] == ')')
            p = skip_ws(p + 3 + d);
    }
    if (*p == '[' || *p == '{')
        parse_pylist(p + 1, &v, max);
    else
        parse_plain(p, &v, max);
    *out = strvec_take(&v);
    return (int)v.n;
}

static bool valid_part(const char *s, size_t n)
{
    if (n == 0 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(s[i]) || s[i] == '.' || s[i] == '_')
            return false;
    return true;
}

bool node_name_split(const char *name, char **queue, char **cr)
{
    size_t len = strlen(name), d = len;
    while (d > 0 && is_digit(name[d - 1]))
        d--;
    if (d == len || d < 1 || name[d - 1] != '-')
        return false;
    size_t dash = d - 1;   /* the '-' before the node number */
    for (size_t i = dash >= 5 ? dash - 5 : 0; i >= 1; i--) {
        if (strncmp(name + i, "-st-", 4) != 0 && strncmp(name + i, "-dy-", 4) != 0)
            continue;
        const char *c = name + i + 4;
        size_t clen = dash - (i + 4);
        if (!valid_part(name, i) || !valid_part(c, clen))
            continue;
        if (queue)
            *queue = xstrndup(name, i);
        if (cr)
            *cr = xstrndup(c, clen);
        return true;
    }
    return false;
}
