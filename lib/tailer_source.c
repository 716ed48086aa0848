#include "tailer_source.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

/* Symlinks followed to find the real file (the kernel's own limit is 40; logs use one). */
#define LINK_DEPTH 8
/* Looks at the siblings when a saved generation is not found: logrotate's `rotate N` renames
 * every base.N to base.N+1 and a scan racing it can miss a file. */
#define FIND_ATTEMPTS 4
/* Scans of a directory that keeps changing before the last one is taken as it is: a listing
 * costs about 2 us per sibling, and logrotate's cascade of renames for `rotate N` lasts a few
 * milliseconds, longer on a loaded host (measured: 140 siblings, 2 CPUs, load 4). A quiet
 * directory takes two scans. */
#define SCAN_ATTEMPTS 256
/* A rotated sibling whose first bytes equal an open generation's over at least this many bytes
 * is a copy of it, not a missed generation (one timestamped log line is longer). */
#define HEAD_MATCH_MIN 64

static void split_path(const char *path, char **dir, char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        *dir = xstrdup(".");
        *base = xstrdup(path);
        return;
    }
    *dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    *base = xstrdup(slash + 1);
}

tsource *tailer_source_new(tailer *t, const source_cfg *sc, size_t idx)
{
    tsource *s = xcalloc(1, sizeof *s);
    s->idx = idx;
    s->name = xstrdup(sc->name);
    s->cfgpath = xstrdup(sc->path);
    s->path = t->root[0] ? xasprintf("%s%s%s", t->root, sc->path[0] == '/' ? "" : "/", sc->path) : xstrdup(sc->path);
    split_path(s->path, &s->dir, &s->base);
    s->rdir = xstrdup(s->dir);
    s->rbase = xstrdup(s->base);
    s->start_at_beginning = sc->start_at_beginning;
    return s;
}

void tailer_source_free(tailer *t, tsource *s)
{
    if (!s)
        return;
    tailwatch_remove_owner(&t->w, s);
    tailfile_close(s->cur);
    for (size_t i = 0; i < s->nolds; i++)
        tailfile_close(s->olds[i]);
    free(s->name);
    free(s->cfgpath);
    free(s->path);
    free(s->dir);
    free(s->base);
    free(s->rdir);
    free(s->rbase);
    free(s->seen);
    free(s);
}

void tailer_source_limits(tsource *s, size_t max_line)
{
    if (s->cur)
        linesplit_set_max(&s->cur->ls, max_line);
    for (size_t i = 0; i < s->nolds; i++)
        linesplit_set_max(&s->olds[i]->ls, max_line);
}

void tailer_resolve(tsource *s)
{
    _cleanup_free_ char *p = xstrdup(s->path);
    bool link = false;
    for (int depth = 0; depth < LINK_DEPTH; depth++) {
        struct stat st;
        char target[PATH_MAX];
        if (lstat(p, &st) < 0 || !S_ISLNK(st.st_mode))
            break;
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n <= 0)
            break;
        target[n] = 0;
        link = true;
        char *next;
        if (target[0] == '/')
            next = xstrdup(target);
        else {
            _cleanup_free_ char *d = NULL, *b = NULL;
            split_path(p, &d, &b);
            next = xasprintf("%s/%s", d, target);
        }
        free(p);
        p = next;
    }
    _cleanup_free_ char *d = NULL, *b = NULL;
    split_path(p, &d, &b);
    if (link == s->link && str_eq(d, s->rdir) && str_eq(b, s->rbase))
        return;
    s->link = link;
    free(s->rdir);
    free(s->rbase);
    s->rdir = TAKE_PTR(d);
    s->rbase = TAKE_PTR(b);
    s->rewatch = true;
}

static bool seen_has(const tsource *s, uint64_t dev, uint64_t ino, uint64_t btime)
{
    for (size_t i = 0; i < s->nseen; i++)
        if (s->seen[i].dev == dev && s->seen[i].ino == ino && s->seen[i].btime == btime)
            return true;
    return false;
}

static void raise_horizon(tsource *s, uint64_t btime)
{
    if (btime > s->horizon)
        s->horizon = btime;
}

