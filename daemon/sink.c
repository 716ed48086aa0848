#include "sink.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "notify.h"
#include "spool.h"
#include "util.h"

struct sink {
    const pcmon_config *c;
    enum sink_mode mode;
    bool color;
    int epfd;
    spool *sp;
    notify *nt;
    unsigned long emitted;
    bool not_durable;           /* an alert since the last sink_durable() is in memory only */
};

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void watch(void *userdata, int fd, int events)
{
    sink *s = userdata;
    struct epoll_event ev = { .data.fd = fd };
    ev.events = (events & NOTIFY_POLL_IN ? EPOLLIN : 0) | (events & NOTIFY_POLL_OUT ? EPOLLOUT : 0);
    if (events == 0) {
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
        return;
    }
    if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Delivery outcomes to the journal: per alert and per state change, never per line, no secrets. */
static void on_event(void *userdata, const notify_event *ev)
{
    char f1[160], f2[64];
    snprintf(f1, sizeof f1, "PCMON_NOTIFIER=%s", ev->notifier ? ev->notifier : "");
    snprintf(f2, sizeof f2, "PCMON_RULE=%s", ev->rule ? ev->rule : "");
    const char *fields[] = { f1, f2, NULL };
    int prio = ev->kind == NEV_DELIVERED ? LOG_INFO : ev->kind == NEV_RETRY ? LOG_WARNING : LOG_ERR;
    log_fields(prio, fields, "%s%s%s", ev->notifier ? ev->notifier : "spool", ev->notifier ? ": " : ": ",
               ev->message ? ev->message : "");
}

static int open_delivery(sink *s)
{
    _cleanup_free_ char *dir = s->mode == SINK_TEST ? NULL : xasprintf("%s/spool", s->c->state_dir);
    spool_limits lim = { s->c->spool.max_bytes, s->c->spool.max_alerts, s->c->spool.max_age };
    /* `replay --send` on a fresh state_dir, as `run` does (spool_open makes only spool/ itself) */
    if (dir && mkdir(s->c->state_dir, 0750) < 0 && errno != EEXIST)
        log_warning("cannot create state directory %s: %s", s->c->state_dir, strerror(errno));
    int r = spool_open(dir, &lim, 0, &s->sp);
    if (r < 0) {
        log_error("cannot open the delivery spool %s: %s%s", dir, strerror(-r),
                  r == -EBUSY ? " (another pcmon is running with this state directory)" : "");
        return r;
    }
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0)
        return -errno;
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    notify_hooks hooks = { .watch = watch, .event = on_event, .userdata = s, .seed = now_usec() ^ (uint64_t)getpid(),
                           .hostname = host };
    config_errors errs = {0};
    s->nt = notify_new(s->c, s->sp, &hooks, &errs);
    for (size_t i = 0; i < errs.n; i++)
        log_warning("%s:%d:%d: %s", errs.v[i].file, errs.v[i].line, errs.v[i].col, errs.v[i].msg);
    config_errors_free(&errs);
    return s->nt ? 0 : -ENOMEM;
}

sink *sink_new(const pcmon_config *c, enum sink_mode mode, bool color)
{
    sink *s = xcalloc(1, sizeof *s);
    s->c = c;
    s->mode = mode;
    s->color = color;
    s->epfd = -1;
    if ((mode == SINK_DELIVER || mode == SINK_TEST) && open_delivery(s) < 0) {
        sink_free(s);
        return NULL;
    }
    return s;
}

void sink_emit(void *userdata, const alert *a)
{
    sink *s = userdata;
    s->emitted++;
    if (s->mode == SINK_NULL)
        return;
    if (s->nt) {
        int r = notify_submit(s->nt, a, now_usec());
        if (r == -ENOENT)
            log_error("alert %s routes to no configured notifier", a->rule);
        else if (r < 0)
            s->not_durable = true;
        notify_process(s->nt, now_usec());
        return;
    }
    char *out = s->mode == SINK_JSON ? alert_to_json(a) : alert_format_text(a, s->color);
    fputs(out, stdout);
    fputs(s->mode == SINK_JSON ? "\n" : "\n\n", stdout);
    fflush(stdout);
    free(out);
}

