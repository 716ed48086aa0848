/* Context remembered by context rules: fields of an earlier line (e.g. the nodes a resume process
 * is launching) keyed by source, context rule and key value (e.g. the PID), handed to later
 * matches of the same source and key. Bounded in entries and by each rule's ttl. */
#ifndef PCMON_CONTEXT_H
#define PCMON_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fields.h"

typedef struct context_table context_table;

context_table *context_table_new(void);
void context_table_free(context_table *t);
void context_table_clear(context_table *t);
/* Records f (copied) for (src, rule, value of f[key_field] or ""). Replaces an older entry. */
void context_put(context_table *t, size_t src, size_t rule, const char *key_field, const fieldset *f, uint64_t ts);
/* Adds to f the fields of every live context of src whose key matches f and that is meant for
 * rule (its `for:` list is empty or names rule). Fields f already has win. */
void context_apply(context_table *t, const pcmon_config *c, size_t src, size_t rule, fieldset *f, uint64_t ts);

#endif
