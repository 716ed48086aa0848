/* Required-literal extraction: the prefilter that lets most lines skip PCRE2 entirely. */
#ifndef PCMON_LITERAL_H
#define PCMON_LITERAL_H

#include <stddef.h>

/* Returns the longest byte string that every match of the PCRE2 pattern must contain, taken from
 * the pattern's required parts (outside optional, repeated, alternated and opaque constructs;
 * plain groups such as (?<code>Name) count), or "" when there is none (top-level '|', option
 * settings such as (?i) or (?x)). Conservative: never a string a match could lack. Caller frees. */
char *literal_required(const char *pattern);

/* "Any of" strings: every match of the pattern contains at least one of v[0..n). Either the
 * longest required literal (n == 1) or, when their shortest is longer, the literals of the
 * branches of a required alternation ((?<code>A|B), or a top-level A|B), at most LITSET_MAX.
 * n == 0: no prefilter, every line must be tried. Free with litset_free. */
#define LITSET_MAX 16
typedef struct litset {
    char **v;
    size_t n;
} litset;
litset literal_any(const char *pattern);
void litset_free(litset *s);

#endif
