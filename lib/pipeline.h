/* One line's way through pcmon: timestamp, rules, derived fields, grouper. The daemon feeds it
 * from the tailer with the wall clock; replay feeds it from recorded files with the log clock. */
#ifndef PCMON_PIPELINE_H
#define PCMON_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "grouper.h"
#include "rules.h"

typedef struct pipeline pipeline;

/* Called for every classified line when set (replay --matches): rule index, what, "path:line". */
typedef void (*pipeline_match_fn)(void *userdata, size_t rule, enum match_what what, const char *lineref);

typedef struct pipeline_stats {
    uint64_t lines;
    uint64_t cut_lines;       /* longer than max_line: matched on their first part (cap counter) */
    uint64_t untimed_lines;   /* no timestamp of their own: continuation lines, junk */
} pipeline_stats;

/* r and g must outlive the pipeline. */
pipeline *pipeline_new(const pcmon_config *c, rules *r, grouper *g);
pipeline *pipeline_free(pipeline *p);
void pipeline_set_match_fn(pipeline *p, pipeline_match_fn fn, void *userdata);

/* The line's own timestamp, or the last one seen on this source (continuation lines), or 0. */
uint64_t pipeline_timestamp(pipeline *p, size_t src, const char *data, size_t len);

/* Processes one physical line of source src. path and lineno make its "path:lineno" reference;
 * ts comes from pipeline_timestamp; now is the grouper's clock. */
void pipeline_line(pipeline *p, size_t src, const char *path, uint64_t lineno, const char *data, size_t len,
                   bool cut, uint64_t ts, uint64_t now);

/* Runs the grouper's timers due at now: grouper_tick when grouper_next_deadline(g) <= now. The
 * pipeline keeps a lower bound of that deadline across its lines, so that the grouper (which walks
 * every open group to find it) is asked only after a match or when the bound is reached. For
 * callers that change g only through this pipeline (replay). */
void pipeline_tick(pipeline *p, uint64_t now);

const pipeline_stats *pipeline_get_stats(const pipeline *p);

#endif
