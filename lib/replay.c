#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

#define CHUNK 65536

/* A buffered line reader over one file; a line longer than max is cut and the rest skipped. */
typedef struct reader {
    const replay_input *in;
    int fd;
    char *buf;
    size_t len, pos, cap;
    bool eof;
    /* current line */
    const char *line;
    size_t line_len;
    bool cut;
    uint64_t lineno, ts;
    bool has_line;
} reader;

static int fill(reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len == r->cap)
        return 0;
    for (;;) {
        /* At most CHUNK at a time: the rest of the buffer, there for a long line, is then only
         * touched (and resident) when such a line comes. */
        size_t room = r->cap - r->len < CHUNK ? r->cap - r->len : CHUNK;
        ssize_t n = read(r->fd, r->buf + r->len, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            r->eof = true;
        r->len += (size_t)n;
        return 0;
    }
}

/* Skips input up to and including the next newline (the tail of a cut line). */
static int skip_rest(reader *r)
{
    for (;;) {
        char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
        if (nl) {
            r->pos = (size_t)(nl - r->buf) + 1;
            return 0;
        }
        r->pos = r->len;
        if (r->eof)
            return 0;
        int e = fill(r);
        if (e < 0)
            return e;
    }
}

/* Advances to the next line; has_line is false at the end of the file. */
static int next_line(reader *r, size_t max_line)
{
    r->has_line = false;
    for (;;) {
        char *start = r->buf + r->pos;
        size_t avail = r->len - r->pos;
        char *nl = memchr(start, '\n', avail < max_line + 1 ? avail : max_line + 1);
        if (nl || avail > max_line || (r->eof && avail > 0)) {
            size_t n = nl ? (size_t)(nl - start) : (avail > max_line ? max_line : avail);
            r->line = start;
            r->line_len = n;
            r->cut = !nl && avail > max_line;
            r->pos += nl ? n + 1 : n;
            r->lineno++;
            r->has_line = true;
            return r->cut ? 1 : 0;   /* 1: the caller skips the rest after using the line */
        }
        if (r->eof)
            return 0;
        int e = fill(r);
        if (e < 0)
            return e;
    }
}

static int open_reader(reader *r, const replay_input *in, size_t max_line)
{
    memset(r, 0, sizeof *r);
    r->in = in;
    r->fd = open(in->open, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return -errno;
    r->cap = max_line + CHUNK;
    r->buf = xmalloc(r->cap);
    return 0;
}

static int advance(reader *r, pipeline *p, size_t max_line, bool *pending_skip)
{
    if (*pending_skip) {
        *pending_skip = false;
        int e = skip_rest(r);
        if (e < 0)
            return e;
    }
    int e = next_line(r, max_line);
    if (e < 0)
        return e;
    *pending_skip = e == 1;
    if (r->has_line)
        r->ts = pipeline_timestamp(p, r->in->src, r->line, r->line_len);
    return 0;
}

static reader *pick(reader *rs, size_t n)
{
    reader *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (rs[i].has_line && (!best || rs[i].ts < best->ts))
            best = &rs[i];
    return best;
}

int replay_run(pipeline *p, grouper *g, const replay_input *in, size_t n, size_t max_line, replay_stats *st)
{
    reader *rs = xcalloc(n ? n : 1, sizeof(reader));
    bool *skip = xcalloc(n ? n : 1, sizeof(bool));
    int ret = 0;
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < n && ret == 0; i++) {
        int e = open_reader(&rs[i], &in[i], max_line);
        if (e == -ENOENT) {
            st->files_missing++;
            continue;
        }
        ret = e < 0 ? e : advance(&rs[i], p, max_line, &skip[i]);
    }
    reader *r;
    uint64_t clock = 0;
    while (ret == 0 && (r = pick(rs, n))) {
        if (r->ts > clock)
            clock = r->ts;
        pipeline_tick(p, clock);
        pipeline_line(p, r->in->src, r->in->shown, r->lineno, r->line, r->line_len, r->cut, r->ts, clock);
        st->lines++;
        ret = advance(r, p, max_line, &skip[r - rs]);
    }
    grouper_flush(g, clock);
    st->last_ts = clock;
    for (size_t i = 0; i < n; i++) {
        if (rs[i].fd > 0)
            close(rs[i].fd);
        free(rs[i].buf);
    }
    free(rs);
    free(skip);
    return ret;
}
