/* The multi-literal prefilter: which of a fixed set of byte strings occur in a line, found in one
 * pass over the line instead of one memmem() per rule (rules.c). Wu-Manber: each string is
 * represented by a window of m bytes (m = the shortest string's length, at most 16), a shift table
 * on byte pairs skips up to m - 1 bytes at a time, and only where a window's last pair is seen are
 * the strings compared. Exact: a bit is set if and only if its string occurs in the line. */
#ifndef PCMON_PREFILTER_H
#define PCMON_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct prefilter prefilter;

prefilter *prefilter_new(void);
prefilter *prefilter_free(prefilter *pf);

/* Adds s[0..len) (copied; len >= 1) to be reported as bit `id` of the scan's result. Adding the
 * same id twice keeps the first string. Call prefilter_build before scanning. */
void prefilter_add(prefilter *pf, const char *s, size_t len, unsigned id);
void prefilter_build(prefilter *pf);

/* Sets bit id (present[id / 64] bit id % 64) for every added string that occurs in line; other
 * bits are left as they are (the caller clears them). */
void prefilter_scan(const prefilter *pf, const char *line, size_t len, uint64_t *present);

#endif
