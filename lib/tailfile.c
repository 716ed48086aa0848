#include "tailfile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

static uint64_t birth_time(int fd)
{
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) < 0 || !(stx.stx_mask & STATX_BTIME))
        return 0;
    return (uint64_t)stx.stx_btime.tv_sec * UINT64_C(1000000000) + stx.stx_btime.tv_nsec;
}

static size_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

tailfile *tailfile_open(const char *path, size_t max_line, uint64_t now, int *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        *err = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        close(fd);
        return NULL;
    }
    tailfile *f = xcalloc(1, sizeof *f);
    f->fd = fd;
    f->wd = -1;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = (uint64_t)st.st_size;
    f->unlinked = st.st_nlink == 0;
    f->btime = birth_time(fd);
    f->last_growth = now;
    linesplit_init(&f->ls, max_line, false);
    tailfile_rehash(f);
    *err = 0;
    return f;
}

tailfile *tailfile_close(tailfile *f)
{
    if (!f)
        return NULL;
    if (f->fd >= 0)
        close(f->fd);
    linesplit_free(&f->ls);
    free(f);
    return NULL;
}

int tailfile_stat(tailfile *f)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return -errno;
    f->size = (uint64_t)st.st_size;
    f->unlinked = st.st_nlink == 0;
    return 0;
}

bool tailfile_head_is(const tailfile *f, uint64_t hash, uint32_t len)
{
    char head[OFFSETS_HEAD_MAX];
    if (len > sizeof head)
        return false;
    if (pread_full(f->fd, head, len, 0) != len)
        return false;
    return offsets_fnv(OFFSETS_FNV_INIT, head, len) == hash;
}

void tailfile_rehash(tailfile *f)
{
    tailfile_stat(f);
    size_t want = f->size < sizeof f->head ? (size_t)f->size : sizeof f->head;
    size_t got = pread_full(f->fd, f->head, want, 0);
    f->head_len = (uint32_t)got;
    f->head_hash = offsets_fnv(OFFSETS_FNV_INIT, f->head, got);
}

void tailfile_seek(tailfile *f, uint64_t pos, uint64_t lineno, bool skip)
{
    f->pos = pos;
    f->lineno = lineno;
    linesplit_reset(&f->ls, skip);
}

void tailfile_set_head(tailfile *f, const char *head, size_t len)
{
    f->head_len = (uint32_t)(len < OFFSETS_HEAD_MAX ? len : OFFSETS_HEAD_MAX);
    memcpy(f->head, head, f->head_len);
    f->head_hash = offsets_fnv(OFFSETS_FNV_INIT, f->head, f->head_len);
}

/* The chunk just read at f->pos belongs to the generation whose head is kept. */
static bool same_generation(const tailfile *f, const char *chunk, size_t n)
{
    if (f->head_len == 0)
        return true;
    if (f->pos == 0)
        return memcmp(chunk, f->head, n < f->head_len ? n : f->head_len) == 0;
    return tailfile_head_is(f, f->head_hash, f->head_len);
}

size_t tailfile_read_head(const tailfile *f, char *buf)
{
    return pread_full(f->fd, buf, OFFSETS_HEAD_MAX, 0);
}

/* Counts newlines in [0, end). */
static int count_lines(tailfile *f, uint64_t end, char *buf, size_t bufsize, uint64_t *lines)
{
    uint64_t n = 0;
    for (uint64_t off = 0; off < end;) {
        size_t want = end - off < bufsize ? (size_t)(end - off) : bufsize;
        size_t got = pread_full(f->fd, buf, want, off);
        if (got == 0)
            return -EIO;
        for (const char *p = buf, *e = buf + got; (p = memchr(p, '\n', (size_t)(e - p))); p++)
            n++;
        off += got;
    }
    *lines = n;
    return 0;
}

int tailfile_seek_end(tailfile *f, char *buf, size_t bufsize)
{
    int r = tailfile_stat(f);
    if (r < 0)
        return r;
    uint64_t size = f->size, lim = size > f->ls.max_line + 1 ? size - f->ls.max_line - 1 : 0;
    uint64_t pos = UINT64_MAX;
    for (uint64_t end = size; end > lim && pos == UINT64_MAX;) {
        size_t want = end - lim < bufsize ? (size_t)(end - lim) : bufsize;
        size_t got = pread_full(f->fd, buf, want, end - want);
        if (got != want)
            return -EIO;
        const char *nl = memrchr(buf, '\n', got);
        if (nl)
            pos = end - want + (uint64_t)(nl - buf) + 1;
        end -= want;
    }
    /* no newline in the last max_line bytes: inside a line too long to deliver, skip to its end */
    bool skip = pos == UINT64_MAX && lim > 0;
    if (pos == UINT64_MAX)
        pos = skip ? size : 0;
    uint64_t lines;
    r = count_lines(f, pos, buf, bufsize, &lines);
    if (r < 0)
        return r;
    tailfile_seek(f, pos, lines + (skip ? 1 : 0), skip);
    return 0;
}

