/* The tailer tests' fixture (test_tailer.c, test_tailer_restart.c): a temp directory per test,
 * a fake clock, a line collector, writers, and exact expectations. inotify events are queued by
 * the kernel during the write/rename syscall itself, so one tailer_process after a file operation
 * sees it: no sleeps. Helpers are static inline so that each test file may use a part of them. */
#ifndef PCMON_TAILER_FIXTURE_H
#define PCMON_TAILER_FIXTURE_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "offsets.h"
#include "tailer.h"
#include "tailfile.h"
#include "util.h"

#define T0 (UINT64_C(1700000000) * USEC_PER_SEC)

static char tmp[128];
static uint64_t now_us;

typedef struct rec {
    size_t src;
    uint64_t lineno;
    char *data;
    size_t len;
    bool cut;
} rec;

static struct {
    rec *v;
    size_t n, cap;
    char warn[1024];
    unsigned warns;
} got;

static inline void on_line(void *ud, const tailer_line *l)
{
    got.v = xgrow(got.v, &got.cap, got.n + 1, sizeof *got.v);
    rec *r = &got.v[got.n++];
    *r = (rec){ l->src, l->lineno, NULL, l->len, l->cut };
    r->data = xmalloc(l->len + 1);
    memcpy(r->data, l->data, l->len);
    r->data[l->len] = 0;
}

static inline void on_warn(void *ud, size_t src, const char *msg)
{
    snprintf(got.warn, sizeof got.warn, "%s", msg);
    got.warns++;
}

static inline void got_clear(void)
{
    while (got.n > 0)
        free(got.v[--got.n].data);
}

static inline char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *P(const char *fmt, ...)
{
    static char pool[16][512];
    static int k;
    char *p = pool[k++ % 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, 512, fmt, ap);
    va_end(ap);
    return p;
}

static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

static inline void setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/pcmon-tailer-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    mkdir(P("%s/log", tmp), 0755);
    mkdir(P("%s/state", tmp), 0755);
    now_us = T0;
    got_clear();
    got.warns = 0;
    got.warn[0] = 0;
}

static inline void teardown(void)
{
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* sources: YAML list items, "%s" in them is replaced by the temp dir. */
static inline pcmon_config *cfg(const char *sources)
{
    _cleanup_free_ char *yaml = NULL;
    char *src = xstrdup(sources);
    for (char *p; (p = strstr(src, "%s"));) {
        char *n = xasprintf("%.*s%s%s", (int)(p - src), src, tmp, p + 2);
        free(src);
        src = n;
    }
    yaml = xasprintf("state_dir: %s/state\ntailer: {max_line: 1024, partial_flush: 2s}\nsources:\n%s", tmp, src);
    free(src);
    config_errors e = {0};
    pcmon_config *c = config_load_buffer("t.yaml", yaml, strlen(yaml), &e);
    ck_assert_msg(c, "config: %s", e.n ? e.v[0].msg : "?");
    return c;
}

#define SRC_A "  - {name: a, path: %s/log/a.log, start_at: beginning}\n"
#define SRC_B "  - {name: b, path: %s/log/b.log, start_at: beginning}\n"

static inline tailer *start(pcmon_config *c)
{
    tailer *t = tailer_new(c, "", on_line, NULL);
    tailer_set_warn(t, on_warn, NULL);
    ck_assert_int_eq(tailer_start(t, now_us), 0);
    return t;
}

/* Runs the tailer until nothing is due now (bounded). */
static inline void pump(tailer *t)
{
    for (int i = 0; i < 10000; i++) {
        ck_assert_int_eq(tailer_process(t, now_us), 0);
        if (tailer_next_deadline(t, now_us) > now_us)
            return;
    }
    ck_abort_msg("the tailer never settles");
}

static inline int wopen(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static inline void wr(int fd, const char *s, size_t n)
{
    ck_assert_int_eq(write(fd, s, n), (ssize_t)n);
}

/* Appends "line N\n" for N in [from, to] through fd. */
static inline void fdlines(int fd, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char b[32];
        int n = snprintf(b, sizeof b, "line %d\n", i);
        wr(fd, b, (size_t)n);
    }
}

static inline void lines(const char *path, int from, int to)
{
    int fd = wopen(path);
    fdlines(fd, from, to);
    close(fd);
}

static inline void put(const char *path, const char *s)
{
    int fd = wopen(path);
    wr(fd, s, strlen(s));
    close(fd);
}

/* Exactly "line from" .. "line to" were delivered since the last clear, in order. */
static inline void expect(int from, int to)
{
    size_t want = to >= from ? (size_t)(to - from + 1) : 0;
    for (size_t i = 0; i < got.n && i < want; i++) {
        char w[32];
        snprintf(w, sizeof w, "line %d", from + (int)i);
        if (!str_eq(got.v[i].data, w))   /* not ck_assert: check writes a record per call */
            ck_abort_msg("line %zu is \"%s\", want \"%s\"", i, got.v[i].data, w);
    }
    ck_assert_msg(got.n == want, "%zu lines delivered, want %zu (lines %d..%d)", got.n, want, from, to);
    got_clear();
}

static inline tailer_source_status status(tailer *t, size_t i)
{
    tailer_source_status st[4];
    ck_assert_uint_gt(tailer_status(t, st, 4), i);
    return st[i];
}


static inline char *A(void)
{
    return P("%s/log/a.log", tmp);
}

static inline void copy_file(const char *from, const char *to)
{
    _cleanup_free_ char *data = NULL;
    size_t len;
    ck_assert_int_eq(read_file(from, 1 << 30, &data, &len), 0);
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    wr(fd, data, len);
    close(fd);
}

/* An fd of this process points at a path containing s. */
static inline bool fd_open_to(const char *s)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    bool found = false;
    struct dirent *de;
    while ((de = readdir(d))) {
        char link[512] = "";
        ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof link - 1);
        if (n > 0 && (link[n] = 0, strstr(link, s)))
            found = true;
    }
    closedir(d);
    return found;
}

static inline tailer *restart(tailer *t, pcmon_config *c, bool commit)
{
    if (commit)
        ck_assert_int_eq(tailer_commit(t), 0);
    tailer_free(t);
    return start(c);
}

#endif
