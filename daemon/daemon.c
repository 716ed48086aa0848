#include "daemon.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "metrics.h"
#include "macro.h"
#include "timeparse.h"
#include "util.h"

/* The grouping state is small (open groups only); cap what is read back. */
#define GROUPS_STATE_MAX (16 * 1024 * 1024)

/* `pcmon status` shows the last alert of each rule. */
static void note_last_alert(daemon_t *d, const alert *a)
{
    char when[40];
    if (!d->last_alerts)
        d->last_alerts = json_object_new_object();
    char *v = xasprintf("%s %s: %s", ts_format(a->last_seen, when, sizeof when), a->resolved ? "resolved" : "firing",
                        a->title ? a->title : "");
    json_object_object_add(d->last_alerts, a->rule, json_object_new_string(v));
    free(v);
    if (!d->alerts_by_rule)
        d->alerts_by_rule = json_object_new_object();
    json_object *n;
    int64_t count = json_object_object_get_ex(d->alerts_by_rule, a->rule, &n) ? json_object_get_int64(n) : 0;
    json_object_object_add(d->alerts_by_rule, a->rule, json_object_new_int64(count + 1));
}

/* Alerts that passed storm control. */
static void on_alert(void *userdata, const alert *a)
{
    daemon_t *d = userdata;
    char buf[512];
    snprintf(buf, sizeof buf, "PCMON_RULE=%s", a->rule);
    const char *fields[] = { buf, NULL };
    /* Printed alerts (no notifiers) are already on the terminal: the log gets them at debug. */
    int prio = d->c->nnotifiers == 0 ? LOG_DEBUG : a->resolved ? LOG_NOTICE : LOG_WARNING;
    log_fields(prio, fields, "alert %s %s: %s", a->rule, a->resolved ? "resolved" : "firing", a->title);
    d->alerts++;
    d->last_alert = a->last_seen;
    note_last_alert(d, a);
    sink_emit(d->sk, a);
}

static void on_line(void *userdata, const tailer_line *l)
{
    daemon_t *d = userdata;
    uint64_t ts = pipeline_timestamp(d->p, l->src, l->data, l->len);
    pipeline_line(d->p, l->src, l->path, l->lineno, l->data, l->len, l->cut, ts, d->now);
    d->dirty = true;
}

/* Copytruncate gaps, unreadable files, inotify exhausted: once each, to the journal. */
static void on_tailer_warn(void *userdata, size_t src, const char *msg)
{
    daemon_t *d = userdata;
    char f[160];
    snprintf(f, sizeof f, "PCMON_SOURCE=%s", src < d->c->nsources ? d->c->sources[src].name : "");
    const char *fields[] = { f, NULL };
    log_fields(LOG_WARNING, fields, "%s", msg);
}

daemon_t *daemon_new(const run_opts *o)
{
    daemon_t *d = xcalloc(1, sizeof *d);
    d->opts = *o;
    d->epoll_fd = d->signal_fd = d->timer_fd = -1;
    d->c = cli_load_config(o->config, &d->embedded);
    if (d->c && cli_check_secrets(d->c, true) > 0) {
        log_error("refusing to start: a file holding a secret can be read or changed by other users (see above); "
                  "fix its mode, then start again (pcmon check-config shows it)");
        d->c = config_free(d->c);
    }
    if (!d->c) {
        free(d);
        return NULL;
    }
    if (o->state_dir) {
        free(d->c->state_dir);
        d->c->state_dir = xstrdup(o->state_dir);
    }
    return d;
}

static char *state_path(const daemon_t *d, const char *name)
{
    return xasprintf("%s/%s", d->c->state_dir, name);
}

static void restore_groups(daemon_t *d)
{
    _cleanup_free_ char *path = state_path(d, "groups.json");
    _cleanup_free_ char *json = NULL;
    size_t len;
    int r = read_file(path, GROUPS_STATE_MAX, &json, &len);
    if (r == -ENOENT)
        return;
    if (r < 0 || grouper_restore(d->g, json, len) < 0)
        log_warning("%s: unreadable grouping state (%s); starting with no open groups", path,
                    r < 0 ? strerror(-r) : "not pcmon's format");
    else
        log_info("restored %zu open alert groups from %s", grouper_open_groups(d->g), path);
}

