/* The tailer's line splitter against a plain model of its contract (linesplit.h): a line ends
 * at '\n'; one longer than max_line is delivered once, cut to max_line bytes; the partial last
 * line comes out on flush. The split must not depend on how the stream is chunked: the input is
 * fed whole, then in chunks whose sizes come from the input, then byte by byte when short.
 * Input: byte 0 picks max_line (1 + b % 64, small so that cuts happen), byte 1 seeds the chunk
 * sizes, the rest is the stream. */
#include "linesplit.h"

#include "fuzz.h"

typedef struct lines {
    strbuf all;       /* every line as "<cut flag><len bytes>\n", to compare whole runs */
    size_t n;
} lines;

static void collect(void *userdata, const char *data, size_t len, bool cut)
{
    lines *l = userdata;
    strbuf_addf(&l->all, "%c%zu:", cut ? 'C' : 'L', len);
    strbuf_add(&l->all, data, len);
    strbuf_addc(&l->all, '\n');
    l->n++;
}

/* What linesplit.h promises, written the obvious way. */
static void model(const char *p, size_t n, size_t max, lines *out)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '\n')
            continue;
        size_t len = i - start;
        if (len > max)
            collect(out, p + start, max, true);
        else if (i < n || len > 0)
            collect(out, p + start, len, false);
        start = i + 1;
    }
}

static void split(const char *p, size_t n, size_t max, unsigned seed, lines *out)
{
    linesplit ls;
    linesplit_init(&ls, max, false);
    size_t i = 0;
    while (i < n) {
        /* seed 0: one feed; 1: byte by byte; otherwise pseudo-random chunks of 1..64 bytes */
        size_t step = seed == 0 ? n : seed == 1 ? 1 : 1 + (seed = seed * 1103515245u + 12345u) / 65536 % 64;
        if (step > n - i)
            step = n - i;
        linesplit_feed(&ls, p + i, step, collect, out);
        FUZZ_ASSERT(linesplit_pending(&ls) <= max);
        i += step;
    }
    linesplit_flush(&ls, collect, out);
    FUZZ_ASSERT(linesplit_pending(&ls) == 0);
    linesplit_free(&ls);
}

static void check_same(const lines *a, const lines *b, const char *what)
{
    if (a->all.len != b->all.len || (a->all.len && memcmp(a->all.s, b->all.s, a->all.len) != 0)) {
        fprintf(stderr, "%s differs from the model\nmodel:\n%.*s\nsplitter:\n%.*s\n", what, (int)a->all.len,
                a->all.s, (int)b->all.len, b->all.s);
        FUZZ_ASSERT(!"same lines");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = 1 + data[0] % 64;
    unsigned seed = data[1] < 2 ? 2 : data[1];
    const char *p = (const char *)data + 2;
    size_t n = size - 2;
    lines want = {0}, whole = {0}, chunks = {0}, bytes = {0};
    model(p, n, max, &want);
    split(p, n, max, 0, &whole);
    check_same(&want, &whole, "one feed");
    split(p, n, max, seed, &chunks);
    check_same(&want, &chunks, "chunked feeds");
    if (n <= 512) {
        split(p, n, max, 1, &bytes);
        check_same(&want, &bytes, "byte-by-byte feeds");
    }
    strbuf_free(&want.all);
    strbuf_free(&whole.all);
    strbuf_free(&chunks.all);
    strbuf_free(&bytes.all);
    return 0;
}
