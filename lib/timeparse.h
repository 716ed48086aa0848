/* Timestamps as they appear at the start of ParallelCluster, Slurm, supervisord, cfn-init and
 * chef log lines, and inside the JSON events. All values are microseconds since the epoch, UTC. */
#ifndef PCMON_TIMEPARSE_H
#define PCMON_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a timestamp at the start of line (after an optional '['): "YYYY-MM-DD HH:MM:SS,mmm",
 * "YYYY-MM-DDTHH:MM:SS.ffffff", with an optional "Z" or "+hh:mm" offset (none means UTC, the
 * head node's clock). Returns the number of bytes consumed (>0) and sets *usec, or 0 when the
 * line does not start with a timestamp. Never reads past len. */
size_t ts_parse(const char *line, size_t len, uint64_t *usec);

/* Formats usec as "2026-01-23T18:06:34.184Z" into buf (at least 32 bytes). */
const char *ts_format(uint64_t usec, char *buf, size_t n);

#endif