/* Grouping state first, then offsets: a crash between the two replays lines whose alerts are
 * already known, which the restored groups absorb, instead of losing them. */
static void commit(daemon_t *d)
{
    if (!d->dirty)
        return;
    /* An alert that only lives in memory (spool disk full or read-only) holds the offsets back
     * until everything pending is delivered: a crash meanwhile re-reads the lines, losing nothing. */
    if (!sink_durable(d->sk) && !d->hold_offsets) {
        d->hold_offsets = true;
        log_error("an alert could not be written to the spool; offsets are held back until it is delivered");
    }
    if (d->hold_offsets && sink_pending(d->sk) > 0)
        return;
    d->hold_offsets = false;
    _cleanup_free_ char *path = state_path(d, "groups.json");
    _cleanup_free_ char *json = grouper_save(d->g);
    int r = write_file_atomic(path, json, strlen(json), 0640);
    if (r < 0) {
        log_error("%s: cannot save grouping state: %s (offsets not advanced, lines will be re-read)", path,
                  strerror(-r));
        return;
    }
    if (d->last_alerts) {
        _cleanup_free_ char *lpath = state_path(d, "last_alerts.json");
        const char *s = json_object_to_json_string_ext(d->last_alerts, JSON_C_TO_STRING_PLAIN);
        write_file_atomic(lpath, s, strlen(s), 0640);
    }
    r = tailer_commit(d->t);
    if (r < 0)
        log_error("cannot save offsets in %s: %s", d->c->state_dir, strerror(-r));
    else
        d->dirty = false;
}

static int build(daemon_t *d)
{
    config_errors errs = {0};
    d->r = rules_compile(d->c, &errs);
    config_errors_free(&errs);
    if (!d->r)
        return -EINVAL;
    d->sk = sink_new(d->c, d->c->nnotifiers ? SINK_DELIVER : SINK_TEXT, isatty(STDOUT_FILENO));
    if (!d->sk)
        return -EIO;
    d->sm = storm_new(d->c, on_alert, d);
    d->g = grouper_new(d->c, storm_emit, d->sm);
    d->p = pipeline_new(d->c, d->r, d->g);
    return 0;
}

static void announce_sources(daemon_t *d)
{
    tailer_source_status st[d->c->nsources + 1];
    size_t n = tailer_status(d->t, st, d->c->nsources);
    size_t present = 0;
    for (size_t i = 0; i < n; i++) {
        present += st[i].exists;
        log_info("%s %s", st[i].exists ? "watching" : "waiting for", st[i].path);
    }
    log_info("following %zu files (%zu not there yet), %zu rules, %s", n, n - present, d->c->nrules,
             d->c->nnotifiers ? "delivering to the configured notifiers" : "printing alerts here (no notifiers)");
}

/* STATUS= only when it changes: sd_notify blocks when the receiver's queue is full, and the
 * text changes with alerts, not with lines. */
static void update_status(daemon_t *d)
{
    char buf[160];
    snprintf(buf, sizeof buf, "STATUS=following %zu files, %zu open groups, %llu alerts sent, %zu pending delivery",
             d->c->nsources, grouper_open_groups(d->g), (unsigned long long)d->alerts, sink_pending(d->sk));
    if (str_eq(buf, d->last_status))
        return;
    snprintf(d->last_status, sizeof d->last_status, "%s", buf);
    sd_notify(0, buf);
}

static void watch_sink(daemon_t *d)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = sink_fd(d->sk) };
    if (ev.data.fd >= 0)
        epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev);
}

