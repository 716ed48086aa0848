/* notifytool: drives the delivery engine (lib/notify.c) the way the daemon does, with its own
 * poll loop, for the integration tests. It loads a config, opens <state_dir>/spool (which resends
 * whatever is pending there), reads alert JSON lines from --input (a file or "-" for stdin, read as
 * they come), submits them, and runs until every alert is delivered or dead and the input is at
 * its end, or until --timeout. Events are printed as they happen, one line each:
 *     event delivered|retry|dead|dropped|spool_error|unavailable|insecure notifier=N seq=S rule=R: message
 * and at the end one line per notifier and one for the spool:
 *     notifier NAME type=T target=X ok=N failed=N dead=N pending=N last_error=...
 *     spool depth=N dead=N dropped=N corrupt=N write_errors=N
 * --test-notify [NAME...] sends the marked test alert through a memory-only spool and prints
 * "test NAME ok" or "test NAME FAILED: reason" after the first attempt of each.
 * Exit: 0 all delivered, 3 pending at the timeout, 4 something dead or a test failed, 1 bad config. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "notify.h"
#include "util.h"

#define MAX_FDS 64

typedef struct tool {
    struct pollfd fds[MAX_FDS];
    int nfds;
    int in_fd;
    strbuf in;
    bool in_eof;
    bool test_mode;
    char *const *test_names;
    size_t ntest;
    char *test_result[32];
    unsigned dead, submitted;
} tool;

static const char *const kinds[] = { "delivered", "retry", "dead", "dropped", "spool_error", "unavailable",
                                     "insecure" };

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void on_watch(void *ud, int fd, int events)
{
    tool *t = ud;
    int i = 0;
    while (i < t->nfds && t->fds[i].fd != fd)
        i++;
    if (events == 0) {
        if (i < t->nfds)
            t->fds[i] = t->fds[--t->nfds];
        return;
    }
    if (i == t->nfds) {
        if (t->nfds == MAX_FDS)
            abort();
        t->nfds++;
    }
    t->fds[i].fd = fd;
    t->fds[i].events = (short)((events & NOTIFY_POLL_IN ? POLLIN : 0) | (events & NOTIFY_POLL_OUT ? POLLOUT : 0));
}

static void on_event(void *ud, const notify_event *ev)
{
    tool *t = ud;
    printf("event %s notifier=%s seq=%llu rule=%s attempts=%u: %s\n", kinds[ev->kind],
           ev->notifier ? ev->notifier : "-", (unsigned long long)ev->seq, ev->rule ? ev->rule : "-", ev->attempts,
           ev->message);
    fflush(stdout);
    if (ev->kind == NEV_DEAD)
        t->dead++;
    if (t->test_mode && ev->notifier && (ev->kind == NEV_DELIVERED || ev->kind == NEV_RETRY || ev->kind == NEV_DEAD))
        for (size_t i = 0; i < t->ntest && i < ELEMENTSOF(t->test_result); i++)
            if (str_eq(t->test_names[i], ev->notifier) && !t->test_result[i])
                t->test_result[i] = ev->kind == NEV_DELIVERED ? xstrdup("ok") : xasprintf("FAILED: %s", ev->message);
}

/* Submits every complete line read so far. */
static void read_input(tool *t, notify *e)
{
    char buf[65536];
    ssize_t n = read(t->in_fd, buf, sizeof buf);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            t->in_eof = true;
    } else {
        strbuf_add(&t->in, buf, (size_t)n);
    }
    char *nl;
    while (t->in.len && (nl = memchr(t->in.s, '\n', t->in.len))) {
        size_t len = (size_t)(nl - t->in.s);
        if (len > 0) {
            alert a = {0};
            if (alert_from_json(t->in.s, len, &a) < 0) {
                fprintf(stderr, "notifytool: bad alert line: %.*s\n", (int)(len < 200 ? len : 200), t->in.s);
            } else {
                int r = notify_submit(e, &a, now_usec());
                printf("submitted rule=%s rc=%d\n", a.rule, r);
                fflush(stdout);
                t->submitted++;
                alert_clear(&a);
            }
        }
        memmove(t->in.s, nl + 1, t->in.len - len - 1);
        t->in.len -= len + 1;
    }
}

static bool tests_done(const tool *t)
{
    for (size_t i = 0; i < t->ntest && i < ELEMENTSOF(t->test_result); i++)
        if (!t->test_result[i])
            return false;
    return true;
}

static int run(tool *t, notify *e, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_usec();
        notify_process(e, now);
        if (t->test_mode ? tests_done(t) : (t->in_eof && notify_pending(e) == 0))
            return 0;
        if (now >= deadline)
            return 3;
        uint64_t next = notify_next_deadline(e, now);
        if (next > deadline)
            next = deadline;
        int ms = next <= now ? 0 : (int)((next - now + 999) / 1000);
        struct pollfd fds[MAX_FDS + 1];
        int nf = t->nfds;
        memcpy(fds, t->fds, sizeof(struct pollfd) * (size_t)nf);
        if (!t->in_eof)
            fds[nf++] = (struct pollfd){ .fd = t->in_fd, .events = POLLIN };
        int r = poll(fds, (nfds_t)nf, ms);
        if (r < 0 && errno != EINTR)
            return 3;
        for (int i = 0; r > 0 && i < nf; i++) {
            if (!fds[i].revents)
                continue;
            if (!t->in_eof && fds[i].fd == t->in_fd && i == nf - 1) {
                read_input(t, e);
                continue;
            }
            int ev = (fds[i].revents & (POLLIN | POLLHUP | POLLERR) ? NOTIFY_POLL_IN : 0) |
                     (fds[i].revents & POLLOUT ? NOTIFY_POLL_OUT : 0);
            notify_socket_action(e, fds[i].fd, ev, now_usec());
        }
    }
}

