/* The rule engine's multi-literal prefilter (lib/prefilter.h) against memmem: a bit is set if
 * and only if its string occurs in the line. Input: byte 0 gives the number of strings (1 + b %
 * 12); each string is a length byte (1 + b % 24) and its bytes; the rest is the line. Ids are
 * spread over several 64-bit words. */
#include "prefilter.h"

#include "fuzz.h"

#define STRINGS_MAX 12
#define WORDS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = 1 + data[0] % STRINGS_MAX, i = 1, k = 0;
    const char *s[STRINGS_MAX];
    size_t len[STRINGS_MAX];
    unsigned id[STRINGS_MAX];
    prefilter *pf = prefilter_new();
    for (; k < n && i < size; k++) {
        len[k] = 1 + data[i++] % 24;
        if (len[k] > size - i)
            break;
        s[k] = (const char *)data + i;
        id[k] = (unsigned)(k * 23 % (WORDS * 64));
        prefilter_add(pf, s[k], len[k], id[k]);
        i += len[k];
    }
    prefilter_build(pf);
    const char *line = (const char *)data + i;
    size_t line_len = size - i;
    uint64_t present[WORDS] = { 0 };
    prefilter_scan(pf, line, line_len, present);
    for (size_t j = 0; j < k; j++) {
        bool want = memmem(line, line_len, s[j], len[j]) != NULL;
        bool got = present[id[j] / 64] >> (id[j] % 64) & 1;
        if (want != got)
            fprintf(stderr, "string %zu (%zu bytes): memmem %d, prefilter %d\n", j, len[j], want, got);
        FUZZ_ASSERT(want == got);
    }
    prefilter_free(pf);
    return 0;
}