int daemon_start(daemon_t *d, uint64_t now, uint64_t mono)
{
    if (d->embedded)
        log_notice("%s not found: running the embedded default configuration", DEFAULT_CONFIG);
    if (mkdir(d->c->state_dir, 0750) < 0 && errno != EEXIST) {
        log_error("cannot create state directory %s: %s (not root? try: pcmon run --state-dir DIR, or "
                  "make run ARGS=\"--state-dir /tmp/pcmon-state\")", d->c->state_dir, strerror(errno));
        return -errno;
    }
    if (build(d) < 0)
        return -EINVAL;
    restore_groups(d);
    _cleanup_free_ char *lpath = state_path(d, "last_alerts.json");
    d->last_alerts = json_object_from_file(lpath);   /* NULL when absent: starts empty */
    if (d->last_alerts && !json_object_is_type(d->last_alerts, json_type_object)) {
        json_object_put(d->last_alerts);
    json_object_put(d->alerts_by_rule);
        d->last_alerts = NULL;
    }
    d->now = now;
    storm_tick(d->sm, now);
    d->t = tailer_new(d->c, d->opts.root ? d->opts.root : "", on_line, d);
    tailer_set_warn(d->t, on_tailer_warn, d);
    int r = tailer_start(d->t, now);
    if (r < 0) {
        log_error("cannot start following the logs: %s", strerror(-r));
        return r;
    }
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.fd = d->signal_fd;
    epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->signal_fd, &ev);
    ev.data.fd = d->timer_fd;
    epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->timer_fd, &ev);
    ev.data.fd = tailer_fd(d->t);
    if (ev.data.fd >= 0)
        epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev);
    watch_sink(d);
    grouper_arm_flatlines(d->g, now);
    announce_sources(d);
    if (sd_watchdog_enabled(0, &d->watchdog_usec) <= 0)
        d->watchdog_usec = 0;
    d->last_watchdog = mono;
    commit(d);
    sd_notify(0, "READY=1");
    update_status(d);
    return 0;
}

void daemon_fd_event(daemon_t *d, int fd, uint32_t events, uint64_t now)
{
    d->now = now;
    storm_tick(d->sm, now);
    if (fd == tailer_fd(d->t))
        tailer_process(d->t, now);
    else if (fd == sink_fd(d->sk))
        sink_process(d->sk);
}

void daemon_step(daemon_t *d, uint64_t now, uint64_t mono)
{
    d->now = now;
    if (tailer_next_deadline(d->t, now) <= now)
        tailer_process(d->t, now);
    storm_tick(d->sm, now);
    /* Delivery timers: retries, Slack's pacing, curl's own timeouts. Without this the timer fires
     * for a deadline nobody serves and the loop spins until a socket event comes. */
    if (sink_next_deadline(d->sk) <= now)
        sink_process(d->sk);
    if (grouper_next_deadline(d->g) <= now) {
        grouper_tick(d->g, now);
        d->dirty = true;
    }
    bool changed = d->dirty;
    commit(d);
    metrics_step(d, now);
    if (d->watchdog_usec && mono - d->last_watchdog >= d->watchdog_usec / 2) {
        sd_notify(0, "WATCHDOG=1");
        d->last_watchdog = mono;
    }
    if (changed)
        update_status(d);
}

uint64_t daemon_next_deadline(daemon_t *d, uint64_t now)
{
    uint64_t next = grouper_next_deadline(d->g);
    uint64_t t = tailer_next_deadline(d->t, now);
    if (t < next)
        next = t;
    t = storm_next_deadline(d->sm);
    if (t < next)
        next = t;
    t = sink_next_deadline(d->sk);
    if (t < next)
        next = t;
    t = d->c->metrics.path ? d->metrics_due : USEC_INFINITY;
    if (t < next)
        next = t;
    if (d->watchdog_usec) {
        uint64_t w = now + d->watchdog_usec / 2;
        if (w < next)
            next = w;
    }
    return next;
}

/* The spool is locked by its sink: the old one closes before the new one opens (sends in flight
 * stay in the spool and go out again). If the new notifiers cannot start, the old ones come back. */