/* Full: the sibling born first is forgotten (not the one seen first) and the horizon moves up to
 * its birth: an unseen sibling born no later than the horizon is old data that was forgotten,
 * never a copy made since (see new_since_census). */
static void seen_push(tsource *s, uint64_t dev, uint64_t ino, uint64_t btime)
{
    if (seen_has(s, dev, ino, btime))
        return;
    if (!s->seen)
        s->seen = xcalloc(MAX_SEEN, sizeof *s->seen);
    if (s->nseen == MAX_SEEN) {
        size_t oldest = 0;
        for (size_t i = 1; i < s->nseen; i++)
            if (s->seen[i].btime < s->seen[oldest].btime)
                oldest = i;
        if (btime < s->seen[oldest].btime) {
            raise_horizon(s, btime);   /* older than everything remembered */
            return;
        }
        raise_horizon(s, s->seen[oldest].btime);
        memmove(&s->seen[oldest], &s->seen[oldest + 1], (--s->nseen - oldest) * sizeof *s->seen);
    }
    s->seen[s->nseen++] = (offset_id){ dev, ino, btime };
}

static uint64_t seen_newest(const tsource *s)
{
    uint64_t m = 0;
    for (size_t i = 0; i < s->nseen; i++)
        m = s->seen[i].btime > m ? s->seen[i].btime : m;
    return m;
}

/* A sibling that no look has seen and that was born after everything the census forgot: made
 * since the last look (or missed by a scan that raced a rename). Without birth times only the
 * census decides. */
static bool new_since_census(const tsource *s, const tailfile_probe *p)
{
    return !seen_has(s, p->dev, p->ino, p->btime) && (!p->btime || p->btime > s->horizon);
}

void tailer_seen_add(tsource *s, const tailfile *f)
{
    if (!f->unlinked)
        seen_push(s, f->dev, f->ino, f->btime);
}

static bool is_open(const tsource *s, uint64_t dev, uint64_t ino)
{
    if (s->cur && s->cur->dev == dev && s->cur->ino == ino)
        return true;
    for (size_t i = 0; i < s->nolds; i++)
        if (s->olds[i]->dev == dev && s->olds[i]->ino == ino)
            return true;
    return false;
}

static bool heads_agree(tailfile_probe *p, const tailfile *f, size_t min)
{
    tailfile_probe_head(p);
    size_t n = p->head_n < f->head_len ? p->head_n : f->head_len;
    return n >= min && n > 0 && memcmp(p->head, f->head, n) == 0;
}

static bool copy_of_open(const tsource *s, tailfile_probe *p)
{
    if (s->cur && heads_agree(p, s->cur, HEAD_MATCH_MIN))
        return true;
    for (size_t i = 0; i < s->nolds; i++)
        if (heads_agree(p, s->olds[i], HEAD_MATCH_MIN))
            return true;
    return false;
}

/* The rotation number of base.N, or -1. */
static long rotation_number(const tsource *s, const char *path)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    size_t bl = strlen(s->rbase);
    if (strncmp(name, s->rbase, bl) != 0 || name[bl] != '.')
        return -1;
    return strtol(name + bl + 1, NULL, 10);
}

/* Oldest first: by birth time, then base.2 before base.1, then by name (dateext sorts by date). */
static int probe_order(const void *a, const void *b, void *source)
{
    const tailfile_probe *x = a, *y = b;
    if (x->btime != y->btime)
        return x->btime < y->btime ? -1 : 1;
    long nx = rotation_number(source, x->path), ny = rotation_number(source, y->path);
    if (nx >= 0 && ny >= 0 && nx != ny)
        return nx > ny ? -1 : 1;
    return strcmp(x->path, y->path);
}

static bool same_files(const tailfile_probe *a, size_t na, const tailfile_probe *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].dev != b[i].dev || a[i].ino != b[i].ino || a[i].btime != b[i].btime)
            return false;
    return true;
}

static bool dir_times(const char *dir, struct timespec *t)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return false;
    *t = st.st_mtim;
    return true;
}


/* The rotated siblings, oldest first, with the heads of those that can matter (not in the census,
 * or as new as its newest) already read. A scan racing logrotate's renames (base.N -> base.N+1
 * for every N) can miss a file, see one twice or find a name holding another file by the time
 * its head is read, so it is repeated until two scans agree, nothing moved under it and the
 * directory did not change during the last one (bounded: a directory that never rests gets the
 * last scan). */
