/* tailtool: the tailer's test driver, run by tests/integration/tailer_*.py and the benchmark.
 * Follows the sources of a pcmon config and prints every line as "path\tlineno\tdata\n" on
 * standard output. After each batch it flushes standard output and only then commits the
 * offsets, as the daemon does with its spool, so a SIGKILL can repeat at most the lines printed
 * since the last commit. With -m it prints "#ready" once started and "#commit" after each
 * commit: a test then knows which printed lines were committed. SIGTERM commits and exits 0,
 * printing one status line per source on standard error.
 *
 * Usage: tailtool -c CONFIG [-r ROOT] [-m] [--inject-init ERRNO] [--inject-watch ERRNO] */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "tailer.h"

static bool printed;

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void on_line(void *userdata, const tailer_line *l)
{
    fprintf(stdout, "%s\t%llu\t", l->path, (unsigned long long)l->lineno);
    fwrite(l->data, 1, l->len, stdout);
    fputc('\n', stdout);
    printed = true;
}

static void on_warn(void *userdata, size_t src, const char *msg)
{
    fprintf(stderr, "tailtool: warning: %s\n", msg);
}

/* Lines are out (flushed) before their offsets are committed. */
static int batch_done(tailer *t, bool markers)
{
    if (fflush(stdout) != 0)
        return -EIO;
    int r = tailer_commit(t);
    if (r < 0) {
        fprintf(stderr, "tailtool: commit: %s\n", strerror(-r));
        return r;
    }
    if (markers && printed) {
        fputs("#commit\n", stdout);
        fflush(stdout);
    }
    printed = false;
    return 0;
}

static void print_status(const tailer *t, size_t n)
{
    tailer_source_status st[n + 1];
    n = tailer_status(t, st, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr,
                "status %s exists=%d lineno=%llu lines=%llu cut=%llu truncations=%llu rotations=%llu gaps=%llu "
                "draining=%zu polling=%d\n",
                st[i].path, st[i].exists, (unsigned long long)st[i].lineno, (unsigned long long)st[i].lines,
                (unsigned long long)st[i].cut_lines, (unsigned long long)st[i].truncations,
                (unsigned long long)st[i].rotations, (unsigned long long)st[i].gaps, st[i].draining, st[i].polling);
    fprintf(stderr, "status overflows=%llu\n", (unsigned long long)tailer_overflows(t));
}

static int loop(tailer *t, int sfd, bool markers)
{
    for (;;) {
        uint64_t now = now_usec(), next = tailer_next_deadline(t, now);
        int timeout = next == USEC_INFINITY ? -1 : (int)((next - now + 999) / 1000);
        struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = tailer_fd(t), .events = POLLIN } };
        int n = poll(p, p[1].fd >= 0 ? 2 : 1, timeout);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (p[0].revents & POLLIN)
            return 0;
        int r = tailer_process(t, now_usec());
        if (r < 0)
            fprintf(stderr, "tailtool: process: %s\n", strerror(-r));
        if (batch_done(t, markers) < 0)
            return -EIO;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "inject-init", required_argument, NULL, 'I' },
        { "inject-watch", required_argument, NULL, 'W' },
        { 0 },
    };
    const char *conf = NULL, *root = "";
    bool markers = false;
    int init_err = 0, watch_err = 0, c;
    while ((c = getopt_long(argc, argv, "c:r:m", opts, NULL)) != -1) {
        switch (c) {
        case 'c': conf = optarg; break;
        case 'r': root = optarg; break;
        case 'm': markers = true; break;
        case 'I': init_err = -atoi(optarg); break;
        case 'W': watch_err = -atoi(optarg); break;
        default: return 2;
        }
    }
    if (!conf || optind != argc) {
        fprintf(stderr, "usage: tailtool -c CONFIG [-r ROOT] [-m] [--inject-init ERRNO] [--inject-watch ERRNO]\n");
        return 2;
    }
    config_errors errs = {0};
    pcmon_config *cfg = config_load_file(conf, &errs);
    if (!cfg) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s:%d:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].col, errs.v[i].msg);
        return 1;
    }
    config_errors_free(&errs);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    tailer *t = tailer_new(cfg, root, on_line, NULL);
    tailer_set_warn(t, on_warn, NULL);
    tailer_inject_inotify_failure(t, init_err, watch_err);
    int r = tailer_start(t, now_usec());
    if (r < 0) {
        fprintf(stderr, "tailtool: start: %s\n", strerror(-r));
        return 3;
    }
    if (batch_done(t, markers) < 0)
        return 3;
    if (markers) {
        fputs("#ready\n", stdout);
        fflush(stdout);
    }
    r = loop(t, sfd, markers);
    if (r == 0)
        r = batch_done(t, markers);
    print_status(t, cfg->nsources);
    tailer_free(t);
    config_free(cfg);
    close(sfd);
    return r < 0 ? 3 : 0;
}