static void swap_sink(daemon_t *d, const pcmon_config *c)
{
    if (sink_fd(d->sk) >= 0)
        epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, sink_fd(d->sk), NULL);
    sink_free(d->sk);
    d->sk = sink_new(c, c->nnotifiers ? SINK_DELIVER : SINK_TEXT, isatty(STDOUT_FILENO));
    if (!d->sk) {
        log_error("the new notifiers cannot start; keeping the previous ones");
        d->sk = sink_new(d->c, d->c->nnotifiers ? SINK_DELIVER : SINK_TEXT, isatty(STDOUT_FILENO));
    }
    if (!d->sk)
        d->sk = sink_new(c, SINK_TEXT, isatty(STDOUT_FILENO));
    watch_sink(d);
}

void daemon_reload(daemon_t *d, uint64_t now)
{
    sd_notify(0, "RELOADING=1");
    bool embedded;
    /* Started from /etc/pcmon.yaml: a reload reads that file or fails. Falling back to the
     * embedded default when it was deleted would silently stop every notifier. */
    const char *path = d->opts.config ? d->opts.config : d->embedded ? NULL : DEFAULT_CONFIG;
    pcmon_config *c = cli_load_config(path, &embedded);
    config_errors errs = {0};
    rules *r = c ? rules_compile(c, &errs) : NULL;
    config_errors_free(&errs);
    const char *why = !r ? "has errors" : cli_check_secrets(c, true) > 0 ? "names an insecure secret file" : NULL;
    if (why) {
        d->reloads_failed++;
        log_error("reload refused: the configuration %s (see above); the running one stays in force", why);
        snprintf(d->last_status, sizeof d->last_status, "STATUS=reload failed: %s %s; running the previous "
                 "configuration", path ? path : "<embedded>", why);
        sd_notifyf(0, "READY=1\n%s", d->last_status);
        rules_free(r);
        config_free(c);
        return;
    }
    if (d->opts.state_dir) {
        free(c->state_dir);
        c->state_dir = xstrdup(d->opts.state_dir);
    }
    _cleanup_free_ char *saved = grouper_save(d->g);
    storm *sm = storm_new(c, on_alert, d);
    grouper *g = grouper_new(c, storm_emit, sm);
    grouper_restore(g, saved, strlen(saved));
    grouper_arm_flatlines(g, now);
    pipeline_free(d->p);
    grouper_free(d->g);
    storm_free(d->sm);
    rules_free(d->r);
    d->sm = sm;
    swap_sink(d, c);
    tailer_reconfigure(d->t, c);
    config_free(d->c);
    d->c = c;
    d->r = r;
    d->g = g;
    d->p = pipeline_new(c, r, g);
    d->embedded = embedded;
    d->reloads_ok++;
    d->dirty = true;
    log_info("configuration reloaded: %zu sources, %zu rules, %zu notifiers", c->nsources, c->nrules, c->nnotifiers);
    sd_notify(0, "READY=1");
    update_status(d);
}

void daemon_stop(daemon_t *d, uint64_t now)
{
    d->dirty = true;
    commit(d);
    /* SIGTERM must end within 5 s (systemd's stop, the tests): deliveries get 3 s, then stay spooled. */
    if (sink_finish(d->sk, 3 * USEC_PER_SEC) < 0)
        log_warning("%zu alerts still waiting for delivery; they are kept in the spool and sent at the next start",
                    sink_pending(d->sk));
    log_info("stopped");
}

void daemon_free(daemon_t *d)
{
    if (!d)
        return;
    tailer_free(d->t);
    pipeline_free(d->p);
    grouper_free(d->g);
    storm_free(d->sm);
    rules_free(d->r);
    if (d->sk)
        sink_free(d->sk);
    config_free(d->c);
    json_object_put(d->last_alerts);
    json_object_put(d->alerts_by_rule);
    if (d->epoll_fd >= 0)
        close(d->epoll_fd);
    if (d->signal_fd >= 0)
        close(d->signal_fd);
    if (d->timer_fd >= 0)
        close(d->timer_fd);
    free(d);
}