static size_t probe_sorted(const tsource *s, tailfile_probe **out)
{
    tailfile_probe *prev = NULL;
    size_t nprev = 0;
    uint64_t newest_seen = seen_newest(s);
    for (int attempt = 0; attempt < SCAN_ATTEMPTS; attempt++) {
        struct timespec before, after;
        bool timed = dir_times(s->rdir, &before);
        tailfile_probe *p;
        bool moved;
        size_t n = tailfile_siblings(s->rdir, s->rbase, &p, &moved);
        if (n > 1)   /* p is NULL when there is none: qsort must not see it (UBSan) */
            qsort_r(p, n, sizeof *p, probe_order, (void *)s);
        for (size_t i = 0; i < n; i++)
            if (new_since_census(s, &p[i]) || p[i].btime >= newest_seen) {
                tailfile_probe_head(&p[i]);
                moved |= p[i].moved;
            }
        timed = timed && dir_times(s->rdir, &after) && before.tv_sec == after.tv_sec &&
                before.tv_nsec == after.tv_nsec;
        bool stable = attempt > 0 && timed && !moved && same_files(prev, nprev, p, n);
        tailfile_probes_free(prev, nprev);
        prev = p;
        nprev = n;
        if (stable)
            break;
        if (attempt > 0)
            sched_yield();   /* let whoever renames finish */
    }
    *out = prev;
    return nprev;
}

/* A union: a scan that raced a rename and missed a file must not make it look new later. */
static void census(tailer *t, tsource *s, const tailfile_probe *p, size_t n)
{
    for (size_t i = 0; i < n; i++)   /* past MAX_SEEN the oldest go into the horizon */
        seen_push(s, p[i].dev, p[i].ino, p[i].btime);
    t->dirty = true;
}

void tailer_note_newest(tsource *s, uint64_t btime)
{
    if (btime > s->newest)
        s->newest = btime;
}

/* A generation missed while nobody looked was born after the newest one followed; any older
 * sibling is old data. Without birth times, nothing is taken for a missed generation. */
static bool missed_generation(const tsource *s, tailfile_probe *p)
{
    return p->btime && s->newest && p->btime >= s->newest && new_since_census(s, p) &&
           !is_open(s, p->dev, p->ino) && !copy_of_open(s, p);
}

/* The path still names the current file. Checked after a scan: a sibling listed by a scan that
 * ended with the current file still at its path cannot be its successor (a generation renamed
 * away after it), so it is a copy of it (copytruncate) or older. */
static bool cur_at_path(const tsource *s)
{
    struct stat st;
    return s->cur && stat(s->path, &st) == 0 && (uint64_t)st.st_dev == s->cur->dev &&
           (uint64_t)st.st_ino == s->cur->ino;
}

/* Opens the file p describes. Its name may have moved since the scan (a rename cascade): then it
 * is looked up again by device, inode and birth time. */
static tailfile *open_probe(tailer *t, const tsource *s, const tailfile_probe *p, uint64_t now)
{
    _cleanup_free_ char *path = xstrdup(p->path);
    for (int attempt = 0; attempt < FIND_ATTEMPTS && path; attempt++) {
        int err;
        tailfile *f = tailfile_open(path, t->max_line, now, &err);
        if (f && f->dev == p->dev && f->ino == p->ino)
            return f;
        tailfile_close(f);
        tailfile_probe *q;
        size_t n = probe_sorted(s, &q);
        free(path);
        path = NULL;
        for (size_t i = 0; i < n && !path; i++)
            if (q[i].dev == p->dev && q[i].ino == p->ino && q[i].btime == p->btime)
                path = xstrdup(q[i].path);
        tailfile_probes_free(q, n);
    }
    return NULL;
}

static bool adopt(tailer *t, tsource *s, const tailfile_probe *p, const offset_gen *at, bool copy, uint64_t now)
{
    tailfile *f = open_probe(t, s, p, now);
    if (!f)
        return false;
    tailfile_seek(f, at ? at->offset : 0, at ? at->lineno : 0, at && at->skip);
    f->copy = copy;
    tailer_note_newest(s, f->btime);
    tailer_push_old(t, s, f);
    return true;
}

