/* The tailer's benchmark (not a test: it prints numbers, it does not judge them).
 *  1. latency write -> callback: a child process appends lines stamped with CLOCK_MONOTONIC,
 *     one every 500 us; the tailer runs its own poll loop; p50/p99/max over the lines;
 *  2. idle: the tailer's wake-ups over 2 s with nothing written (inotify: none expected);
 *  3. catch-up: a backlog of ParallelCluster-like lines read from the start, lines/s and MB/s.
 * Usage: tail_latency [LINES] [BACKLOG_LINES]  (defaults 2000 and 1000000) */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "tailer.h"
#include "util.h"

static char dir[128];

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

typedef struct bench {
    uint64_t *lat;       /* ns, per line */
    size_t n, want;
    uint64_t bytes;
} bench;

static void on_line(void *ud, const tailer_line *l)
{
    bench *b = ud;
    b->bytes += l->len + 1;
    if (b->lat && b->n < b->want) {
        /* "t=<ns> ..." */
        b->lat[b->n] = mono_ns() - strtoull(l->data + 2, NULL, 10);
    }
    b->n++;
}

static pcmon_config *config(const char *name)
{
    _cleanup_free_ char *y = xasprintf("state_dir: %s/state-%s\nsources:\n  - {name: s, path: %s/%s.log, start_at: beginning}\n",
                                       dir, name, dir, name);
    _cleanup_free_ char *st = xasprintf("%s/state-%s", dir, name);
    mkdir(st, 0755);
    config_errors e = {0};
    pcmon_config *c = config_load_buffer("bench.yaml", y, strlen(y), &e);
    if (!c) {
        fprintf(stderr, "config: %s\n", e.n ? e.v[0].msg : "?");
        exit(1);
    }
    return c;
}

/* Commit (fsync) after every batch, as the daemon and tailtool do, or at most once a second. */
static bool commit_every_batch = true;

/* Runs the tailer's loop until b has until lines or timeout_ms passed; returns its wake-ups. */
static unsigned run_loop(tailer *t, bench *b, size_t until, int timeout_ms)
{
    unsigned wakeups = 0;
    uint64_t last_commit = mono_ns();
    uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000u;
    while (b->n < until && mono_ns() < end) {
        uint64_t now = now_usec(), next = tailer_next_deadline(t, now);
        int left = (int)((end - mono_ns()) / 1000000u) + 1;
        int timeout = next == USEC_INFINITY ? left : (int)((next - now + 999) / 1000);
        if (timeout > left)
            timeout = left;
        struct pollfd p = { .fd = tailer_fd(t), .events = POLLIN };
        if (poll(&p, 1, timeout) > 0 || tailer_next_deadline(t, now_usec()) <= now_usec()) {
            wakeups++;
            tailer_process(t, now_usec());
            if (commit_every_batch || mono_ns() - last_commit > 1000000000u) {
                tailer_commit(t);
                last_commit = mono_ns();
            }
        }
    }
    return wakeups;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void latency(size_t lines, bool every_batch)
{
    commit_every_batch = every_batch;
    pcmon_config *c = config(every_batch ? "lat" : "lat1");
    bench b = { .lat = xcalloc(lines, sizeof *b.lat), .want = lines };
    _cleanup_free_ char *path = xasprintf("%s/%s.log", dir, every_batch ? "lat" : "lat1");
    close(open(path, O_WRONLY | O_CREAT, 0644));
    tailer *t = tailer_new(c, "", on_line, &b);
    tailer_start(t, now_usec());
    pid_t child = fork();
    if (child == 0) {
        int fd = open(path, O_WRONLY | O_APPEND);
        for (size_t i = 0; i < lines; i++) {
            char buf[160];
            int n = snprintf(buf, sizeof buf, "t=%llu 2026-01-23 18:06:34,184 - [slurm_plugin.clustermgtd] - INFO - line %zu\n",
                             (unsigned long long)mono_ns(), i);
            if (write(fd, buf, (size_t)n) != n)
                _exit(1);
            struct timespec ts = { 0, 500 * 1000 };   /* the workload's pace: 2000 lines/s */
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    unsigned wakeups = run_loop(t, &b, lines, 30000);
    waitpid(child, NULL, 0);
    size_t n = b.n < lines ? b.n : lines;
    qsort(b.lat, n, sizeof *b.lat, cmp_u64);
    printf("latency write->callback over %zu lines (one per 500 us, commit %s): p50 %.1f us, p99 %.1f us, "
           "max %.1f us, %u loop wake-ups\n", n, commit_every_batch ? "after every batch" : "once a second", n ? b.lat[n / 2] / 1e3 : 0, n ? b.lat[n * 99 / 100] / 1e3 : 0,
           n ? b.lat[n - 1] / 1e3 : 0, wakeups);
    /* idle: nothing written, the loop should not wake at all */
    bench idle = {0};
    t = tailer_free(t);
    t = tailer_new(c, "", on_line, &idle);
    tailer_start(t, now_usec());
    idle.n = 0;
    unsigned idle_wakeups = run_loop(t, &idle, 1, 2000);
    printf("idle for 2 s: %u wake-ups, next deadline %s\n", idle_wakeups,
           tailer_next_deadline(t, now_usec()) == USEC_INFINITY ? "none" : "set");
    tailer_free(t);
    config_free(c);
    free(b.lat);
}

static void catch_up(size_t lines)
{
    pcmon_config *c = config("backlog");
    _cleanup_free_ char *path = xasprintf("%s/backlog.log", dir);
    FILE *f = fopen(path, "w");
    for (size_t i = 0; i < lines; i++)
        fprintf(f, "2026-01-23 18:06:%02zu,%03zu - [slurm_plugin.clustermgtd:_manage_compute_fleet_status_transitions] "
                   "- INFO - Current compute fleet status: RUNNING %zu\n", i % 60, i % 1000, i);
    fclose(f);
    bench b = {0};
    uint64_t t0 = mono_ns();
    tailer *t = tailer_new(c, "", on_line, &b);
    tailer_start(t, now_usec());
    run_loop(t, &b, lines, 120000);
    double s = (mono_ns() - t0) / 1e9;
    printf("catch-up of %zu lines (%.1f MB) from the start: %.2f s, %.0f lines/s, %.0f MB/s (offsets committed "
           "after every %u MiB batch)\n", b.n, b.bytes / 1e6, s, b.n / s, b.bytes / 1e6 / s, 8);
    tailer_free(t);
    config_free(c);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    return remove(p);
}

int main(int argc, char **argv)
{
    size_t lines = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000;
    size_t backlog = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    snprintf(dir, sizeof dir, "/tmp/pcmon-tail-bench-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    double load[3];
    if (getloadavg(load, 3) == 3)
        printf("load average %.2f, %ld CPUs online\n", load[0], sysconf(_SC_NPROCESSORS_ONLN));
    latency(lines, true);
    latency(lines, false);
    catch_up(backlog);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
