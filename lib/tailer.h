/* The tailer follows every configured source by path and hands each complete line to a callback,
 * exactly once, in file order, across rename-and-create rotation (the old inode is drained to its
 * end first, also while its writer still appends for a moment), copytruncate (the shrink is
 * detected and the lines between the last read and the copy are recovered from the copy),
 * truncation, deletion and re-creation, files and directories that appear later, symlinked paths,
 * inotify queue overflow (rescan) and restarts (offsets in <state_dir>/offsets.json).
 *
 * inotify tells it when to look; what happened is always decided from the file system (device,
 * inode, size, a hash of the first bytes), so a lost event costs a rescan, never a line. With no
 * inotify (ENOSPC/EMFILE) it polls every second and says so in the status. An idle tailer has no
 * deadline: it wakes only for events.
 *
 * Lines: a partial last line waits for its newline (or config partial_flush of idleness); a line
 * longer than config max_line is delivered cut to max_line bytes (counted); bytes are opaque
 * (NUL, invalid UTF-8). Rotated or compressed siblings that existed before are never read as new
 * data. lib/ rules: no clock (now is passed in, microseconds), no logging (warnings go to an
 * optional callback and to the counters in the status). */
#ifndef PCMON_TAILER_H
#define PCMON_TAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct tailer tailer;

typedef struct tailer_line {
    size_t src;          /* index into config->sources */
    const char *path;    /* the path as configured (under root when root is set) */
    uint64_t lineno;     /* 1-based physical line number within the current file generation */
    const char *data;    /* without the newline; not NUL-terminated */
    size_t len;
    bool cut;            /* longer than max_line: only the first max_line bytes */
} tailer_line;

/* Called for every line, during tailer_process/tailer_start only. Must not call the tailer. A
 * rotated file still being drained is reported with the configured path and its own numbering. */
typedef void (*tailer_line_fn)(void *userdata, const tailer_line *l);
/* Something an operator should hear about (a copytruncate gap, inotify unavailable, unreadable
 * state). src is the source index, or (size_t)-1 for the tailer as a whole. */
typedef void (*tailer_warn_fn)(void *userdata, size_t src, const char *msg);

/* root: "" or a directory prefixed to every configured path (tests and `replay --root`). The
 * config is copied: it may be freed after tailer_new/tailer_reconfigure return. Never NULL. */
tailer *tailer_new(const pcmon_config *c, const char *root, tailer_line_fn fn, void *userdata);
/* Optional; set before tailer_start to hear about the start itself. */
void tailer_set_warn(tailer *t, tailer_warn_fn fn, void *userdata);
/* Test hook, before tailer_start: inotify_init (init_err) and/or every inotify_add_watch
 * (watch_err) fail with that -errno, as on a host at its inotify limits. */
void tailer_inject_inotify_failure(tailer *t, int init_err, int watch_err);

/* Loads the offsets from c->state_dir/offsets.json, sets up the watches and reads what is there
 * (lines may be delivered). With no saved state an existing file is read from its end (from its
 * start with `start_at: beginning`); a file that appears later is read from its start. An
 * unreadable state file is reported and treated as none. Returns 0 or -errno. */
int tailer_start(tailer *t, uint64_t now);
/* The inotify fd to poll for POLLIN, or -1 when polling (tailer_next_deadline says when). */
int tailer_fd(const tailer *t);
/* Drains the events, reads new data, delivers lines, flushes idle partial lines and closes
 * rotated files that are finished. Reads at most a bounded amount per source per call: when more
 * is waiting, tailer_next_deadline returns now. Returns 0 or -errno (the tailer stays usable). */
int tailer_process(tailer *t, uint64_t now);
/* When tailer_process must run even without an event: now when a backlog is waiting, the partial
 * line flush or the end of a rotated file's grace, the next poll; USEC_INFINITY when idle. */
uint64_t tailer_next_deadline(const tailer *t, uint64_t now);
/* Persists the offsets of every line delivered so far (write, fsync, rename). Call it only once
 * everything derived from those lines is safe (in the spool): a crash before the commit re-reads
 * them, a crash after does not. Does nothing when nothing changed. Returns 0 or -errno. */
int tailer_commit(tailer *t);
/* Applies a new config: sources added (read like a first start) or removed; sources whose name
 * and path are unchanged keep their files and offsets; max_line and partial_flush apply at once.
 * Returns 0 or -errno. */
int tailer_reconfigure(tailer *t, const pcmon_config *c);

typedef struct tailer_source_status {
    const char *path;          /* valid until the next tailer_reconfigure/tailer_free */
    bool exists;               /* the path names a file being followed */
    uint64_t dev, ino, offset, size, lineno;
    uint64_t lines, cut_lines, truncations, rotations;
    uint64_t gaps;             /* truncations with no copy to recover from, generations gone at restart */
    size_t draining;           /* rotated generations still open */
    bool polling;              /* followed by polling every second: inotify unavailable */
} tailer_source_status;

/* Fills up to max entries (one per source, config order). Returns the number of sources. */
size_t tailer_status(const tailer *t, tailer_source_status *out, size_t max);
/* Times the inotify queue overflowed (each followed by a full rescan). */
uint64_t tailer_overflows(const tailer *t);
/* Closes everything without committing; accepts NULL, returns NULL. */
tailer *tailer_free(tailer *t);

#endif
