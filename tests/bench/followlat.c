/* Follow latency: appends lines to a followed log one at a time and times each until its alert
 * shows up in a watched file (the file notifier's output, or what the Slack stand-in received),
 * woken by inotify rather than by polling, so that the measurement itself costs no CPU.
 * Usage: followlat LOG WATCHED TIMEOUT_MS GAP_MS [STATE_DIR] < lines
 * Each input line is "MARKER<TAB>LINE"; "%TS%" in LINE becomes the current UTC time as
 * ParallelCluster writes it. LINE is appended to LOG, then WATCHED is read until a new line holds
 * MARKER. Prints one line per input: the latency in microseconds, or "lost" after TIMEOUT_MS.
 * With STATE_DIR, the next line waits until pcmon has renamed offsets.json into it (the end of
 * its commit after an alert), so that every alert is timed on its own rather than behind the
 * previous one's state writes. GAP_MS paces the next line further (the Slack notifier sends at
 * most one message a second). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Replaces "%TS%" with "YYYY-MM-DD HH:MM:SS,mmm" (UTC, now). */
static void stamp(const char *in, char *out, size_t cap)
{
    const char *at = strstr(in, "%TS%");
    if (!at) {
        snprintf(out, cap, "%s", in);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, cap, "%.*s%s,%03ld%s", (int)(at - in), in, when, ts.tv_nsec / 1000000, at + 4);
}

typedef struct watched {
    const char *path;
    int fd;
    off_t off;
    char buf[1 << 16];
    size_t len;   /* bytes of an unfinished line kept in buf */
} watched;

/* Reads what was appended since last time; true when a complete new line contains marker. */
static int scan_new(watched *w, const char *marker)
{
    int found = 0;
    if (w->fd < 0 && (w->fd = open(w->path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    for (;;) {
        if (w->len == sizeof w->buf)   /* a line longer than the buffer: drop its start */
            w->len = 0;
        ssize_t n = pread(w->fd, w->buf + w->len, sizeof w->buf - w->len, w->off);
        if (n <= 0)
            return found;
        w->off += n;
        w->len += (size_t)n;
        char *start = w->buf, *nl;
        while ((nl = memchr(start, '\n', (size_t)(w->buf + w->len - start)))) {
            *nl = 0;
            found |= strstr(start, marker) != NULL;
            start = nl + 1;
        }
        w->len = (size_t)(w->buf + w->len - start);
        memmove(w->buf, start, w->len);
    }
}

static int settle_wd = -1;
static bool settled;

/* Reads the pending inotify events; notes the commit's rename of offsets.json. */
static void drain(int in)
{
    char ev[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(in, ev, sizeof ev)) > 0)
        for (char *p = ev; p < ev + n;) {
            const struct inotify_event *e = (const struct inotify_event *)(void *)p;
            if (e->wd == settle_wd && e->len && strcmp(e->name, "offsets.json") == 0)
                settled = true;
            p += sizeof *e + e->len;
        }
}

/* Waits for the next inotify event, at most until deadline. */
static void wait_event(int in, uint64_t deadline)
{
    struct pollfd p = { .fd = in, .events = POLLIN };
    uint64_t now = mono_us();
    if (now < deadline && poll(&p, 1, (int)((deadline - now) / 1000u) + 1) > 0)
        drain(in);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fputs("usage: followlat LOG WATCHED TIMEOUT_MS GAP_MS [STATE_DIR] < lines\n", stderr);
        return 2;
    }
    int log = open(argv[1], O_WRONLY | O_APPEND | O_CLOEXEC);
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    uint64_t timeout = strtoull(argv[3], NULL, 10) * 1000u, gap = strtoull(argv[4], NULL, 10) * 1000u;
    static watched w;
    w.path = argv[2];
    w.fd = -1;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", argv[2]);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    if (log < 0 || in < 0 || inotify_add_watch(in, slash ? dir : ".", IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
        perror("followlat");
        return 1;
    }
    if (argc == 6 && (settle_wd = inotify_add_watch(in, argv[5], IN_MOVED_TO)) < 0) {
        perror("followlat: state dir");
        return 1;
    }
    scan_new(&w, "\x01");   /* skip what is already there */
    static char input[1 << 17], line[1 << 17];
    while (fgets(input, sizeof input, stdin)) {
        char *tab = strchr(input, '\t');
        if (!tab)
            continue;
        *tab = 0;
        stamp(tab + 1, line, sizeof line);
        size_t len = strlen(line);
        drain(in);
        settled = false;
        uint64_t t0 = mono_us(), deadline = t0 + timeout;
        if (write(log, line, len) != (ssize_t)len) {
            perror("followlat: write");
            return 1;
        }
        int got = 0;
        while (!(got = scan_new(&w, input)) && mono_us() < deadline)
            wait_event(in, deadline);
        uint64_t t1 = mono_us();
        if (got)
            printf("%llu\n", (unsigned long long)(t1 - t0));
        else
            puts("lost");
        fflush(stdout);
        while (settle_wd >= 0 && !settled && mono_us() < t1 + timeout)
            wait_event(in, t1 + timeout);
        while (gap && mono_us() < t1 + gap)
            poll(NULL, 0, (int)((t1 + gap - mono_us()) / 1000u) + 1);
    }
    return 0;
}
