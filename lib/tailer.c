#include "tailer.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "offsets.h"
#include "tailer_source.h"
#include "tailfile.h"
#include "tailwatch.h"
#include "util.h"

/* Read size: a few pages of syscalls per megabyte of backlog, small enough to stay in L2. */
#define READ_BUF (256 * 1024)
/* Per source and tailer_process call, so a backlog of gigabytes still lets the loop turn
 * (watchdog, deliveries, commits) every few tens of milliseconds. */
#define SOURCE_BUDGET (8u << 20)
/* The fallback when inotify is unavailable (Fluent Bit and coreutils tail use 1 s too). */
#define POLL_INTERVAL USEC_PER_SEC
/* A rotated file whose writer has moved to the new file (or that is deleted) is kept this long
 * after it stopped growing: a ResumeProgram still running with the old file open can pause for
 * a few seconds between lines (an EC2 call). */
#define DRAIN_GRACE (10 * USEC_PER_SEC)
/* ... and one whose writer has not shown up in the new file (rename without create): this long. */
#define DRAIN_IDLE_MAX (5 * 60 * USEC_PER_SEC)

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t idle_for(uint64_t now, uint64_t since)
{
    return now > since ? now - since : 0;
}

void tailer_warnf(tailer *t, const tsource *s, const char *fmt, ...)
{
    if (!t->warn)
        return;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *body = NULL;
    if (vasprintf(&body, fmt, ap) < 0)
        body = NULL;
    va_end(ap);
    if (!body)
        return;
    _cleanup_free_ char *msg = s ? xasprintf("%s: %s", s->path, body) : NULL;
    t->warn(t->warn_ud, s ? s->idx : (size_t)-1, msg ? msg : body);
}

typedef struct deliver {
    tailer *t;
    tsource *s;
    tailfile *f;
} deliver;

static void on_line(void *userdata, const char *data, size_t len, bool cut)
{
    deliver *d = userdata;
    d->f->lineno++;
    d->s->lines++;
    d->s->cut_lines += cut;
    d->t->dirty = true;
    tailer_line l = { .src = d->s->idx, .path = d->s->path, .lineno = d->f->lineno, .data = data, .len = len,
                      .cut = cut };
    d->t->fn(d->t->userdata, &l);
}

static void read_gen(tailer *t, tsource *s, tailfile *f, uint64_t limit, size_t *budget, uint64_t now)
{
    deliver d = { t, s, f };
    if (tailfile_read(f, t->buf, READ_BUF, limit, budget, now, on_line, &d) > 0)
        t->dirty = true;
    if (f->stale)
        s->dirty = true;   /* truncated under us: the next look handles it */
}

static void flush_gen(tailer *t, tsource *s, tailfile *f)
{
    deliver d = { t, s, f };
    if (linesplit_flush(&f->ls, on_line, &d))
        t->dirty = true;
}

void tailer_watch_file(tailer *t, tsource *s, tailfile *f)
{
    if (f->wd >= 0 || t->w.fd < 0)
        return;
    int r = tailwatch_add_file(&t->w, s, f->fd, &f->wd);
    if (r < 0 && !s->polling) {
        tailer_warnf(t, s, "cannot watch the file with inotify (%s): polling it every second", strerror(-r));
        s->polling = true;
    }
}

static void close_old(tailer *t, tsource *s, size_t i)
{
    tailfile *f = s->olds[i];
    flush_gen(t, s, f);
    tailer_seen_add(s, f);
    tailwatch_remove_file(&t->w, &f->wd);
    tailfile_close(f);
    memmove(&s->olds[i], &s->olds[i + 1], (s->nolds - i - 1) * sizeof *s->olds);
    s->nolds--;
    t->dirty = true;
}

void tailer_push_old(tailer *t, tsource *s, tailfile *f)
{
    if (s->nolds == MAX_OLDS) {
        /* the oldest rotated generation's writer is long gone: finish it now */
        size_t budget = SIZE_MAX;
        read_gen(t, s, s->olds[0], UINT64_MAX, &budget, t->last_now);
        close_old(t, s, 0);
    }
    s->olds[s->nolds++] = f;
    tailer_watch_file(t, s, f);
    t->dirty = true;
}

