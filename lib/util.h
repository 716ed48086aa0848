/* Allocation that cannot fail (out of memory is fatal in a small daemon, as in OpenSMTPD's x*
 * allocators) and a growable string buffer. */
#ifndef PCMON_UTIL_H
#define PCMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p to hold at least need elements of size sz; *cap is updated. */
void *xgrow(void *p, size_t *cap, size_t need, size_t sz);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A growable NUL-terminated byte buffer. Zero-initialise; free with strbuf_free(). */
typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

void strbuf_add(strbuf *b, const char *s, size_t n);
void strbuf_adds(strbuf *b, const char *s);
void strbuf_addc(strbuf *b, char c);
void strbuf_addf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_reset(strbuf *b);
/* Returns the buffer's string (caller frees) and leaves b empty. Never NULL. */
char *strbuf_take(strbuf *b);
void strbuf_free(strbuf *b);

/* Parses a duration like "90", "90s", "10m", "4h", "1d", "250ms" into microseconds.
 * Returns 0 on success, -EINVAL on junk or overflow. */
int parse_duration(const char *s, uint64_t *usec);
/* Formats a duration for humans ("10m", "1h30m", "250ms") into buf. */
const char *format_duration(uint64_t usec, char *buf, size_t n);

bool str_eq(const char *a, const char *b);
bool str_startswith(const char *s, const char *prefix);

/* Writes data to path atomically: temp file in the same directory, fsync, rename, fsync dir.
 * Returns 0 or -errno; the old file is untouched on failure. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);
/* Reads a whole file (capped at max bytes). Returns 0 and a NUL-terminated *out, or -errno
 * (-EFBIG past max). */
int read_file(const char *path, size_t max, char **out, size_t *len);

#endif