bool tailer_rescan(tailer *t, tsource *s, uint64_t now, bool adopt_missed)
{
    tailfile_probe *p;
    size_t n = probe_sorted(s, &p);
    if (s->cur && !cur_at_path(s)) {
        /* the current file was renamed during the scan: a newer sibling may be its successor,
         * which must come after it. Nothing is taken; the next look starts again. */
        s->dirty = true;
        tailfile_probes_free(p, n);
        return false;
    }
    for (size_t i = 0; adopt_missed && i < n; i++)
        if (missed_generation(s, &p[i]) && adopt(t, s, &p[i], NULL, false, now))
            s->rotations++;
    census(t, s, p, n);
    tailfile_probes_free(p, n);
    return true;
}

/* p is a copy of the generation lost (whose head bytes are known when head is not NULL): the same
 * first bytes, as many as the copy has (a copy made before the head was complete is shorter). */
static bool copy_of(tailfile_probe *p, const offset_gen *lost, const char *head)
{
    if (lost->head_len == 0)
        return false;
    tailfile_probe_head(p);
    if (!head)
        return tailfile_probe_head_is(p, lost->head_hash, lost->head_len);
    size_t n = p->head_n < lost->head_len ? p->head_n : lost->head_len;
    return n > 0 && (n == lost->head_len || n == p->size) && memcmp(p->head, head, n) == 0;
}

/* Drains from 0, oldest first, the copies in p[from..n) that nobody saw yet, except a copy of the
 * file's present content (now_head), which is read from the file itself. */
static void adopt_later_copies(tailer *t, tsource *s, tailfile_probe *p, size_t from, size_t n,
                               const char *now_head, size_t now_len, uint64_t now)
{
    for (size_t j = from; j < n; j++) {
        if (!new_since_census(s, &p[j]) || is_open(s, p[j].dev, p[j].ino) || p[j].size == 0)
            continue;
        tailfile_probe_head(&p[j]);
        size_t k = p[j].head_n < now_len ? p[j].head_n : now_len;
        if (is_open(s, p[j].dev, p[j].ino) || (k > 0 && memcmp(p[j].head, now_head, k) == 0))
            continue;
        adopt(t, s, &p[j], NULL, true, now);
    }
}

bool tailer_recover_copy(tailer *t, tsource *s, const offset_gen *lost, const char *head, const char *now_head,
                         size_t now_len, uint64_t now)
{
    tailfile_probe *p;
    size_t n = probe_sorted(s, &p);
    size_t best = SIZE_MAX;
    /* seen or not: the census may have met the copy before the truncate that goes with it. Its
     * head tells it apart from copies of older generations, which start with older lines. */
    for (size_t i = 0; i < n; i++)
        if (!is_open(s, p[i].dev, p[i].ino) && copy_of(&p[i], lost, head))
            best = i;   /* sorted oldest first: the last match is the newest copy */
    bool found = best != SIZE_MAX;
    /* a copy no longer than what was delivered: the lines past it were read before the truncate */
    if (found && p[best].size > lost->offset)
        found = adopt(t, s, &p[best], lost, true, now);
    /* copies made by later rotations that nobody saw (pcmon stopped, or far behind). When the
     * current file was renamed meanwhile, the newer siblings may be its successors: they are
     * left out of the census too, for the next look to take them in order */
    if (cur_at_path(s)) {
        if (found)
            adopt_later_copies(t, s, p, best + 1, n, now_head, now_len, now);
        census(t, s, p, n);
    } else
        s->dirty = true;
    tailfile_probes_free(p, n);
    return found;
}

void tailer_recover_since_empty(tailer *t, tsource *s, const char *now_head, size_t now_len, uint64_t now)
{
    tailfile_probe *p;
    size_t n = probe_sorted(s, &p);
    if (cur_at_path(s)) {
        adopt_later_copies(t, s, p, 0, n, now_head, now_len, now);
        census(t, s, p, n);
    } else
        s->dirty = true;   /* rotated by rename meanwhile: the next look follows that */
    tailfile_probes_free(p, n);
}

