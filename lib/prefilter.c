#include "prefilter.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Longer windows skip further but every string must have one: 16 bytes already skips most of a
 * 200-byte log line in about a dozen steps. */
#define WINDOW_MAX 16
/* Byte triples hash into 4 KiB of shift table (one per source): small enough to stay in L1. */
#define HASH_BITS 12
#define HASH_SIZE (1u << HASH_BITS)

typedef struct pf_key {
    char *s;
    size_t len;
    size_t off;      /* where its window starts in s */
    unsigned id;
    unsigned tail;   /* hash of the window's last byte pair: where a compare is due */
} pf_key;

struct prefilter {
    pf_key *v;       /* strings of three bytes or more, scanned by window */
    size_t n, cap;
    pf_key *shorts;  /* strings of one or two bytes (and past 65535 strings), found with memmem */
    size_t nshorts, cap_shorts;
    size_t m;        /* window length */
    uint16_t *first; /* per triple hash: 1 + the first of the strings (sorted by tail) ending there */
    uint8_t shift[HASH_SIZE];
};

/* Three bytes ending at p: with pairs, the two dozen strings of one source cover most pairs of
 * log text and the scan barely skips; triples keep the table sparse. */
static inline unsigned triple(const unsigned char *p)
{
    return ((unsigned)p[-2] << 6 ^ (unsigned)p[-1] << 3 ^ p[0]) & (HASH_SIZE - 1);
}

/* How often a byte turns up in log text (higher: more often), to put each string's window on its
 * rarest bytes: a window ending in a common pair would stop the scan at every such pair. */
static int common(unsigned char c)
{
    if (c == ' ')
        return 10;
    if (strchr("etaoinsrlhd", c) && c)
        return 8;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("-:,.[]_'()", c)))
        return 6;
    if (c >= 'A' && c <= 'Z')
        return 3;
    return 2;
}

static size_t best_window(const char *s, size_t len, size_t m)
{
    size_t best = 0;
    int best_score = -1;
    for (size_t off = 0; off + m <= len; off++) {
        int score = 0;
        for (size_t i = 0; i < m; i++)
            score += common((unsigned char)s[off + i]);
        score += 3 * (common((unsigned char)s[off + m - 2]) + common((unsigned char)s[off + m - 1]));
        if (best_score < 0 || score < best_score) {
            best_score = score;
            best = off;
        }
    }
    return best;
}

prefilter *prefilter_new(void)
{
    return xcalloc(1, sizeof(prefilter));
}

prefilter *prefilter_free(prefilter *pf)
{
    if (!pf)
        return NULL;
    for (size_t i = 0; i < pf->n; i++)
        free(pf->v[i].s);
    for (size_t i = 0; i < pf->nshorts; i++)
        free(pf->shorts[i].s);
    free(pf->v);
    free(pf->shorts);
    free(pf->first);
    free(pf);
    return NULL;
}

static bool has_id(const pf_key *v, size_t n, unsigned id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return true;
    return false;
}

void prefilter_add(prefilter *pf, const char *s, size_t len, unsigned id)
{
    if (len == 0 || has_id(pf->v, pf->n, id) || has_id(pf->shorts, pf->nshorts, id))
        return;
    pf_key k = { .s = xstrndup(s, len), .len = len, .id = id };
    if (len < 3 || pf->n >= UINT16_MAX) {   /* (first[] holds 16-bit indexes) */
        pf->shorts = xgrow(pf->shorts, &pf->cap_shorts, pf->nshorts + 1, sizeof *pf->shorts);
        pf->shorts[pf->nshorts++] = k;
        return;
    }
    pf->v = xgrow(pf->v, &pf->cap, pf->n + 1, sizeof *pf->v);
    pf->v[pf->n++] = k;
}

static int by_tail(const void *a, const void *b)
{
    unsigned x = ((const pf_key *)a)->tail, y = ((const pf_key *)b)->tail;
    return x < y ? -1 : x > y;
}

