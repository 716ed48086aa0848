/* The alert object (design.md): what the grouper emits, the spool stores and every notifier
 * renders. JSON only through json-c, so no log text can break the encoding. */
#ifndef PCMON_ALERT_H
#define PCMON_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"

typedef struct alert {
    char *rule;
    bool resolved;            /* state: "firing" or "resolved" */
    char *severity;
    char *title, *text;
    uint64_t count;
    uint64_t first_seen, last_seen;   /* usec since epoch */
    fieldset labels;          /* identify the group */
    fieldset fields;          /* what a human needs */
    char **lines;             /* "path:lineno", capped by the grouper */
    size_t nlines;
    char **notify;            /* notifier names this alert goes to; 0 = every notifier */
    size_t nnotify;
    char *group_key;          /* stable key of the group (rule + labels), for threading/dedup */
    bool test;                /* a `pcmon test-notify` alert */
} alert;

/* Serialises a as one line of JSON (no trailing newline). Caller frees. */
char *alert_to_json(const alert *a);
/* Parses what alert_to_json wrote. Returns 0, or -EINVAL with *a untouched. */
int alert_from_json(const char *s, size_t len, alert *a);
/* A readable multi-line rendering for a terminal. Caller frees. */
char *alert_format_text(const alert *a, bool color);
void alert_copy(alert *dst, const alert *src);
void alert_clear(alert *a);

#endif