static void head_extend(tailfile *f, const char *chunk, size_t n)
{
    if (f->head_len >= OFFSETS_HEAD_MAX || f->pos > f->head_len || f->pos + n <= f->head_len)
        return;
    size_t from = (size_t)(f->head_len - f->pos);
    size_t upto = OFFSETS_HEAD_MAX - (size_t)f->pos < n ? OFFSETS_HEAD_MAX - (size_t)f->pos : n;
    f->head_hash = offsets_fnv(f->head_hash, chunk + from, upto - from);
    memcpy(f->head + f->head_len, chunk + from, upto - from);
    f->head_len = (uint32_t)(f->pos + upto);
}

ssize_t tailfile_read(tailfile *f, char *buf, size_t bufsize, uint64_t limit, size_t *budget, uint64_t now,
                      linesplit_fn fn, void *userdata)
{
    ssize_t total = 0;
    f->stale = false;
    while (f->pos < limit && *budget > 0) {
        size_t want = bufsize < *budget ? bufsize : *budget;
        if (limit - f->pos < want)
            want = (size_t)(limit - f->pos);
        ssize_t n = pread(f->fd, buf, want, (off_t)f->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return total ? total : -errno;
        if (n == 0)
            break;
        /* truncated and rewritten between the caller's check and this read (copytruncate
         * racing us): these bytes belong to another generation */
        if (!same_generation(f, buf, (size_t)n)) {
            f->stale = true;
            return total;
        }
        head_extend(f, buf, (size_t)n);
        f->pos += (uint64_t)n;
        *budget -= (size_t)n;
        total += n;
        f->last_growth = now;
        linesplit_feed(&f->ls, buf, (size_t)n, fn, userdata);
    }
    return total;
}

void tailfile_state(const tailfile *f, offset_gen *g)
{
    *g = (offset_gen){ .dev = f->dev, .ino = f->ino, .offset = tailfile_done(f), .lineno = f->lineno,
                       .head_hash = f->head_hash, .head_len = f->head_len, .btime = f->btime,
                       .skip = f->ls.skipping };
}

bool tailfile_is_sibling(const char *base, const char *name)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || !name[bl] || !name[bl + 1])
        return false;
    const char *rest = name + bl + 1;
    if (name[bl] == '.')   /* clustermgtd.1, not clustermgtd.events nor clustermgtd.1.gz */
        return strspn(rest, "0123456789") == strlen(rest);
    if (name[bl] != '-' && name[bl] != '_')
        return false;
    /* dateext: slurm_resume.log-20260123, any dateformat; a '.' would be a compressor's extension */
    return isdigit((unsigned char)rest[0]) &&
           strspn(rest, "0123456789-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == strlen(rest);
}

void tailfile_probe_head(tailfile_probe *p)
{
    if (p->headed)
        return;
    p->headed = true;
    p->head_n = 0;
    p->moved = true;
    int fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && (uint64_t)st.st_dev == p->dev && (uint64_t)st.st_ino == p->ino) {
        p->head_n = pread_full(fd, p->head, sizeof p->head, 0);
        p->moved = false;
    }
    close(fd);
}

size_t tailfile_siblings(const char *dir, const char *base, tailfile_probe **out, bool *vanished)
{
    *out = NULL;
    *vanished = false;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct statx stx;
        if (!tailfile_is_sibling(base, de->d_name))
            continue;
        if (statx(dirfd(d), de->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO | STATX_SIZE | STATX_BTIME,
                  &stx) < 0) {
            *vanished |= errno == ENOENT;
            continue;
        }
        if (!S_ISREG(stx.stx_mode))
            continue;
        *out = xgrow(*out, &cap, n + 1, sizeof **out);
        tailfile_probe *p = &(*out)[n++];
        p->path = xasprintf("%s/%s", dir, de->d_name);
        p->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
        p->ino = stx.stx_ino;
        p->size = stx.stx_size;
        p->btime = (stx.stx_mask & STATX_BTIME)
                       ? (uint64_t)stx.stx_btime.tv_sec * UINT64_C(1000000000) + stx.stx_btime.tv_nsec
                       : 0;
        p->headed = p->moved = false;
        p->head_n = 0;
    }
    closedir(d);
    return n;
}

void tailfile_probes_free(tailfile_probe *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i].path);
    free(p);
}

bool tailfile_probe_head_is(tailfile_probe *p, uint64_t hash, uint32_t len)
{
    tailfile_probe_head(p);
    return len <= p->head_n && offsets_fnv(OFFSETS_FNV_INIT, p->head, len) == hash;
}