/* An open generation of s has no name left (deleted, or rotated and then compressed away). Its
 * dentry keeps the directory's alive: were the directory removed now, its IN_DELETE_SELF would
 * wait until that file is closed, up to the drain grace and more. */
static bool pins_dir(const tsource *s)
{
    if (s->cur && s->cur->unlinked)
        return true;
    for (size_t i = 0; i < s->nolds; i++)
        if (s->olds[i]->unlinked)
            return true;
    return false;
}

/* Watches dir for base and, while a deleted file pins dir (pins_dir), dir's parent for dir's own
 * name, which hears an rmdir at once. Only then: the parent (/var/log for /var/log/parallelcluster)
 * has other busy entries, and each event on a watch is a wake-up. Returns add_dir's result. */
static int watch_dir(tailer *t, tsource *s, const char *dir, const char *base, bool parent, size_t *added,
                     bool *failed)
{
    int r = tailwatch_add_dir(&t->w, s, dir, base);
    *added += r >= 0;
    *failed |= r < 0;
    const char *slash = strrchr(dir, '/');
    if (parent && r == 1 && slash && slash != dir && slash[1]) {
        _cleanup_free_ char *name = xstrdup(slash + 1);
        _cleanup_free_ char *up = xstrndup(dir, (size_t)(slash - dir));
        struct stat before, after;
        bool had = stat(dir, &before) == 0;
        int r2 = tailwatch_add_dir(&t->w, s, up, name);
        *added += r2 >= 0;
        *failed |= r2 < 0;
        /* removed (or replaced) before the parent's watch was there: look again */
        if (!had || stat(dir, &after) < 0 || after.st_ino != before.st_ino || after.st_dev != before.st_dev)
            s->dirty = s->rewatch = true;
    }
    return r;
}

static void watch_source(tailer *t, tsource *s, uint64_t now)
{
    s->rewatch = false;
    if (t->w.fd < 0) {
        s->polling = true;
        return;
    }
    bool failed = false;
    size_t added = 0;
    s->parent_watch = pins_dir(s);
    int r = watch_dir(t, s, s->dir, s->base, s->parent_watch, &added, &failed);
    if (s->link && (!str_eq(s->rdir, s->dir) || !str_eq(s->rbase, s->base)))
        watch_dir(t, s, s->rdir, s->rbase, s->parent_watch, &added, &failed);
    tailwatch_remove_dirs(&t->w, s, added);
    /* the directory just appeared: what is in it already is not new rotated data */
    if (r == 1 && s->dir_state == DIR_ANCESTOR)
        tailer_rescan(t, s, now, false);
    if (r >= 0)
        s->dir_state = r == 1 ? DIR_EXACT : DIR_ANCESTOR;
    bool was = s->polling;
    s->polling = false;
    if (s->cur && s->cur->wd < 0)
        tailer_watch_file(t, s, s->cur);
    for (size_t i = 0; i < s->nolds; i++)
        tailer_watch_file(t, s, s->olds[i]);
    s->polling |= failed;
    if (failed && !was)
        tailer_warnf(t, s, "cannot watch its directory with inotify (%s): polling every second",
                     strerror(-(r < 0 ? r : -ENOSPC)));
}

/* The file holds part of its first line only: too little to tell its generation from another
 * (log lines share their first bytes, "2026-01-23 18:"), which the copytruncate recovery must.
 * Waits for the line (its write is an event), at most partial_flush. */
static bool first_line_pending(tailer *t, tsource *s, const char *head, size_t len, uint64_t now)
{
    if (len == 0 || len >= OFFSETS_HEAD_MAX || memchr(head, '\n', len)) {
        s->hold_since = 0;
        return false;
    }
    if (!s->hold_since)
        s->hold_since = now ? now : 1;
    if (idle_for(now, s->hold_since) >= t->partial_flush) {
        s->hold_since = 0;
        return false;
    }
    s->hold = true;
    return true;
}

