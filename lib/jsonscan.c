#include "jsonscan.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* json-c is given a depth of 32 (rules.c); staying well below it keeps the two in agreement. */
#define DEPTH_MAX 16
/* Numbers json-c reads exactly as int64 or double without overflow: at most 15 digits per part
 * and a two-digit exponent. Longer ones are left to json-c. */
#define DIGITS_MAX 15

/* Lines up to this long get the quote bitmap (2 KiB on the stack); longer ones, rare, are
 * scanned byte by byte. */
#define BITMAP_MAX 16384

typedef struct cur {
    const char *s;
    size_t i, len;
    int depth;
    const uint64_t *quotes;   /* bit i: s[i] == '"'; NULL: no bitmap (strings scanned bytewise) */
} cur;

static inline void skip_ws(cur *c)
{
    while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

/* The high bit of each of the 8 bytes that ends a plain run of string text: '"', '\\', a control
 * byte or a byte >= 0x80 (the "haszero"/"hasless" word tricks). A flagged byte can be a false
 * one only above a true one, so the lowest flag is exact. */
static inline uint64_t specials8(uint64_t v)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v) & highs;
}

static int hexval(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    if (h >= 'A' && h <= 'F')
        return h - 'A' + 10;
    return -1;
}

/* One escape at c->i == '\\'. \u0000 and surrogates are json-c's business. */
static bool escape(cur *c)
{
    if (c->i + 1 >= c->len)
        return false;
    char e = c->s[c->i + 1];
    if (e != 'u') {
        c->i += 2;
        return strchr("\"\\/bfnrt", e) != NULL && e;
    }
    if (c->i + 6 > c->len)
        return false;
    int v = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = hexval(c->s[c->i + k]);
        if (h < 0)
            return false;
        v = v * 16 + h;
    }
    c->i += 6;
    return v != 0 && (v < 0xD800 || v > 0xDFFF);
}

/* The closing quote from the bitmap: valid when the line has no backslash, control or non-ASCII
 * byte, so that every quote after an opening one closes it. */
static inline bool string_fast(cur *c)
{
    size_t i = c->i + 1, w = i / 64;
    uint64_t bits = c->quotes[w] & (~UINT64_C(0) << (i % 64));
    while (!bits) {
        if (++w * 64 >= c->len)
            return false;
        bits = c->quotes[w];
    }
    c->i = w * 64 + (size_t)__builtin_ctzll(bits) + 1;
    return c->i <= c->len;
}

/* Byte by byte, escapes checked: lines with a backslash, control or non-ASCII byte. */
static __attribute__((noinline)) bool string_slow(cur *c, bool *escaped)
{
    c->i++;
    for (;;) {
        uint64_t v, sp = 0;
        while (c->i + 8 <= c->len && (memcpy(&v, c->s + c->i, 8), (sp = specials8(v)) == 0))
            c->i += 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (sp)   /* the lowest flagged byte is the first in memory (and a true one) */
            c->i += (size_t)__builtin_ctzll(sp) / 8;
#endif
        if (c->i >= c->len)
            return false;
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch == '"') {
            c->i++;
            return true;
        }
        if (ch < 0x20 || ch >= 0x80)
            return false;
        if (ch == '\\') {
            if (!escape(c))
                return false;
            *escaped = true;
        } else
            c->i++;
    }
}

static inline bool string(cur *c, bool *escaped)
{
    return c->quotes ? string_fast(c) : string_slow(c, escaped);
}

static bool digits(cur *c, size_t max)
{
    size_t start = c->i;
    while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9')
        c->i++;
    return c->i > start && c->i - start <= max;
}

static bool number(cur *c)
{
    if (c->s[c->i] == '-')
        c->i++;
    if (c->i < c->len && c->s[c->i] == '0')
        c->i++;
    else if (!digits(c, DIGITS_MAX))
        return false;
    if (c->i < c->len && c->s[c->i] == '.') {
        c->i++;
        if (!digits(c, DIGITS_MAX))
            return false;
    }
    if (c->i < c->len && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->len && (c->s[c->i] == '+' || c->s[c->i] == '-'))
            c->i++;
        return digits(c, 2);
    }
    return true;
}

static bool word(cur *c, const char *w)
{
    size_t n = strlen(w);
    if (c->i + n > c->len || memcmp(c->s + c->i, w, n) != 0)
        return false;
    c->i += n;
    return true;
}

static bool object(cur *c, jscan *top);
static bool array(cur *c);

