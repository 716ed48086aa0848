/* pcmon run: the daemon. One epoll loop over the tailer's inotify fd, a signalfd and a timerfd
 * (plus the delivery engine's sockets); no threads, no polling when nothing happens. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"
#include "macro.h"
#include "util.h"

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static int parse_opts(int argc, char **argv, run_opts *o)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "state-dir", required_argument, NULL, 's' },
        { "root", required_argument, NULL, 'r' },
        { "verbose", no_argument, NULL, 'v' },
        { 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:v", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 's': o->state_dir = optarg; break;
        case 'r': o->root = optarg; break;
        case 'v': o->verbose = true; break;
        default: return EXIT_USAGE;
        }
    }
    return optind == argc ? 0 : EXIT_USAGE;
}

static int setup_signals(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Arms the timerfd for the earliest deadline (realtime usec), or disarms it. */
static void arm_timer(daemon_t *d)
{
    uint64_t next = daemon_next_deadline(d, now_usec());
    struct itimerspec its = {0};
    if (next != USEC_INFINITY) {
        uint64_t now = now_usec();
        uint64_t delta = next > now ? next - now : 1;
        its.it_value.tv_sec = (time_t)(delta / USEC_PER_SEC);
        its.it_value.tv_nsec = (long)(delta % USEC_PER_SEC) * 1000;
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1000;
    }
    timerfd_settime(d->timer_fd, 0, &its, NULL);
}

static void handle_signal(daemon_t *d)
{
    struct signalfd_siginfo si;
    while (read(d->signal_fd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP)
            daemon_reload(d, now_usec());
        else
            d->stopping = true;
    }
}

static int loop(daemon_t *d)
{
    struct epoll_event evs[32];
    while (!d->stopping) {
        arm_timer(d);
        int n = epoll_wait(d->epoll_fd, evs, (int)ELEMENTSOF(evs), -1);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            return -errno;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == d->signal_fd)
                handle_signal(d);
            else if (fd == d->timer_fd) {
                uint64_t x;
                while (read(d->timer_fd, &x, sizeof x) == sizeof x)
                    ;
            } else
                daemon_fd_event(d, fd, evs[i].events, now_usec());
        }
        daemon_step(d, now_usec(), mono_usec());
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    run_opts o = {0};
    if (parse_opts(argc, argv, &o) != 0) {
        fputs("usage: pcmon run [-c FILE] [--state-dir DIR] [--root DIR] [-v]\n", stderr);
        return EXIT_USAGE;
    }
    log_init(o.verbose);
    /* Webhook URLs and passwords live in this process: no core dumps, no ptrace by other users. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    daemon_t *d = daemon_new(&o);
    if (!d)
        return EXIT_BAD_INPUT;
    d->signal_fd = setup_signals();
    d->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (d->signal_fd < 0 || d->timer_fd < 0 || d->epoll_fd < 0 || daemon_start(d, now_usec(), mono_usec()) < 0) {
        daemon_free(d);
        return EXIT_RUNTIME;
    }
    int r = loop(d);
    sd_notify(0, "STOPPING=1\nSTATUS=stopping");
    daemon_stop(d, now_usec());
    daemon_free(d);
    return r < 0 ? EXIT_RUNTIME : EXIT_OK;
}