static void check_truncation(tailer *t, tsource *s, uint64_t now)
{
    tailfile *c = s->cur;
    if (tailfile_stat(c) < 0)
        return;
    if (c->head_len == 0 && c->pos == 0 && c->size > 0) {
        /* nothing to check the first bytes against (empty when last seen, just after a
         * truncation): a copytruncate since then left its lines only in a new copy */
        char now_head[OFFSETS_HEAD_MAX];
        size_t now_len = tailfile_read_head(c, now_head);
        if (first_line_pending(t, s, now_head, now_len, now))
            return;
        tailer_recover_since_empty(t, s, now_head, now_len, now);
        /* that content is now meant to be read from the file itself: reads are checked
         * against it, so another truncation first sends them to its copy */
        tailfile_set_head(c, now_head, now_len);
        return;
    }
    if (c->size >= c->pos && tailfile_head_is(c, c->head_hash, c->head_len))
        return;
    offset_gen lost;
    char head[OFFSETS_HEAD_MAX], now_head[OFFSETS_HEAD_MAX];
    size_t now_len = tailfile_read_head(c, now_head);
    if (first_line_pending(t, s, now_head, now_len, now))
        return;
    tailfile_state(c, &lost);
    memcpy(head, c->head, c->head_len);
    s->truncations++;
    t->dirty = true;
    tailfile_seek(c, 0, 0, false);
    tailfile_set_head(c, now_head, now_len);
    if (!tailer_recover_copy(t, s, &lost, head, now_head, now_len, now) && lost.offset > 0) {
        s->gaps++;
        tailer_warnf(t, s,
                     "truncated at offset %llu and no rotated copy holds its lines: any written after "
                     "that offset before the truncation are lost (copytruncate gap unrecoverable)",
                     (unsigned long long)lost.offset);
    }
}

/* Says once why the path cannot be followed (a symlink loop, a directory or a FIFO where the log
 * should be, no permission); it is looked at again on its next event, never polled for. */
static void path_problem(tailer *t, tsource *s, int err)
{
    if (err == s->open_err)
        return;
    s->open_err = err;
    if (err == 0 || err == -ENOENT || err == -ENOTDIR)
        return;
    if (err == -EISDIR)
        tailer_warnf(t, s, "is a directory, not a log file: not read until a regular file replaces it");
    else if (err == -EINVAL)
        tailer_warnf(t, s, "is not a regular file (a FIFO, socket or device): never opened for reading");
    else if (err == -ELOOP)
        tailer_warnf(t, s, "cannot open: %s (a symlink loop): not followed until the link is fixed", strerror(-err));
    else
        tailer_warnf(t, s, "cannot open: %s", strerror(-err));
}

static void open_cur(tailer *t, tsource *s, uint64_t now)
{
    int err;
    tailfile *f = tailfile_open(s->path, t->max_line, now, &err);
    path_problem(t, s, f ? 0 : err);
    if (!f)
        return;
    for (size_t i = 0; i < s->nolds; i++)
        if (s->olds[i]->dev == f->dev && s->olds[i]->ino == f->ino) {
            /* renamed away and back: the same generation again */
            tailfile_close(f);
            s->cur = s->olds[i];
            memmove(&s->olds[i], &s->olds[i + 1], (s->nolds - i - 1) * sizeof *s->olds);
            s->nolds--;
            return;
        }
    if (s->first && !s->start_at_beginning && tailfile_seek_end(f, t->buf, READ_BUF) < 0)
        tailfile_seek(f, f->size, 0, false);
    /* installed before the scan: if it is renamed meanwhile, the scan must know it is not new */
    s->cur = f;
    tailer_watch_file(t, s, f);
    if (!tailer_rescan(t, s, now, !s->first) && !s->first) {
        /* renamed during the scan (rotations back to back): generations missed before it may be
         * there, and they come first. Let go of it: the next look takes it, in birth order, with
         * them (a first start has nothing older to take and keeps it). */
        tailwatch_remove_file(&t->w, &f->wd);
        s->cur = tailfile_close(f);
        return;
    }
    tailer_note_newest(s, f->btime);
    t->dirty = true;
}