void prefilter_build(prefilter *pf)
{
    pf->m = WINDOW_MAX;
    for (size_t i = 0; i < pf->n; i++)
        if (pf->v[i].len < pf->m)
            pf->m = pf->v[i].len;
    memset(pf->shift, (int)(pf->m - 2), sizeof pf->shift);
    for (size_t i = 0; i < pf->n; i++) {
        pf_key *k = &pf->v[i];
        k->off = best_window(k->s, k->len, pf->m);
        const unsigned char *w = (const unsigned char *)k->s + k->off;
        k->tail = triple(w + pf->m - 1);
        for (size_t j = 2; j < pf->m; j++) {
            unsigned h = triple(w + j);
            if (pf->shift[h] > pf->m - 1 - j)
                pf->shift[h] = (uint8_t)(pf->m - 1 - j);
        }
    }
    /* A stop compares only the strings whose window ends in that triple: sorted by tail, they
     * are one run starting at first[tail]. */
    if (pf->n) /* qsort's base must not be NULL, even for zero elements */
        qsort(pf->v, pf->n, sizeof *pf->v, by_tail);
    free(pf->first);
    pf->first = pf->n ? xcalloc(HASH_SIZE, sizeof *pf->first) : NULL;
    for (size_t i = pf->n; i-- > 0;)
        pf->first[pf->v[i].tail] = (uint16_t)(i + 1);
}

static inline bool bit(const uint64_t *present, unsigned id)
{
    return present[id / 64] >> (id % 64) & 1;
}

/* A window ends at e with a triple some strings' windows end with: compare those strings in
 * place. Returns how many were found. */
static size_t compare_at(const prefilter *pf, const char *line, size_t len, size_t e, unsigned h, uint64_t *present)
{
    size_t ws = e + 1 - pf->m, found = 0;
    for (size_t i = pf->first[h] - 1u; i < pf->n && pf->v[i].tail == h; i++) {
        const pf_key *k = &pf->v[i];
        if (bit(present, k->id) || ws < k->off || ws - k->off + k->len > len)
            continue;
        if (memcmp(line + ws - k->off, k->s, k->len) == 0) {
            present[k->id / 64] |= UINT64_C(1) << (k->id % 64);
            found++;
        }
    }
    return found;
}

/* One Wu-Manber step of a cursor: the window ending at *e; compares when its last triple is some
 * string's, then moves on by the shift (at least one byte). */
static inline void step(const prefilter *pf, const char *line, size_t len, size_t *e, size_t *left,
                        uint64_t *present)
{
    unsigned h = triple((const unsigned char *)line + *e);
    unsigned sh = pf->shift[h];
    if (__builtin_expect(sh == 0, 0))
        *left -= compare_at(pf, line, len, *e, h, present);
    *e += sh + (sh == 0);
}

void prefilter_scan(const prefilter *pf, const char *line, size_t len, uint64_t *present)
{
    for (size_t i = 0; i < pf->nshorts; i++)
        if (memmem(line, len, pf->shorts[i].s, pf->shorts[i].len))
            present[pf->shorts[i].id / 64] |= UINT64_C(1) << (pf->shorts[i].id % 64);
    if (pf->n == 0 || len < pf->m)
        return;
    /* Two cursors over the two halves of the window ends: each step waits for a load, then a
     * table lookup, and two independent chains keep the CPU busy while either waits. */
    /* Once every string is found the rest of the line cannot add anything (a JSON source with one
     * literal finds it early in most of its lines). */
    size_t a = pf->m - 1, mid = (pf->m - 1 + len) / 2, b = mid, left = pf->n;
    while (a < mid && b < len && left)
        step(pf, line, len, &a, &left, present), step(pf, line, len, &b, &left, present);
    while (a < mid && left)
        step(pf, line, len, &a, &left, present);
    while (b < len && left)
        step(pf, line, len, &b, &left, present);
}