bool sink_durable(sink *s)
{
    bool ok = !s->not_durable;
    s->not_durable = false;
    return ok;
}

int sink_fd(const sink *s)
{
    return s->epfd;
}

void sink_process(sink *s)
{
    struct epoll_event evs[16];
    if (!s->nt)
        return;
    int n = epoll_wait(s->epfd, evs, (int)ELEMENTSOF(evs), 0);
    for (int i = 0; i < n; i++) {
        int ev = (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) ? NOTIFY_POLL_IN : 0) |
                 (evs[i].events & EPOLLOUT ? NOTIFY_POLL_OUT : 0);
        notify_socket_action(s->nt, evs[i].data.fd, ev, now_usec());
    }
    notify_process(s->nt, now_usec());
}

uint64_t sink_next_deadline(sink *s)
{
    return s->nt ? notify_next_deadline(s->nt, now_usec()) : USEC_INFINITY;
}

const struct notify_stat *sink_stats(sink *s, size_t *n)
{
    *n = 0;
    return s->nt ? notify_stats(s->nt, n) : NULL;
}

size_t sink_spool_depth(sink *s, uint64_t *oldest)
{
    spool_stats st = {0};
    if (s->sp)
        spool_get_stats(s->sp, &st);
    *oldest = st.oldest;
    return st.depth;
}

size_t sink_pending(sink *s)
{
    return s->nt ? notify_pending(s->nt) : 0;
}

/* Runs delivery alone until done() or the bound: for replay --send, test-notify and shutdown. */
static void run_until(sink *s, uint64_t bound_usec, bool (*done)(sink *))
{
    uint64_t end = now_usec() + bound_usec;
    while (!done(s) && now_usec() < end) {
        uint64_t next = sink_next_deadline(s), now = now_usec();
        uint64_t wait = next < end ? (next > now ? next - now : 0) : end - now;
        struct pollfd p = { .fd = s->epfd, .events = POLLIN };
        poll(&p, 1, (int)(wait / USEC_PER_MSEC) + 1);
        sink_process(s);
    }
}

static bool drained(sink *s)
{
    return notify_drain(s->nt, now_usec(), UINT64_MAX) == 0 || notify_pending(s->nt) == 0;
}

int sink_finish(sink *s, uint64_t bound_usec)
{
    if (!s->nt)
        return ferror(stdout) ? -EIO : 0;
    uint64_t deadline = now_usec() + bound_usec;
    notify_drain(s->nt, now_usec(), deadline);
    run_until(s, bound_usec, drained);
    return notify_drain(s->nt, now_usec(), deadline) == 0 ? 0 : -ETIMEDOUT;
}

static bool nothing_in_flight(sink *s)
{
    size_t n;
    const notify_stat *st = notify_stats(s->nt, &n);
    for (size_t i = 0; i < n; i++)
        if (st[i].in_flight || (st[i].pending && !st[i].last_error))
            return false;
    return true;
}

int sink_test(sink *s, char *const *names, size_t n, uint64_t bound_usec)
{
    if (!s->nt)
        return -EINVAL;
    int r = notify_test(s->nt, names, n, now_usec());
    if (r < 0) {
        fprintf(stderr, "pcmon: test-notify: unknown notifier\n");
        return r;
    }
    sink_process(s);
    run_until(s, bound_usec, nothing_in_flight);
    size_t ns;
    const notify_stat *st = notify_stats(s->nt, &ns);
    int bad = 0;
    for (size_t i = 0; i < ns; i++) {
        bool named = n == 0;
        for (size_t k = 0; k < n; k++)
            named |= str_eq(names[k], st[i].name);
        if (!named)
            continue;
        bool ok = st[i].ok > 0 && !st[i].last_error;
        bad += !ok;
        printf("%-16s %-12s %-40s %s%s\n", st[i].name, st[i].type, st[i].target ? st[i].target : "",
               ok ? "ok" : "FAILED: ", ok ? "" : st[i].last_error ? st[i].last_error : "no answer in time");
    }
    return bad ? -EIO : 0;
}

void sink_free(sink *s)
{
    if (!s)
        return;
    notify_free(s->nt);
    spool_free(s->sp);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s);
}
