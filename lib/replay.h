/* Replay: recorded logs through the same pipeline as the daemon, in timestamp order across
 * files, with the log's own timestamps as the clock (design.md "replay"). */
#ifndef PCMON_REPLAY_H
#define PCMON_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"

typedef struct replay_input {
    size_t src;          /* index into config->sources */
    const char *open;    /* path to open */
    const char *shown;   /* path used in "path:line" references */
} replay_input;

typedef struct replay_stats {
    uint64_t lines, files_missing;
    uint64_t last_ts;
} replay_stats;

/* Reads every input to its end, merging by timestamp (a line without one keeps its file's last),
 * feeding p and ticking g by the log clock, then flushes g. Missing files are counted and
 * skipped. Returns 0, or -errno when a file could not be read. */
int replay_run(pipeline *p, grouper *g, const replay_input *in, size_t n, size_t max_line, replay_stats *st);

#endif
