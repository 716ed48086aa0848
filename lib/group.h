/* One group: the facts merged from every match of an incident, and the alert built from them.
 * Internal to the grouper (grouper.c, grouper_state.c). */
#ifndef PCMON_GROUP_H
#define PCMON_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "fields.h"

/* Distinct values kept per field; more are counted ("+N more"). */
#define GROUP_VALUES_MAX 16
/* Distinct node names kept per group; a 256-node storm fits many times over. */
#define GROUP_NODES_MAX 8192

enum group_state { GROUP_WAITING, GROUP_FIRING };

typedef struct valset {
    char *name;
    char *values[GROUP_VALUES_MAX];
    size_t n;
    uint64_t more;
} valset;

typedef struct group {
    size_t rule;
    char *key;
    fieldset labels;
    valset *vals;
    size_t nvals;
    char **nodes;             /* sorted, distinct */
    size_t nnodes, nodes_cap;
    uint64_t nodes_more;
    uint64_t count;
    uint64_t first_seen, last_seen;   /* log time */
    char **lines;
    size_t nlines;
    enum group_state state;
    uint64_t notify_at;       /* GROUP_WAITING: when group_wait ends */
    uint64_t close_at;        /* event groups: quiet for group_interval */
    uint64_t last_notified;
    uint64_t notified_count;
    uint64_t pending_at;      /* state groups: a clear was requested; report if still firing then */
    char *resolve_value;      /* state groups with resolve_changed: the firing value */
    bool flatline;
    size_t src;               /* flatline groups */
} group;

group *group_new(size_t rule, const char *key);
void group_free(group *grp);
/* Merges one match: fields (node/nodes into the node set), its line (capped at max_lines;
 * returns false when the line was dropped), timestamps and count. */
bool group_add(group *grp, const fieldset *f, const char *lineref, uint64_t ts, unsigned max_lines);
/* Builds the alert: labels, merged fields, rendered title/text. `resolved` and `extra` (fields
 * of the resolving line, may be NULL) describe the notification. Caller clears a. */
void group_build_alert(const group *grp, const pcmon_config *c, bool resolved, const fieldset *extra,
                       const char *note, alert *a);
/* The label set and key for rule r and match fields f. */
char *group_key_for(const pcmon_config *c, size_t r, const fieldset *f, fieldset *labels);
void group_add_value(group *grp, const char *name, const char *value);
void group_add_node(group *grp, const char *name);

#endif
