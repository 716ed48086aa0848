/* The rule matcher with the shipped rule table: text lines (PCRE2) and JSON events (json-c) of
 * every source, first match wins, the clears of state rules, flatline activity and the context
 * that one line leaves for the next. Input: lines; the first byte of each picks the source (its
 * value modulo the number of sources), the rest is the log line. */
#include "timeparse.h"

#include "fuzz.h"

#define CLEARS_MAX 8

static void check_match(const pcmon_config *c, rules *r, size_t src, const match *m)
{
    if (m->what == MATCH_NONE) {
        FUZZ_ASSERT(m->fields.n == 0);
        return;
    }
    FUZZ_ASSERT(m->what <= MATCH_CONTEXT && m->rule < c->nrules && rules_applies(r, m->rule, src));
    FUZZ_ASSERT((m->what == MATCH_IGNORE) == c->rules[m->rule].ignore || m->what == MATCH_CONTEXT);
    for (size_t i = 0; i < m->fields.n; i++)
        FUZZ_ASSERT(m->fields.v[i].name && m->fields.v[i].value);
}

static void one_line(fuzz_default *d, size_t src, const char *line, size_t len, uint64_t *ts, match *m,
                     match *clears)
{
    const pcmon_config *c = d->c;
    uint64_t t = 0;
    if (ts_parse(line, len, &t) > 0)
        *ts = t;
    rules_eval(d->r, src, line, len, *ts, m);
    check_match(c, d->r, src, m);
    size_t n = rules_eval_clears(d->r, src, line, len, clears, CLEARS_MAX);
    FUZZ_ASSERT(n <= CLEARS_MAX);
    for (size_t i = 0; i < n; i++) {
        FUZZ_ASSERT(clears[i].rule < c->nrules && c->rules[clears[i].rule].kind == RULE_STATE);
        FUZZ_ASSERT(clears[i].what == MATCH_RESOLVE || clears[i].what == MATCH_PENDING);
    }
    for (size_t ri = 0; ri < c->nrules; ri++)
        if (c->rules[ri].kind == RULE_FLATLINE && rules_applies(d->r, ri, src))
            (void)rules_flatline_activity(d->r, ri, line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_default *d = fuzz_default_get();
    fuzz_default_reset(d);
    const rules_stats *st = rules_get_stats(d->r);
    uint64_t lines0 = st->lines, ts = 0;
    size_t nlines = 0;
    match m = {0}, clears[CLEARS_MAX] = {{0}};
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (eol > p) {
            /* The line is copied to a buffer of its exact size, so ASan sees any read past it. */
            size_t len = (size_t)(eol - p) - 1;
            char *line = xmalloc(len ? len : 1);
            memcpy(line, p + 1, len);
            one_line(d, (unsigned char)p[0] % d->c->nsources, line, len, &ts, &m, clears);
            free(line);
            nlines++;
        }
        p = eol + 1;
    }
    FUZZ_ASSERT(st->lines - lines0 == nlines);
    fields_free(&m.fields);
    for (size_t i = 0; i < CLEARS_MAX; i++)
        fields_free(&clears[i].fields);
    return 0;
}