/* Decides from the file system what the path is now: the same file (maybe truncated), a new file
 * after a rotation or deletion, or nothing. */
static void check_path(tailer *t, tsource *s, uint64_t now)
{
    struct stat st;
    int err = stat(s->path, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    bool exists = err == 0;
    if (err < 0)   /* never opened: a FIFO would block a reader, a directory is not a log */
        path_problem(t, s, err);
    if (s->cur) {
        if (exists && st.st_dev == s->cur->dev && st.st_ino == s->cur->ino) {
            check_truncation(t, s, now);
            return;
        }
        tailfile *f = TAKE_PTR(s->cur);
        tailfile_stat(f);
        tailer_push_old(t, s, f);
        s->rotations++;
        if (!exists)
            tailer_rescan(t, s, now, true);
    }
    if (exists)
        open_cur(t, s, now);
}

static bool old_finished(const tsource *s, const tailfile *f, uint64_t now)
{
    if (f->pos < f->size)
        return false;
    if (f->copy)
        return true;
    uint64_t grace = f->unlinked || s->writer_moved ? DRAIN_GRACE : DRAIN_IDLE_MAX;
    return idle_for(now, f->last_growth) >= grace;
}

static void flush_idle(tailer *t, tsource *s, uint64_t now)
{
    for (size_t i = 0; i <= s->nolds; i++) {
        tailfile *f = i < s->nolds ? s->olds[i] : s->cur;
        if (f && linesplit_pending(&f->ls) && idle_for(now, f->last_growth) >= t->partial_flush)
            flush_gen(t, s, f);
    }
}

/* One look at a source: path, rotated generations to their end (oldest first), then the current
 * file up to the size it had before the rotated ones were drained, so that lines a writer put in
 * the old file before switching are delivered before the new file's. */
static void sync_source(tailer *t, tsource *s, uint64_t now)
{
    s->dirty = false;
    s->hold = false;
    tailer_resolve(s);
    if (s->rewatch)
        watch_source(t, s, now);
    check_path(t, s, now);
    uint64_t limit = UINT64_MAX;
    if (s->cur && tailfile_stat(s->cur) == 0)
        limit = s->cur->size;
    s->writer_moved = s->cur && limit > 0;
    size_t budget = SOURCE_BUDGET;
    bool olds_done = true;
    for (size_t i = 0; i < s->nolds;) {
        tailfile *f = s->olds[i];
        read_gen(t, s, f, UINT64_MAX, &budget, now);
        if (budget == 0) {
            olds_done = false;
            break;
        }
        tailfile_stat(f);
        if (old_finished(s, f, now)) {
            close_old(t, s, i);
            continue;
        }
        i++;
    }
    if (s->cur && olds_done && !s->hold)
        read_gen(t, s, s->cur, limit, &budget, now);
    s->backlog = budget == 0;
    flush_idle(t, s, now);
    if (t->w.fd >= 0 && pins_dir(s) != s->parent_watch)
        s->dirty = s->rewatch = true;   /* watch the parent, or stop */
}

static uint64_t source_deadline(const tailer *t, const tsource *s)
{
    if (s->dirty || s->backlog)
        return 0;
    uint64_t next = s->hold ? add_sat(s->hold_since, t->partial_flush) : USEC_INFINITY;
    for (size_t i = 0; i <= s->nolds; i++) {
        const tailfile *f = i < s->nolds ? s->olds[i] : s->cur;
        if (!f)
            continue;
        if (linesplit_pending(&f->ls)) {
            uint64_t d = add_sat(f->last_growth, t->partial_flush);
            next = d < next ? d : next;
        }
        if (i < s->nolds) {
            uint64_t d = f->copy ? 0 : add_sat(f->last_growth, f->unlinked || s->writer_moved ? DRAIN_GRACE : DRAIN_IDLE_MAX);
            next = d < next ? d : next;
        }
    }
    return next;
}

static void mark(void *userdata, void *owner, bool structural)
{
    tsource *s = owner;
    s->dirty = true;
    s->rewatch |= structural;
}

static bool any_polling(const tailer *t)
{
    if (t->polling)
        return true;
    for (size_t i = 0; i < t->nsrc; i++)
        if (t->src[i]->polling)
            return true;
    return false;
}

int tailer_process(tailer *t, uint64_t now)
{
    t->last_now = now;
    bool overflow = false;
    int r = tailwatch_read(&t->w, mark, t, &overflow);
    if (overflow) {
        t->overflows++;
        for (size_t i = 0; i < t->nsrc; i++)
            t->src[i]->dirty = t->src[i]->rewatch = true;
    }
    bool poll = any_polling(t) && now >= t->next_poll;
    if (poll)
        t->next_poll = now + POLL_INTERVAL;
    for (size_t i = 0; i < t->nsrc; i++) {
        tsource *s = t->src[i];
        if (poll && (t->polling || s->polling)) {
            s->dirty = true;
            s->rewatch |= !t->polling;
        }
        if (s->dirty || source_deadline(t, s) <= now)
            sync_source(t, s, now);
    }
    return r;
}

uint64_t tailer_next_deadline(const tailer *t, uint64_t now)
{
    uint64_t next = any_polling(t) ? t->next_poll : USEC_INFINITY;
    for (size_t i = 0; i < t->nsrc; i++) {
        uint64_t d = source_deadline(t, t->src[i]);
        next = d < next ? d : next;
    }
    return next < now ? now : next;
}

int tailer_fd(const tailer *t)
{
    return t->w.fd;
}

static void start_source(tailer *t, tsource *s, const offset_entry *e, uint64_t now)
{
    tailer_resolve(s);
    watch_source(t, s, now);
    if (e)
        tailer_restore(t, s, e, now);
    else {
        s->first = true;
        tailer_rescan(t, s, now, false);
    }
    sync_source(t, s, now);
    s->first = false;
}

int tailer_start(tailer *t, uint64_t now)
{
    t->last_now = now;
    offset_table saved = {0};
    int r = offsets_load(t->state_file, &saved);
    if (r < 0 && r != -ENOENT)
        tailer_warnf(t, NULL, "%s: unreadable (%s): starting without saved offsets (at the end of existing files)",
                     t->state_file, r == -EINVAL ? "not pcmon's offsets format" : strerror(-r));
    r = tailwatch_init(&t->w, t->fault_init);
    if (r < 0) {
        t->polling = true;
        tailer_warnf(t, NULL, "inotify unavailable (%s): inotify exhausted, polling every second", strerror(-r));
    }
    t->w.fault_watch = t->fault_watch;
    t->next_poll = now + POLL_INTERVAL;
    for (size_t i = 0; i < t->nsrc; i++) {
        const offset_entry *e = offsets_find(&saved, t->src[i]->name);
        start_source(t, t->src[i], e && str_eq(e->path, t->src[i]->path) ? e : NULL, now);
    }
    offsets_clear(&saved);
    t->started = true;
    t->dirty = true;
    return 0;
}

int tailer_commit(tailer *t)
{
    if (!t->dirty)
        return 0;
    offset_table tab = {0};
    for (size_t i = 0; i < t->nsrc; i++) {
        const tsource *s = t->src[i];
        offset_entry *e = offsets_add(&tab, s->name, s->path);
        if (s->cur) {
            e->has_cur = true;
            tailfile_state(s->cur, &e->cur);
        }
        for (size_t k = 0; k < s->nolds; k++) {
            offset_gen g;
            tailfile_state(s->olds[k], &g);
            offsets_add_drain(e, &g);
        }
        for (size_t k = 0; k < s->nseen; k++)
            offsets_add_seen(e, &s->seen[k]);
        e->horizon = s->horizon;
    }
    int r = offsets_save(t->state_file, &tab);
    offsets_clear(&tab);
    if (r == 0)
        t->dirty = false;
    return r;
}

static void apply_limits(tailer *t, const pcmon_config *c)
{
    t->max_line = c->max_line ? c->max_line : 65536;
    t->partial_flush = c->partial_flush ? c->partial_flush : 5 * USEC_PER_SEC;
    free(t->state_file);
    t->state_file = xasprintf("%s/offsets.json", c->state_dir ? c->state_dir : ".");
}

tailer *tailer_new(const pcmon_config *c, const char *root, tailer_line_fn fn, void *userdata)
{
    tailer *t = xcalloc(1, sizeof *t);
    t->fn = fn;
    t->userdata = userdata;
    t->root = xstrdup(root ? root : "");
    for (size_t n = strlen(t->root); n > 1 && t->root[n - 1] == '/'; n--)
        t->root[n - 1] = 0;
    t->w.fd = -1;
    t->buf = xmalloc(READ_BUF);
    apply_limits(t, c);
    t->src = xcalloc(c->nsources ? c->nsources : 1, sizeof *t->src);
    for (size_t i = 0; i < c->nsources; i++)
        t->src[t->nsrc++] = tailer_source_new(t, &c->sources[i], i);
    return t;
}

void tailer_set_warn(tailer *t, tailer_warn_fn fn, void *userdata)
{
    t->warn = fn;
    t->warn_ud = userdata;
}

void tailer_inject_inotify_failure(tailer *t, int init_err, int watch_err)
{
    t->fault_init = init_err;
    t->fault_watch = watch_err;
}

int tailer_reconfigure(tailer *t, const pcmon_config *c)
{
    apply_limits(t, c);
    tsource **nv = xcalloc(c->nsources ? c->nsources : 1, sizeof *nv);
    bool *fresh = xcalloc(c->nsources ? c->nsources : 1, sizeof *fresh);
    for (size_t i = 0; i < c->nsources; i++) {
        for (size_t k = 0; k < t->nsrc && !nv[i]; k++)
            if (t->src[k] && str_eq(t->src[k]->name, c->sources[i].name) &&
                str_eq(t->src[k]->cfgpath, c->sources[i].path))
                nv[i] = TAKE_PTR(t->src[k]);
        if (!nv[i]) {
            nv[i] = tailer_source_new(t, &c->sources[i], i);
            fresh[i] = true;
        }
        nv[i]->idx = i;
        nv[i]->start_at_beginning = c->sources[i].start_at_beginning;
        tailer_source_limits(nv[i], t->max_line);
    }
    for (size_t k = 0; k < t->nsrc; k++)
        tailer_source_free(t, t->src[k]);
    free(t->src);
    t->src = nv;
    t->nsrc = c->nsources;
    for (size_t i = 0; i < t->nsrc && t->started; i++)
        if (fresh[i])
            start_source(t, t->src[i], NULL, t->last_now);
    free(fresh);
    t->dirty = true;
    return 0;
}

size_t tailer_status(const tailer *t, tailer_source_status *out, size_t max)
{
    for (size_t i = 0; i < t->nsrc && i < max; i++) {
        const tsource *s = t->src[i];
        tailer_source_status *o = &out[i];
        *o = (tailer_source_status){ .path = s->path, .exists = s->cur != NULL, .lines = s->lines,
                                     .cut_lines = s->cut_lines, .truncations = s->truncations,
                                     .rotations = s->rotations, .gaps = s->gaps, .draining = s->nolds,
                                     .polling = t->polling || s->polling };
        if (s->cur) {
            o->dev = s->cur->dev;
            o->ino = s->cur->ino;
            o->offset = tailfile_done(s->cur);
            o->size = s->cur->size;
            o->lineno = s->cur->lineno;
        }
    }
    return t->nsrc;
}

uint64_t tailer_overflows(const tailer *t)
{
    return t->overflows;
}

tailer *tailer_free(tailer *t)
{
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->nsrc; i++)
        tailer_source_free(t, t->src[i]);
    free(t->src);
    tailwatch_done(&t->w);
    free(t->root);
    free(t->state_file);
    free(t->buf);
    free(t);
    return NULL;
}
