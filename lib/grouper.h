/* Grouping, deduplication and resolution with Alertmanager semantics (design.md "Grouping").
 * Matches with the same rule and group_by labels form a group. Event groups notify once after
 * group_wait, absorb the rest of the incident while matches keep coming closer than
 * group_interval, and are re-notified with new totals only after repeat_interval. State groups
 * fire once, absorb repeats, re-notify after repeat_interval and send `resolved` on their
 * clearing line. Flatline rules fire on silence. The clock is passed in: the daemon passes the
 * wall clock, replay the log's own timestamps. */
#ifndef PCMON_GROUPER_H
#define PCMON_GROUPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "fields.h"
#include "rules.h"

typedef struct grouper grouper;

/* Receives each alert as it is decided; a is only valid during the call. */
typedef void (*grouper_emit_fn)(void *userdata, const alert *a);

typedef struct grouper_stats {
    uint64_t matches;          /* fire matches absorbed into groups */
    uint64_t groups_opened;
    uint64_t alerts;           /* alerts emitted (firing + resolved) */
    uint64_t groups_evicted;   /* max_groups reached: the oldest closed early (cap counter) */
    uint64_t lines_dropped;    /* contributing lines past max_lines (cap counter) */
    uint64_t resolved_unfired; /* clears of a state that was never notified */
    uint64_t closed_count;     /* sum of the counts of groups that closed: with the open groups'
                                * counts it accounts for every match (no match is lost) */
} grouper_stats;

grouper *grouper_new(const pcmon_config *c, grouper_emit_fn emit, void *userdata);
grouper *grouper_free(grouper *g);

/* Cluster context for labels and messages (NULL or "" = unknown). Copied. */
void grouper_set_context(grouper *g, const char *cluster, const char *region);

/* Feeds one classified line: rule index, what matched, its fields, "path:lineno", the line's
 * timestamp and the current clock. Ignore/context/none matches are not for the grouper. */
void grouper_match(grouper *g, size_t rule, enum match_what what, const fieldset *f, const char *lineref,
                   uint64_t ts, uint64_t now);

/* A line that counts as activity for flatline rule `rule` on source `src` arrived at now. */
void grouper_activity(grouper *g, size_t rule, size_t src, const char *lineref, uint64_t now);
/* Starts the silence clock of every flatline rule and source at now (daemon start). */
void grouper_arm_flatlines(grouper *g, uint64_t now);

/* Runs every timer due at or before now. */
void grouper_tick(grouper *g, uint64_t now);
/* The earliest pending timer, USEC_INFINITY when none. */
uint64_t grouper_next_deadline(const grouper *g);
/* Emits every group still in group_wait (end of a replay). */
void grouper_flush(grouper *g, uint64_t now);

/* Persistence (design.md: grouping state survives a restart). save returns JSON (caller frees);
 * restore replaces the open groups with the saved ones whose rule still exists: 0 or -EINVAL. */
char *grouper_save(const grouper *g);
int grouper_restore(grouper *g, const char *json, size_t len);

size_t grouper_open_groups(const grouper *g);
/* Sum of the counts of the open groups. */
uint64_t grouper_open_count(const grouper *g);
const grouper_stats *grouper_get_stats(const grouper *g);

#endif
