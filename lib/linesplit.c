#include "linesplit.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void linesplit_init(linesplit *ls, size_t max_line, bool skipping)
{
    *ls = (linesplit){ .max_line = max_line ? max_line : 1, .skipping = skipping };
}

void linesplit_reset(linesplit *ls, bool skipping)
{
    ls->len = 0;
    ls->skipping = skipping;
}

void linesplit_set_max(linesplit *ls, size_t max_line)
{
    ls->max_line = max_line ? max_line : 1;
}

void linesplit_free(linesplit *ls)
{
    free(ls->buf);
    ls->buf = NULL;
    ls->len = ls->cap = 0;
}

static void hold(linesplit *ls, const char *p, size_t n)
{
    ls->buf = xgrow(ls->buf, &ls->cap, ls->len + n, 1);
    memcpy(ls->buf + ls->len, p, n);
    ls->len += n;
}

/* Delivers the held bytes followed by p[0..n), without copying when nothing is held. */
static void emit(linesplit *ls, const char *p, size_t n, bool cut, linesplit_fn fn, void *userdata)
{
    if (ls->len == 0) {
        fn(userdata, p, n, cut);
        return;
    }
    hold(ls, p, n);
    size_t len = ls->len;
    ls->len = 0;
    fn(userdata, ls->buf, len, cut);
}

void linesplit_feed(linesplit *ls, const char *p, size_t n, linesplit_fn fn, void *userdata)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;   /* bytes before the newline */
        size_t step = nl ? seg + 1 : n;
        if (ls->skipping) {
            ls->skipping = !nl;
        } else if (ls->len > ls->max_line || seg > ls->max_line - ls->len) {
            /* over the cap: deliver the first max_line bytes once, drop the rest of the line */
            size_t keep = ls->len >= ls->max_line ? 0 : ls->max_line - ls->len;
            if (ls->len > ls->max_line)
                ls->len = ls->max_line;
            emit(ls, p, keep, true, fn, userdata);
            ls->skipping = !nl;
        } else if (nl) {
            emit(ls, p, seg, false, fn, userdata);
        } else {
            hold(ls, p, seg);
        }
        p += step;
        n -= step;
    }
}

bool linesplit_flush(linesplit *ls, linesplit_fn fn, void *userdata)
{
    if (ls->len == 0)
        return false;
    size_t len = ls->len;
    ls->len = 0;
    fn(userdata, ls->buf, len, false);
    return true;
}
