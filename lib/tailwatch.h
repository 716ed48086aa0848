/* The tailer's inotify watches: one inotify fd, a table from watch descriptor to the owners that
 * care (a source's open files, its directory, or the nearest existing ancestor of a directory that
 * is not there yet). Several owners may share one watch (sources in one directory); a watch is
 * removed when its last owner lets go. Events are hints only: the tailer re-reads the file system
 * to decide what happened, so a lost event (queue overflow) costs a rescan, not a line. */
#ifndef PCMON_TAILWATCH_H
#define PCMON_TAILWATCH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tw_entry {
    int wd;
    void *owner;
    int *wdp;                  /* file watch: where its wd is kept (set to -1 when the kernel drops it) */
    char *want;                /* directory watch: the one name in it that matters */
    bool exact;                /* directory watch on the file's own directory (not an ancestor) */
} tw_entry;

typedef struct tailwatch {
    int fd;                    /* -1: no inotify (the tailer polls) */
    tw_entry *v;
    size_t n, cap;
    int fault_watch;           /* test hook: every add fails with this -errno when non-zero */
} tailwatch;

/* Called for each event that concerns owner. structural: the directory layout changed (an
 * ancestor gained the next component, a watched directory went away): the owner's directory
 * watches need to be set up again. */
typedef void (*tailwatch_fn)(void *userdata, void *owner, bool structural);

/* Creates the inotify fd; fault (a -errno, test hook) makes it fail as on a host at its limits.
 * Returns 0 or -errno (w->fd is then -1 and the tailer polls). */
int tailwatch_init(tailwatch *w, int fault);
void tailwatch_done(tailwatch *w);

/* Watches the open file fd (its inode, whatever its name is now) for owner; *wdp receives the
 * watch. 0 or -errno (-ENOSPC at max_user_watches). */
int tailwatch_add_file(tailwatch *w, void *owner, int fd, int *wdp);
void tailwatch_remove_file(tailwatch *w, int *wdp);
/* Watches dir for the name want; when dir does not exist, the nearest existing ancestor for the
 * next component. Returns 1 (dir itself watched), 0 (an ancestor) or -errno. Add the new watches before removing the old ones (see
 * tailwatch_remove_dirs) so a shared watch is never dropped and re-created. */
int tailwatch_add_dir(tailwatch *w, void *owner, const char *dir, const char *want);
/* Removes owner's directory watches except the last keep ones added. */
void tailwatch_remove_dirs(tailwatch *w, void *owner, size_t keep);
size_t tailwatch_count_dirs(const tailwatch *w, const void *owner);
/* Removes everything of owner. */
void tailwatch_remove_owner(tailwatch *w, void *owner);

/* Reads every queued event and calls fn for the owners concerned. *overflow is set when the
 * queue overflowed (events were lost: rescan everything). Returns 0 or -errno. */
int tailwatch_read(tailwatch *w, tailwatch_fn fn, void *userdata, bool *overflow);

#endif