/* Opens path when it is the saved generation g (device, inode, head, long enough), at its offset.
 * *rewritten: path is g's inode, but with other content (truncated or reused). */
static tailfile *open_gen(tailer *t, const char *path, const offset_gen *g, uint64_t now, bool *rewritten)
{
    int err;
    *rewritten = false;
    tailfile *f = tailfile_open(path, t->max_line, now, &err);
    if (!f || f->dev != g->dev || f->ino != g->ino)
        return tailfile_close(f);   /* gone, or the name moved on (a rename cascade) */
    if (f->size < g->offset || !tailfile_head_is(f, g->head_hash, g->head_len)) {
        *rewritten = true;
        return tailfile_close(f);
    }
    tailfile_seek(f, g->offset, g->lineno, g->skip);
    return f;
}

static tailfile *find_gen(tailer *t, tsource *s, const offset_gen *g, uint64_t now, bool *at_path)
{
    struct stat st;
    bool rewritten = false;
    *at_path = false;
    if (stat(s->path, &st) == 0 && st.st_dev == g->dev && st.st_ino == g->ino) {
        tailfile *f = open_gen(t, s->path, g, now, &rewritten);
        if (f) {
            *at_path = true;
            return f;
        }
        if (rewritten)
            return NULL;   /* the path's own inode, truncated: tailer_restore recovers its copy */
    }
    tailfile *f = NULL;
    for (int attempt = 0; attempt < FIND_ATTEMPTS && !f && !rewritten; attempt++) {
        tailfile_probe *p;
        size_t n = probe_sorted(s, &p);
        for (size_t i = 0; i < n && !f && !rewritten; i++)
            if (p[i].dev == g->dev && p[i].ino == g->ino)
                f = open_gen(t, p[i].path, g, now, &rewritten);
        tailfile_probes_free(p, n);
    }
    return f;
}

static void lost_gen(tailer *t, tsource *s, const offset_gen *g)
{
    s->gaps++;
    tailer_warnf(t, s,
                 "the file read before the restart (inode %llu) is gone or was rewritten: its lines after "
                 "offset %llu, if any, are lost",
                 (unsigned long long)g->ino, (unsigned long long)g->offset);
}

void tailer_restore(tailer *t, tsource *s, const offset_entry *e, uint64_t now)
{
    bool at_path;
    raise_horizon(s, e->horizon);
    for (size_t k = 0; k < e->nseen; k++)
        seen_push(s, e->seen[k].dev, e->seen[k].ino, e->seen[k].btime);
    for (size_t k = 0; k < e->ndrain; k++)
        tailer_note_newest(s, e->drain[k].btime);
    if (e->has_cur)
        tailer_note_newest(s, e->cur.btime);
    for (size_t k = 0; k < e->ndrain; k++) {
        tailfile *f = find_gen(t, s, &e->drain[k], now, &at_path);
        if (f)
            tailer_push_old(t, s, f);
        else
            lost_gen(t, s, &e->drain[k]);
    }
    if (!e->has_cur)
        return;
    tailfile *f = find_gen(t, s, &e->cur, now, &at_path);
    if (f && at_path) {
        s->cur = f;
        tailer_watch_file(t, s, f);
        /* saved while it was empty: an empty head says nothing, any copy made since is new */
        if (e->cur.head_len == 0)
            tailer_recover_since_empty(t, s, f->head, f->head_len, now);
        return;
    }
    if (f) {   /* rotated while pcmon was down: drain it, the new file is read from 0 */
        tailer_push_old(t, s, f);
        s->rotations++;
        return;
    }
    int err;
    tailfile *a = tailfile_open(s->path, t->max_line, now, &err);
    if (a && a->dev == e->cur.dev && a->ino == e->cur.ino) {
        /* the same inode with other content: truncated (copytruncate) or reused while down */
        s->truncations++;
        s->cur = a;
        tailer_watch_file(t, s, a);
        if (!tailer_recover_copy(t, s, &e->cur, NULL, a->head, a->head_len, now) && e->cur.offset > 0)
            lost_gen(t, s, &e->cur);
        tailfile_seek(a, 0, 0, false);
        t->dirty = true;
        return;
    }
    tailfile_close(a);
    lost_gen(t, s, &e->cur);
}
