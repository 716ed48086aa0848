/* A validating scan of a one-line JSON object that indexes its top-level members in place,
 * without building objects: what the JSON rules need for most ParallelCluster events (a few
 * top-level strings such as "event-type") at a fraction of json-c's cost (rules.c).
 * It accepts only a strict subset of what json-c accepts, so a line it accepts is one json-c
 * parses into the same members; for anything else (escapes in top-level keys, unusual numbers,
 * surrogate escapes, non-ASCII or control bytes, deep nesting, text after the object) it gives
 * up and the caller parses with json-c. */
#ifndef PCMON_JSONSCAN_H
#define PCMON_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

enum jtype { JSCAN_STRING, JSCAN_SCALAR, JSCAN_OBJECT, JSCAN_ARRAY };

typedef struct jmember {
    const char *key;     /* the key's bytes, without quotes (never escaped) */
    size_t klen;
    const char *val;     /* a string's bytes without quotes; other values as written */
    size_t vlen;
    enum jtype type;     /* JSCAN_SCALAR: number, true, false or null */
    bool escaped;        /* a string value holding backslash escapes (val is not its text) */
} jmember;

/* Objects with more top-level members are left to json-c. */
#define JSCAN_MAX 32

typedef struct jscan {
    jmember v[JSCAN_MAX];
    size_t n;
} jscan;

/* Scans line[0..len). True: a JSON object with its top-level members in out->v, in order. False:
 * not handled here (invalid, or outside the subset): ask json-c. */
bool jscan_object(const char *line, size_t len, jscan *out);

/* The member named key (the last one when repeated, as json-c keeps), or NULL. */
const jmember *jscan_get(const jscan *s, const char *key);

#endif