static bool value(cur *c, enum jtype *type, bool *escaped)
{
    if (c->i >= c->len)
        return false;
    switch (c->s[c->i]) {
    case '"': *type = JSCAN_STRING; return string(c, escaped);
    case '{': *type = JSCAN_OBJECT; return object(c, NULL);
    case '[': *type = JSCAN_ARRAY; return array(c);
    case 't': *type = JSCAN_SCALAR; return word(c, "true");
    case 'f': *type = JSCAN_SCALAR; return word(c, "false");
    case 'n': *type = JSCAN_SCALAR; return word(c, "null");
    default: *type = JSCAN_SCALAR; return (c->s[c->i] == '-' || (c->s[c->i] >= '0' && c->s[c->i] <= '9')) && number(c);
    }
}

/* After an element: ',' (more follow) or the closing character. 1 more, 0 closed, -1 invalid. */
static inline int next(cur *c, char close)
{
    skip_ws(c);
    if (c->i < c->len && c->s[c->i] == ',') {
        c->i++;
        return 1;
    }
    if (c->i < c->len && c->s[c->i] == close) {
        c->i++;
        c->depth--;
        return 0;
    }
    return -1;
}

static bool array(cur *c)
{
    c->i++;
    if (++c->depth > DEPTH_MAX)
        return false;
    skip_ws(c);
    if (c->i < c->len && c->s[c->i] == ']') {
        c->i++;
        c->depth--;
        return true;
    }
    for (;;) {
        enum jtype t;
        bool esc = false;
        skip_ws(c);
        if (!value(c, &t, &esc))
            return false;
        int r = next(c, ']');
        if (r <= 0)
            return r == 0;
    }
}

/* One "key": value member; recorded in top when this is the top-level object. */
static bool member(cur *c, jscan *top)
{
    bool kesc = false, vesc = false;
    enum jtype t;
    skip_ws(c);
    if (c->i >= c->len || c->s[c->i] != '"')
        return false;
    size_t k = c->i;
    if (!string(c, &kesc) || (top && kesc))
        return false;
    size_t kend = c->i;
    skip_ws(c);
    if (c->i >= c->len || c->s[c->i] != ':')
        return false;
    c->i++;
    skip_ws(c);
    size_t v = c->i;
    if (!value(c, &t, &vesc))
        return false;
    if (!top)
        return true;
    if (top->n == JSCAN_MAX)
        return false;
    bool str = t == JSCAN_STRING;
    top->v[top->n++] = (jmember){ .key = c->s + k + 1, .klen = kend - k - 2, .val = c->s + v + str,
                                  .vlen = c->i - v - 2 * str, .type = t, .escaped = vesc };
    return true;
}

static bool object(cur *c, jscan *top)
{
    c->i++;
    if (++c->depth > DEPTH_MAX)
        return false;
    skip_ws(c);
    if (c->i < c->len && c->s[c->i] == '}') {
        c->i++;
        c->depth--;
        return true;
    }
    for (;;) {
        if (!member(c, top))
            return false;
        int r = next(c, '}');
        if (r <= 0)
            return r == 0;
    }
}

#ifdef __SSE2__
/* One pass of 16-byte compares: the quote bitmap, and whether any byte needs the careful string
 * scan (a backslash, a control byte or a byte >= 0x80, which is negative as a signed byte). */
static inline unsigned quotes16(__m128i v)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
}

static inline unsigned specials16(__m128i v)
{
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
                                                    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
}

static bool classify(const char *s, size_t len, uint64_t *quotes)
{
    unsigned special = 0;
    size_t b = 0;
    memset(quotes, 0, (len / 64 + 1) * sizeof(uint64_t));
    for (; b + 16 <= len; b += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + b));
        special |= specials16(v);
        quotes[b / 64] |= (uint64_t)quotes16(v) << (b % 64);
    }
    if (b < len) {   /* the last partial block, from a zero-padded copy */
        char tail[16] = { 0 };
        memcpy(tail, s + b, len - b);
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)tail);
        unsigned keep = (1u << (len - b)) - 1;
        special |= specials16(v) & keep;
        quotes[b / 64] |= (uint64_t)(quotes16(v) & keep) << (b % 64);
    }
    return special == 0;
}
#endif

bool jscan_object(const char *line, size_t len, jscan *out)
{
    cur c = { .s = line, .len = len };
#ifdef __SSE2__
    uint64_t quotes[BITMAP_MAX / 64 + 1];
    if (len <= BITMAP_MAX && classify(line, len, quotes))
        c.quotes = quotes;
#endif
    out->n = 0;
    skip_ws(&c);
    if (c.i >= len || line[c.i] != '{' || !object(&c, out))
        return false;
    skip_ws(&c);
    return c.i == len;
}

const jmember *jscan_get(const jscan *s, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = s->n; i-- > 0;)
        if (s->v[i].klen == n && memcmp(s->v[i].key, key, n) == 0)
            return &s->v[i];
    return NULL;
}
