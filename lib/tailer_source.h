/* Internals of the tailer shared by tailer.c (following, the event loop side, the public API) and
 * tailer_source.c (what a source is, and recovery: the census of rotated siblings, generations
 * missed while nobody looked, copytruncate copies, restoring saved offsets). Only these two
 * files include it. */
#ifndef PCMON_TAILER_SOURCE_H
#define PCMON_TAILER_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "offsets.h"
#include "tailer.h"
#include "tailfile.h"
#include "tailwatch.h"

/* Rotated generations open at once per source; past it the oldest is finished. logrotate's
 * `rotate 1` needs 2; the tests' 100 forced rotations in a few seconds need more. */
#define MAX_OLDS 16
/* Rotated siblings remembered (rotate N keeps N; ParallelCluster uses 1). Past it the census
 * forgets the oldest and remembers only the newest birth time it forgot (the horizon). */
#define MAX_SEEN 256

enum dir_state { DIR_NONE, DIR_ANCESTOR, DIR_EXACT };

typedef struct tsource {
    size_t idx;                /* in the config */
    char *name, *cfgpath;
    char *path;                /* root + cfgpath: what is opened and reported */
    char *dir, *base;          /* of path */
    char *rdir, *rbase;        /* of the file path resolves to (symlinks): where its siblings are */
    bool link;
    bool start_at_beginning;
    bool first;                /* no saved state: a file found now starts at its end */
    enum dir_state dir_state;
    tailfile *cur;             /* the file the path names, NULL when there is none */
    tailfile *olds[MAX_OLDS];  /* rotated generations still being drained, oldest first */
    size_t nolds;
    offset_id *seen;           /* the census: rotated siblings seen (union of every look) */
    size_t nseen;
    uint64_t horizon;          /* the census is bounded: newest birth time of a sibling it forgot */
    uint64_t newest;           /* birth time of the newest generation followed: a missed one is newer */
    bool dirty, rewatch, backlog, polling;
    bool parent_watch;         /* the directory's parent is watched: an unlinked file pins it */
    bool hold;                 /* the file holds part of its first line only: not read yet */
    uint64_t hold_since;
    bool writer_moved;         /* the current file has data: a rotated one's writer went there */
    int open_err;              /* last open error reported, to say it once */
    uint64_t lines, cut_lines, truncations, rotations, gaps;
} tsource;

struct tailer {
    tsource **src;
    size_t nsrc;
    char *root, *state_file;
    size_t max_line;
    uint64_t partial_flush;
    tailer_line_fn fn;
    void *userdata;
    tailer_warn_fn warn;
    void *warn_ud;
    tailwatch w;
    int fault_init, fault_watch;
    bool polling;              /* no inotify at all */
    bool started, dirty;       /* dirty: state changed since the last commit */
    uint64_t next_poll, last_now, overflows;
    char *buf;
};

/* tailer_source.c */
tsource *tailer_source_new(tailer *t, const source_cfg *sc, size_t idx);
void tailer_source_free(tailer *t, tsource *s);
void tailer_source_limits(tsource *s, size_t max_line);
/* Follows symlinks in the path to find where rotated siblings live; sets rewatch on a change. */
void tailer_resolve(tsource *s);
/* Takes the census of the rotated siblings. adopt: first take the ones not seen before (not
 * open, not a copy of an open generation) as generations that were missed, read from 0.
 * False (nothing done, the source marked dirty) when the current file was renamed meanwhile. */
bool tailer_rescan(tailer *t, tsource *s, uint64_t now, bool adopt);
/* After a truncation of the generation described by lost (head: its first head_len bytes, or NULL
 * when only the hash is known): finds its copy among the siblings and drains it from
 * lost->offset, then any later copies that are not a copy of the file's present content
 * (now_head). True when the copy was found (also when it holds nothing past lost->offset). */
bool tailer_recover_copy(tailer *t, tsource *s, const offset_gen *lost, const char *head, const char *now_head,
                         size_t now_len, uint64_t now);
/* The saved generation was empty (no head to recognise it by): drains every copy made since that
 * the census has not seen, except a copy of the present content (now_head). */
void tailer_recover_since_empty(tailer *t, tsource *s, const char *now_head, size_t now_len, uint64_t now);
/* Puts the saved generations back: the current one where the path still names it, rotated ones
 * found among the siblings by device, inode and head. */
void tailer_restore(tailer *t, tsource *s, const offset_entry *e, uint64_t now);
void tailer_seen_add(tsource *s, const tailfile *f);
/* Records the birth time of a generation followed. */
void tailer_note_newest(tsource *s, uint64_t btime);

/* tailer.c */
void tailer_warnf(tailer *t, const tsource *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tailer_push_old(tailer *t, tsource *s, tailfile *f);
void tailer_watch_file(tailer *t, tsource *s, tailfile *f);

#endif