static void report(notify *e, spool *sp)
{
    size_t n;
    const notify_stat *st = notify_stats(e, &n);
    for (size_t i = 0; i < n; i++)
        printf("notifier %s type=%s target=%s ok=%llu failed=%llu dead=%llu pending=%zu available=%d last_error=%s\n",
               st[i].name, st[i].type, st[i].target, (unsigned long long)st[i].ok, (unsigned long long)st[i].failed,
               (unsigned long long)st[i].dead, st[i].pending, st[i].available,
               st[i].last_error ? st[i].last_error : "-");
    spool_stats ss;
    spool_get_stats(sp, &ss);
    printf("spool depth=%zu dead=%zu dropped=%llu corrupt=%llu write_errors=%llu\n", ss.depth, ss.dead,
           (unsigned long long)ss.dropped, (unsigned long long)ss.corrupt, (unsigned long long)ss.write_errors);
}

static unsigned long parse_version(const char *s)
{
    unsigned a = 0, b = 0, c = 0;
    sscanf(s, "%u.%u.%u", &a, &b, &c);
    return (unsigned long)a << 16 | b << 8 | c;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },     { "input", required_argument, NULL, 'i' },
        { "timeout", required_argument, NULL, 't' },    { "test-notify", no_argument, NULL, 'T' },
        { "curl-version", required_argument, NULL, 'V' }, { "hostname", required_argument, NULL, 'H' },
        { 0 },
    };
    const char *cfg_path = NULL, *input = NULL, *hostname = "pcmon-test";
    double timeout = 30;
    unsigned long curl_version = 0;
    tool t = { .in_fd = -1, .in_eof = true };
    int c;
    while ((c = getopt_long(argc, argv, "c:i:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg_path = optarg; break;
        case 'i': input = optarg; break;
        case 't': timeout = atof(optarg); break;
        case 'T': t.test_mode = true; break;
        case 'V': curl_version = parse_version(optarg); break;
        case 'H': hostname = optarg; break;
        default: return 2;
        }
    }
    if (!cfg_path) {
        fputs("usage: notifytool -c CONFIG [--input FILE|-] [--timeout SEC] [--test-notify [NAME...]]\n", stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    config_errors errs = {0};
    pcmon_config *cfg = config_load_file(cfg_path, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].col, errs.v[i].msg);
    if (!cfg)
        return 1;
    config_errors_free(&errs);
    memset(&errs, 0, sizeof errs);
    spool_limits lim = { cfg->spool.max_bytes, cfg->spool.max_alerts, cfg->spool.max_age };
    _cleanup_free_ char *dir = xasprintf("%s/spool", cfg->state_dir);
    spool *sp = NULL;
    int r = spool_open(t.test_mode ? NULL : dir, &lim, 0, &sp);
    if (r == -EBUSY) {
        fprintf(stderr, "notifytool: spool %s is in use by another process\n", dir);
        config_free(cfg);
        return 3;
    }
    if (r < 0) {   /* as the daemon does: deliver from memory rather than not at all */
        printf("event spool_error notifier=- seq=0 rule=-: cannot open spool %s (%s); alerts are held in memory "
               "only\n", dir, strerror(-r));
        spool_open(NULL, &lim, 0, &sp);
    }
    notify_hooks h = { on_watch, on_event, &t, .seed = (uint64_t)getpid(), .hostname = hostname,
                       .curl_version = curl_version };
    notify *e = notify_new(cfg, sp, &h, &errs);
    for (size_t i = 0; i < errs.n; i++)
        printf("config %s:%d:%d: %s\n", errs.v[i].file, errs.v[i].line, errs.v[i].col, errs.v[i].msg);
    fflush(stdout);
    config_errors_free(&errs);
    if (t.test_mode) {
        t.test_names = argv + optind;
        t.ntest = (size_t)(argc - optind);
        if (t.ntest == 0) {   /* every notifier */
            char **all = xcalloc(cfg->nnotifiers + 1, sizeof *all);
            for (size_t i = 0; i < cfg->nnotifiers; i++)
                all[i] = cfg->notifiers[i].name;
            t.test_names = all;
            t.ntest = cfg->nnotifiers;
        }
        if (notify_test(e, t.test_names, t.ntest, now_usec()) < 0) {
            fprintf(stderr, "notifytool: unknown notifier\n");
            return 2;
        }
    } else if (input) {
        t.in_fd = str_eq(input, "-") ? STDIN_FILENO : open(input, O_RDONLY | O_CLOEXEC);
        t.in_eof = t.in_fd < 0;
    }
    r = run(&t, e, now_usec() + (uint64_t)(timeout * 1e6));
    report(e, sp);
    int failed = 0;
    for (size_t i = 0; t.test_mode && i < t.ntest && i < ELEMENTSOF(t.test_result); i++) {
        printf("test %s %s\n", t.test_names[i], t.test_result[i] ? t.test_result[i] : "FAILED: no answer in time");
        failed += !t.test_result[i] || !str_eq(t.test_result[i], "ok");
    }
    fflush(stdout);
    notify_free(e);
    spool_free(sp);
    config_free(cfg);
    strbuf_free(&t.in);
    for (size_t i = 0; i < ELEMENTSOF(t.test_result); i++)
        free(t.test_result[i]);
    if (t.test_mode && optind == argc)
        free((void *)t.test_names);
    if (r == 0 && (t.dead || failed))
        r = 4;
    return r;
}
