#include "tailwatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

/* A file: growth, truncation (IN_MODIFY), unlink (IN_ATTRIB: nlink), rename, deletion. */
#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
/* A directory: names appearing, going and changing mode, and the directory itself going. */
#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | \
                  IN_MOVE_SELF | IN_ONLYDIR)
/* Bounds the retries when the missing directory keeps appearing and vanishing under us. */
#define CLIMB_ATTEMPTS 16

int tailwatch_init(tailwatch *w, int fault)
{
    *w = (tailwatch){ .fd = -1 };
    if (fault)
        return fault;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    return w->fd < 0 ? -errno : 0;
}

void tailwatch_done(tailwatch *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].want);
    free(w->v);
    if (w->fd >= 0)
        close(w->fd);
    *w = (tailwatch){ .fd = -1 };
}

static void push(tailwatch *w, int wd, void *owner, int *wdp, const char *want, bool exact)
{
    w->v = xgrow(w->v, &w->cap, w->n + 1, sizeof *w->v);
    w->v[w->n++] = (tw_entry){ .wd = wd, .owner = owner, .wdp = wdp, .want = want ? xstrdup(want) : NULL,
                               .exact = exact };
}

static bool wd_used(const tailwatch *w, int wd)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].wd == wd)
            return true;
    return false;
}

/* Removes entry i (order kept) and the kernel watch when nobody else uses it. */
static void drop(tailwatch *w, size_t i, bool kernel)
{
    tw_entry e = w->v[i];
    memmove(&w->v[i], &w->v[i + 1], (w->n - i - 1) * sizeof *w->v);
    w->n--;
    free(e.want);
    if (e.wdp)
        *e.wdp = -1;
    if (kernel && w->fd >= 0 && !wd_used(w, e.wd))
        inotify_rm_watch(w->fd, e.wd);
}

int tailwatch_add_file(tailwatch *w, void *owner, int fd, int *wdp)
{
    if (w->fd < 0)
        return -EBADF;
    if (w->fault_watch)
        return w->fault_watch;
    /* by the open fd, so the watch is on the inode that was opened even if the name moved since */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int wd = inotify_add_watch(w->fd, proc, FILE_MASK);
    if (wd < 0)
        return -errno;
    *wdp = wd;
    push(w, wd, owner, wdp, NULL, false);
    return 0;
}

void tailwatch_remove_file(tailwatch *w, int *wdp)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].wdp == wdp) {
            drop(w, i, true);
            return;
        }
    *wdp = -1;
}

/* Moves d one level up: d = dirname(d), *name = the component left. False at the top. */
static bool climb(char *d, char **name)
{
    char *slash = strrchr(d, '/');
    if (!slash || slash[1] == 0 || str_eq(d, "."))
        return false;
    free(*name);
    *name = xstrdup(slash + 1);
    if (slash == d)
        d[1] = 0;
    else
        *slash = 0;
    return true;
}

int tailwatch_add_dir(tailwatch *w, void *owner, const char *dir, const char *want)
{
    if (w->fd < 0)
        return -EBADF;
    if (w->fault_watch)
        return w->fault_watch;
    for (int attempt = 0;; attempt++) {
        _cleanup_free_ char *d = xstrdup(dir);
        _cleanup_free_ char *name = xstrdup(want);
        int wd;
        while ((wd = inotify_add_watch(w->fd, d, DIR_MASK)) < 0) {
            int e = errno;
            if ((e != ENOENT && e != ENOTDIR) || !climb(d, &name))
                return -e;
        }
        bool exact = str_eq(d, dir);
        push(w, wd, owner, NULL, name, exact);
        if (exact || attempt == CLIMB_ATTEMPTS)
            return exact ? 1 : 0;
        /* the next component may have appeared before this watch was in place */
        _cleanup_free_ char *next = xasprintf("%s/%s", str_eq(d, "/") ? "" : d, name);
        struct stat st;
        if (stat(next, &st) < 0 || !S_ISDIR(st.st_mode))
            return 0;
        drop(w, w->n - 1, true);
    }
}

size_t tailwatch_count_dirs(const tailwatch *w, const void *owner)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        n += w->v[i].owner == owner && !w->v[i].wdp;
    return n;
}

void tailwatch_remove_dirs(tailwatch *w, void *owner, size_t keep)
{
    size_t total = tailwatch_count_dirs(w, owner);
    size_t remove = total > keep ? total - keep : 0;
    for (size_t i = 0; i < w->n && remove > 0;) {
        if (w->v[i].owner == owner && !w->v[i].wdp) {
            drop(w, i, true);
            remove--;
        } else
            i++;
    }
}

void tailwatch_remove_owner(tailwatch *w, void *owner)
{
    for (size_t i = 0; i < w->n;) {
        if (w->v[i].owner == owner)
            drop(w, i, true);
        else
            i++;
    }
}

static void dispatch(tailwatch *w, const struct inotify_event *ev, tailwatch_fn fn, void *userdata)
{
    for (size_t i = 0; i < w->n; i++) {
        const tw_entry *e = &w->v[i];
        if (e->wd != ev->wd)
            continue;
        if (e->wdp)
            fn(userdata, e->owner, false);
        else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT))
            fn(userdata, e->owner, true);
        else if (ev->len && str_eq(ev->name, e->want))
            fn(userdata, e->owner, !e->exact || (ev->mask & IN_ISDIR));
    }
    if (ev->mask & IN_IGNORED)   /* the kernel dropped the watch (deleted, unmounted) */
        for (size_t i = 0; i < w->n;) {
            if (w->v[i].wd == ev->wd)
                drop(w, i, false);
            else
                i++;
        }
}

int tailwatch_read(tailwatch *w, tailwatch_fn fn, void *userdata, bool *overflow)
{
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    if (w->fd < 0)
        return 0;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        if (n == 0)
            return 0;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                *overflow = true;
            else
                dispatch(w, ev, fn, userdata);
            p += sizeof *ev + ev->len;
        }
    }
}
