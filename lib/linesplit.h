/* Splits a byte stream into lines. Bytes are opaque: NUL bytes and invalid UTF-8 pass through.
 * A line ends at '\n' (not delivered). A partial last line is held until its newline arrives or
 * until the caller flushes it. A line longer than max_line bytes is delivered once, cut to its
 * first max_line bytes, and the rest up to its newline is dropped. The split is the same for any
 * chunking of the same stream (tests/unit/test_linesplit.c checks this with random chunks). */
#ifndef PCMON_LINESPLIT_H
#define PCMON_LINESPLIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct linesplit {
    size_t max_line;
    char *buf;           /* the partial line, at most max_line bytes */
    size_t len, cap;
    bool skipping;       /* inside a line already delivered cut: drop bytes up to its newline */
} linesplit;

/* Called once per line; data is valid only during the call and is not NUL-terminated. */
typedef void (*linesplit_fn)(void *userdata, const char *data, size_t len, bool cut);

/* max_line must be > 0. skipping starts the splitter inside a cut line (restored state). */
void linesplit_init(linesplit *ls, size_t max_line, bool skipping);
/* Drops the partial line and the skipping state; keeps the buffer for reuse. */
void linesplit_reset(linesplit *ls, bool skipping);
/* Feeds n bytes and calls fn for every line they complete. */
void linesplit_feed(linesplit *ls, const char *p, size_t n, linesplit_fn fn, void *userdata);
/* Delivers the partial line as a complete one (a writer that never ends its last line).
 * Returns true when a line was delivered. */
bool linesplit_flush(linesplit *ls, linesplit_fn fn, void *userdata);
/* Bytes fed but not yet delivered (the partial line). Skipped bytes count as consumed. */
static inline size_t linesplit_pending(const linesplit *ls) { return ls->len; }
/* Changes the cap for lines not started yet; a longer partial line is cut at the next feed. */
void linesplit_set_max(linesplit *ls, size_t max_line);
void linesplit_free(linesplit *ls);

#endif
