#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

static void oom(void)
{
    fputs("pcmon: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xgrow(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2 / sz)
            oom();
        c *= 2;
    }
    *cap = c;
    return xrealloc(p, c * sz);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        oom();
    return s;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

void strbuf_add(strbuf *b, const char *s, size_t n)
{
    b->s = xgrow(b->s, &b->cap, b->len + n + 1, 1);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void strbuf_adds(strbuf *b, const char *s)
{
    strbuf_add(b, s, strlen(s));
}

void strbuf_addc(strbuf *b, char c)
{
    strbuf_add(b, &c, 1);
}

void strbuf_addf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    strbuf_adds(b, s);
    free(s);
}

void strbuf_reset(strbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = 0;
}

char *strbuf_take(strbuf *b)
{
    char *s = b->s ? b->s : xstrdup("");
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void strbuf_free(strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

int parse_duration(const char *s, uint64_t *usec)
{
    static const struct { const char *suffix; uint64_t mult; } units[] = {
        { "ms", USEC_PER_MSEC }, { "s", USEC_PER_SEC }, { "", USEC_PER_SEC },
        { "m", 60 * USEC_PER_SEC }, { "h", 3600 * USEC_PER_SEC }, { "d", 86400 * USEC_PER_SEC },
    };
    uint64_t total = 0;
    const char *p = s;
    if (!s || !*s)
        return -EINVAL;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno)
            return -EINVAL;
        size_t ul = strspn(end, "abcdefghijklmnopqrstuvwxyz");
        uint64_t mult = 0;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
            if (strlen(units[i].suffix) == ul && strncmp(end, units[i].suffix, ul) == 0)
                mult = units[i].mult;
        if (!mult || (v && mult > UINT64_MAX / v) || total > UINT64_MAX - v * mult)
            return -EINVAL;
        total += v * mult;
        p = end + ul;
        if (ul == 0 && *p)
            return -EINVAL;
    }
    *usec = total;
    return 0;
}

const char *format_duration(uint64_t usec, char *buf, size_t n)
{
    if (usec == USEC_INFINITY) {
        snprintf(buf, n, "never");
        return buf;
    }
    if (usec < USEC_PER_SEC) {
        snprintf(buf, n, "%llums", (unsigned long long)(usec / USEC_PER_MSEC));
        return buf;
    }
    uint64_t s = usec / USEC_PER_SEC;
    uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
    size_t off = 0;
    buf[0] = 0;
    if (d)
        off += snprintf(buf + off, n - off, "%llud", (unsigned long long)d);
    if (h && off < n)
        off += snprintf(buf + off, n - off, "%lluh", (unsigned long long)h);
    if (m && off < n)
        off += snprintf(buf + off, n - off, "%llum", (unsigned long long)m);
    if ((sec || off == 0) && off < n)
        snprintf(buf + off, n - off, "%llus", (unsigned long long)sec);
    return buf;
}

bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool str_startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int fsync_dir_of(const char *path)
{
    _cleanup_free_ char *copy = xstrdup(path);
    _cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    return fsync(dfd) < 0 ? -errno : 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
    _cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    const char *p = data;
    size_t left = len;
    int r = 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    return fsync_dir_of(path);
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    strbuf b = {0};
    char buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            strbuf_free(&b);
            return e;
        }
        if (r == 0)
            break;
        if (b.len + (size_t)r > max) {
            strbuf_free(&b);
            return -EFBIG;
        }
        strbuf_add(&b, buf, (size_t)r);
    }
    if (len)
        *len = b.len;
    *out = strbuf_take(&b);
    return 0;
}
