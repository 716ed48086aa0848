/* The delivery engine (see notify.h): scheduling, libcurl multi plumbing, retries and results.
 * Each notifier has at most one attempt in flight, always for its oldest pending alert, so
 * alerts reach a notifier in spool order; a failing head holds back the ones behind it. */
#include "notify.h"

#include <errno.h>
#include <string.h>

#include "macro.h"
#include "notify_backend.h"
#include "util.h"

/* Retry-After beyond this is treated as this: an hour of silence is already an incident. */
#define RETRY_AFTER_MAX (3600 * USEC_PER_SEC)
/* Guards the curl timer loop in one notify_process call. */
#define TIMEOUT_ROUNDS 8

typedef struct nstate {
    notifier n;
    bool available, healthy;
    char *unavailable;
    notify_job *job;
    uint64_t last_send;
    notify_stat st;
    char *last_error;
} nstate;

struct notify {
    const pcmon_config *cfg;
    spool *sp;
    notify_hooks h;
    CURLM *multi;
    nstate *ns;
    size_t nn;
    uint64_t now, curl_deadline, rand;
    bool draining;
    uint64_t drain_deadline;
    notify_stat *stats;
    char *hostname;            /* owned copy: the caller's hooks may point at its stack */
    char curl_version[48];
};

static const notify_backend *const backends[] = {
    [NOTIFY_FILE] = &notify_file_backend,   [NOTIFY_STDOUT] = &notify_stdout_backend,
    [NOTIFY_SLACK] = &notify_slack_backend, [NOTIFY_SMTP] = &notify_smtp_backend,
    [NOTIFY_ALERTMANAGER] = &notify_alertmanager_backend, [NOTIFY_SNS] = &notify_sns_backend,
};

static void emit(notify *e, enum notify_event_kind kind, const nstate *s, uint64_t seq, const char *rule,
                 unsigned attempts, uint64_t retry_at, const char *msg)
{
    if (!e->h.event)
        return;
    notify_event ev = { kind, s ? s->n.cfg->name : NULL, seq, rule, attempts, retry_at, msg };
    e->h.event(e->h.userdata, &ev);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    notify *e = userp;
    int ev = what == CURL_POLL_IN ? NOTIFY_POLL_IN : what == CURL_POLL_OUT ? NOTIFY_POLL_OUT
           : what == CURL_POLL_INOUT ? NOTIFY_POLL_IN | NOTIFY_POLL_OUT : 0;
    if (e->h.watch)
        e->h.watch(e->h.userdata, fd, ev);
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    notify *e = userp;
    e->curl_deadline = timeout_ms < 0 ? USEC_INFINITY : e->now + (uint64_t)timeout_ms * USEC_PER_MSEC;
    return 0;
}

static void init_notifier(notify *e, nstate *s, const notifier_cfg *c, config_errors *errs)
{
    s->n.cfg = c;
    s->n.be = backends[c->type];
    s->n.hostname = e->h.hostname ? e->h.hostname : "localhost";
    s->n.curl_version = e->h.curl_version;
    s->n.rand_state = notify_rand(&e->rand);
    s->available = s->healthy = true;
    s->st.name = c->name;
    s->st.type = s->n.be->type;
    char *err = NULL;
    if (s->n.be->init(&s->n, &err) < 0) {
        s->available = false;
        s->unavailable = xasprintf("%s: %s", c->name, err ? err : "unavailable");
        config_error_add(errs, e->cfg->file, c->line, c->col, "notifier %s", s->unavailable);
        emit(e, NEV_UNAVAILABLE, s, 0, NULL, 0, 0, s->unavailable);
    }
    free(err);
    if (!s->n.target)
        s->n.target = xstrdup(c->path ? c->path : c->name);
    s->st.target = s->n.target;
    s->st.available = s->available;
    if (c->insecure_skip_verify) {
        _cleanup_free_ char *m = xasprintf("insecure_skip_verify is on: TLS certificates of %s are NOT "
                                           "verified; anyone on the path can read and forge this traffic",
                                           s->n.target);
        emit(e, NEV_INSECURE, s, 0, NULL, 0, 0, m);
    }
}

notify *notify_new(const pcmon_config *cfg, spool *sp, const notify_hooks *hooks, config_errors *errs)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    notify *e = xcalloc(1, sizeof *e);
    e->cfg = cfg;
    e->sp = sp;
    if (hooks)
        e->h = *hooks;
    e->hostname = xstrdup(e->h.hostname && e->h.hostname[0] ? e->h.hostname : "localhost");
    e->h.hostname = e->hostname;
    e->rand = e->h.seed ? e->h.seed : UINT64_C(0x5eed);
    e->curl_deadline = USEC_INFINITY;
    const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    if (!e->h.curl_version)
        e->h.curl_version = vi->version_num;
    unsigned long v = e->h.curl_version;
    snprintf(e->curl_version, sizeof e->curl_version, "libcurl %lu.%lu.%lu", v >> 16, (v >> 8) & 0xff, v & 0xff);
    e->multi = curl_multi_init();
    if (!e->multi) {
        free(e->hostname);
        free(e);
        return NULL;
    }
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    e->nn = cfg->nnotifiers;
    e->ns = xcalloc(e->nn ? e->nn : 1, sizeof *e->ns);
    e->stats = xcalloc(e->nn ? e->nn : 1, sizeof *e->stats);
    for (size_t i = 0; i < e->nn; i++)
        init_notifier(e, &e->ns[i], &cfg->notifiers[i], errs);
    return e;
}

static void job_free(notify *e, notify_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->nx; i++)
        curl_multi_remove_handle(e->multi, j->x[i]->easy);
    notify_job_clear(j);
    free(j->x);
    free(j);
}

notify *notify_free(notify *e)
{
    if (!e)
        return NULL;
    for (size_t i = 0; i < e->nn; i++) {
        nstate *s = &e->ns[i];
        job_free(e, s->job);
        if (s->n.be->done)
            s->n.be->done(&s->n);
        free(s->n.target);
        for (size_t k = 0; k < NOTIFIER_SECRETS; k++)
            free(s->n.secrets[k]);
        free(s->unavailable);
        free(s->last_error);
    }
    curl_multi_cleanup(e->multi);
    free(e->hostname);
    free(e->ns);
    free(e->stats);
    free(e);
    return NULL;
}

static nstate *find(notify *e, const char *name)
{
    for (size_t i = 0; i < e->nn; i++)
        if (str_eq(e->ns[i].n.cfg->name, name))
            return &e->ns[i];
    return NULL;
}

/* Spools a with explicit routes; the alert goes out from memory if the write fails. */
static int put(notify *e, const alert *a, char *const *names, size_t n)
{
    spool_entry *en = NULL;
    int r = spool_put(e->sp, a, names, n, e->now, &en);
    if (r < 0) {
        _cleanup_free_ char *m = xasprintf("spool %s: cannot store alert %s durably (%s); delivering it from "
                                           "memory, it is lost if pcmon stops first", spool_dir(e->sp),
                                           a->rule ? a->rule : "?", strerror(-r));
        emit(e, NEV_SPOOL_ERROR, NULL, en ? en->seq : 0, a->rule, 0, 0, m);
    }
    return r;
}

int notify_submit(notify *e, const alert *a, uint64_t now)
{
    e->now = now;
    _cleanup_free_ char **names = xcalloc(e->nn ? e->nn : 1, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < e->nn; i++) {
        const char *name = e->ns[i].n.cfg->name;
        bool want = a->nnotify == 0;
        for (size_t k = 0; k < a->nnotify && !want; k++)
            want = str_eq(a->notify[k], name);
        if (want)
            names[n++] = (char *)name;
    }
    if (n == 0)
        return -ENOENT;
    return put(e, a, names, n);
}

int notify_test(notify *e, char *const *names, size_t n, uint64_t now)
{
    for (size_t i = 0; i < n; i++)
        if (!find(e, names[i]))
            return -ENOENT;
    alert a = {0};
    a.rule = xstrdup("pcmon_test");
    a.severity = xstrdup("info");
    a.title = xasprintf("Test alert from pcmon on %s", e->h.hostname ? e->h.hostname : "localhost");
    a.text = xstrdup("This is a test sent by `pcmon test-notify`. If you can read it, this notifier works; "
                     "nothing needs to be done.");
    a.count = 1;
    a.first_seen = a.last_seen = now;
    a.test = true;
    if (e->cfg->cluster && e->cfg->cluster[0])
        fields_set(&a.labels, "cluster", e->cfg->cluster);
    a.notify = xcalloc(n ? n : 1, sizeof *a.notify);
    for (size_t i = 0; i < n; i++)
        a.notify[a.nnotify++] = xstrdup(names[i]);
    int r = notify_submit(e, &a, now);
    alert_clear(&a);
    return r;
}

/* Tells the operator, through every other notifier, that one notifier rejects alerts. */
static void meta_alert(notify *e, nstate *bad, const char *reason)
{
    alert a = {0};
    a.rule = xstrdup("pcmon_notifier_failed");
    a.severity = xstrdup("critical");
    a.title = xasprintf("pcmon cannot deliver through notifier %s", bad->n.cfg->name);
    a.text = xasprintf("Notifier %s (%s) rejected an alert permanently: %s. Alerts for it are kept in the "
                       "spool as dead; see `pcmon status`.", bad->n.cfg->name, bad->n.target, reason);
    a.count = 1;
    a.first_seen = a.last_seen = e->now;
    fields_set(&a.labels, "notifier", bad->n.cfg->name);
    if (e->cfg->cluster && e->cfg->cluster[0])
        fields_set(&a.labels, "cluster", e->cfg->cluster);
    a.notify = xcalloc(e->nn ? e->nn : 1, sizeof *a.notify);
    for (size_t i = 0; i < e->nn; i++)
        if (&e->ns[i] != bad && e->ns[i].available)
            a.notify[a.nnotify++] = xstrdup(e->ns[i].n.cfg->name);
    if (a.nnotify)
        notify_submit(e, &a, e->now);
    alert_clear(&a);
}

static void set_error(nstate *s, const char *msg)
{
    free(s->last_error);
    s->last_error = msg ? xstrdup(msg) : NULL;
}

/* Records the verdict for s's route of entry seq; consumes r.reason. */
static void apply(notify *e, nstate *s, uint64_t seq, notify_result r)
{
    _cleanup_free_ char *reason = r.reason ? redact_secrets(r.reason, s->n.secrets, NOTIFIER_SECRETS) : NULL;
    free(r.reason);
    spool_entry *en = spool_get(e->sp, seq);
    spool_route *rt = en ? spool_route_of(en, s->n.cfg->name) : NULL;
    if (!rt || rt->state != ROUTE_PENDING)
        return;   /* dropped by a cap meanwhile */
    _cleanup_free_ char *rule = xstrdup(en->a.rule ? en->a.rule : "?");
    _cleanup_free_ char *msg = NULL;
    rt->attempts++;
    free(rt->error);
    rt->error = reason ? xstrdup(reason) : NULL;
    unsigned attempts = rt->attempts;
    if (r.v == NV_OK) {
        rt->state = ROUTE_DONE;
        s->st.ok++;
        s->st.last_ok = e->now;
        s->healthy = true;
        set_error(s, NULL);
        spool_save(e->sp, en);
        msg = xasprintf("%s accepted alert %s (seq %llu, attempt %u)", s->n.cfg->name, rule,
                        (unsigned long long)seq, attempts);
        emit(e, NEV_DELIVERED, s, seq, rule, attempts, 0, msg);
    } else if (r.v == NV_RETRY) {
        uint64_t wait = r.retry_after ? (r.retry_after < RETRY_AFTER_MAX ? r.retry_after : RETRY_AFTER_MAX)
                                      : notify_backoff(s->n.cfg->retry_base, s->n.cfg->retry_max, attempts, &e->rand);
        rt->next_attempt = e->now + wait;
        s->st.failed++;
        s->st.retries++;
        set_error(s, reason);
        spool_save(e->sp, en);
        char b[32];
        msg = xasprintf("%s (%s): alert %s (seq %llu) attempt %u failed: %s; retry in %s%s", s->n.cfg->name,
                        s->n.target, rule, (unsigned long long)seq, attempts, reason,
                        format_duration(wait, b, sizeof b), r.retry_after ? " (Retry-After)" : "");
        emit(e, NEV_RETRY, s, seq, rule, attempts, e->now + wait, msg);
    } else {
        rt->state = ROUTE_DEAD;
        s->st.dead++;
        set_error(s, reason);
        spool_save(e->sp, en);
        msg = xasprintf("%s (%s): alert %s (seq %llu) rejected permanently: %s; kept in the spool as dead",
                        s->n.cfg->name, s->n.target, rule, (unsigned long long)seq, reason);
        emit(e, NEV_DEAD, s, seq, rule, attempts, 0, msg);
        if (s->healthy && !str_startswith(rule, "pcmon_"))
            meta_alert(e, s, reason);
        s->healthy = false;
    }
}

static void add_handles(notify *e, notify_job *j, size_t from)
{
    for (size_t i = from; i < j->nx; i++)
        curl_multi_add_handle(e->multi, j->x[i]->easy);
}

/* Every transfer of s's job is done: ask the backend what it means. */
static void job_finished(notify *e, nstate *s)
{
    notify_job *j = s->job;
    spool_entry *en = spool_get(e->sp, j->seq);
    if (!en) {
        job_free(e, j);
        s->job = NULL;
        return;
    }
    size_t old = j->nx;
    notify_result r = s->n.be->finish(&s->n, j, &en->a, e->now);
    if (r.v == NV_CONTINUE && j->nx > old) {
        for (size_t i = 0; i < old; i++)
            curl_multi_remove_handle(e->multi, j->x[i]->easy);
        notify_job done = { .n = j->n, .x = j->x, .nx = old };
        notify_job_clear(&done);
        memmove(j->x, j->x + old, (j->nx - old) * sizeof *j->x);
        j->nx -= old;
        add_handles(e, j, 0);
        return;
    }
    if (r.v == NV_CONTINUE)
        r = nr_retry(0, "backend stopped without a verdict");
    uint64_t seq = j->seq;
    job_free(e, j);
    s->job = NULL;
    apply(e, s, seq, r);
}

static void read_completions(notify *e)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        notify_xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (!x || x->done)
            continue;
        x->done = true;
        x->code = m->data.result;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
#if LIBCURL_VERSION_NUM >= 0x074200
        curl_off_t ra = 0;
        if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0 && ra < 86400)
            x->retry_after = (uint64_t)ra * USEC_PER_SEC;
#endif
        notify_job *j = x->job;
        bool all = true;
        for (size_t i = 0; i < j->nx; i++)
            all = all && j->x[i]->done;
        if (all)
            job_finished(e, (nstate *)j->n);
    }
}

static void curl_timeouts(notify *e)
{
    int running;
    for (int i = 0; i < TIMEOUT_ROUNDS && e->curl_deadline <= e->now; i++) {
        e->curl_deadline = USEC_INFINITY;
        curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        read_completions(e);
    }
}

void notify_socket_action(notify *e, int fd, int events, uint64_t now)
{
    e->now = now;
    int running, mask = (events & NOTIFY_POLL_IN ? CURL_CSELECT_IN : 0) |
                        (events & NOTIFY_POLL_OUT ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(e->multi, fd, mask ? mask : CURL_CSELECT_ERR, &running);
    read_completions(e);
}

/* When s may next start a send for entry en (its head). */
static uint64_t due_at(const nstate *s, spool_entry *en)
{
    const spool_route *rt = spool_route_of(en, s->n.cfg->name);
    uint64_t due = rt ? rt->next_attempt : 0;
    if (s->last_send && s->n.be->min_interval && s->last_send + s->n.be->min_interval > due)
        due = s->last_send + s->n.be->min_interval;
    return due;
}

static void start_one(notify *e, nstate *s, spool_entry *en)
{
    s->last_send = e->now;
    if (!s->available) {
        apply(e, s, en->seq, nr_dead("%s", s->unavailable));
        return;
    }
    if (s->n.be->deliver) {
        apply(e, s, en->seq, s->n.be->deliver(&s->n, &en->a, e->now));
        return;
    }
    notify_job *j = xcalloc(1, sizeof *j);
    j->n = &s->n;
    j->seq = en->seq;
    char *err = NULL;
    if (s->n.be->start(&s->n, j, &en->a, e->now, &err) < 0 || j->nx == 0) {
        job_free(e, j);
        apply(e, s, en->seq, nr_dead("%s", err ? err : "cannot build the request"));
        free(err);
        return;
    }
    s->job = j;
    add_handles(e, j, 0);
}

/* Starts every send that is due. Local and failed-at-start sends finish at once, so the loop
 * takes the next head until one is in flight or not due; bounded by the spool's size. */
static void start_due(notify *e)
{
    for (size_t i = 0; i < e->nn; i++) {
        nstate *s = &e->ns[i];
        for (size_t guard = spool_count(e->sp) + 1; guard > 0 && !s->job; guard--) {
            spool_entry *en = spool_next(e->sp, s->n.cfg->name);
            if (!en)
                break;
            uint64_t due = due_at(s, en);
            if (due > e->now || (e->draining && due > e->drain_deadline))
                break;
            start_one(e, s, en);
        }
    }
}

/* The undelivered drop summary, if there is one: later drops are added to it rather than
 * queueing summaries that would in turn push each other out. */
static spool_entry *pending_summary(notify *e)
{
    for (size_t i = 0; i < spool_count(e->sp); i++) {
        spool_entry *en = spool_nth(e->sp, i);
        if (en->keep && str_eq(en->a.rule, "pcmon_spool_overflow"))
            for (size_t k = 0; k < en->nroutes; k++)
                if (en->routes[k].state == ROUTE_PENDING)
                    return en;
    }
    return NULL;
}

static void summarise_drops(notify *e, alert *a, uint64_t count, uint64_t first, const char *msg)
{
    free(a->title);
    free(a->text);
    a->title = xasprintf("pcmon dropped %llu undelivered alert(s)", (unsigned long long)count);
    a->text = xstrdup(msg);
    a->count = count;
    if (!a->first_seen || first < a->first_seen)
        a->first_seen = first;
    a->last_seen = e->now;
}

static void check_caps(notify *e)
{
    spool_expire(e->sp, e->now);
    spool_drops d;
    if (!spool_take_dropped(e->sp, &d))
        return;
    spool_entry *sum = pending_summary(e);
    uint64_t total = d.count + (sum ? sum->a.count : 0);
    char t1[32], t2[32];
    _cleanup_free_ char *msg = xasprintf("spool cap reached: dropped the %llu oldest alert(s) (rules: %s), queued "
                                         "%s to %s ago; raise spool.max_bytes/max_alerts/max_age or fix the "
                                         "notifiers", (unsigned long long)total, d.rules && d.rules[0] ? d.rules : "?",
                                         format_duration(e->now - d.first_enqueued, t1, sizeof t1),
                                         format_duration(e->now - d.last_enqueued, t2, sizeof t2));
    emit(e, NEV_DROPPED, NULL, 0, NULL, 0, 0, msg);
    free(d.rules);
    if (sum) {
        summarise_drops(e, &sum->a, total, d.first_enqueued, msg);
        spool_save(e->sp, sum);
        return;
    }
    alert a = {0};
    a.rule = xstrdup("pcmon_spool_overflow");
    a.severity = xstrdup("critical");
    summarise_drops(e, &a, total, d.first_enqueued, msg);
    if (e->cfg->cluster && e->cfg->cluster[0])
        fields_set(&a.labels, "cluster", e->cfg->cluster);
    _cleanup_free_ char **names = xcalloc(e->nn ? e->nn : 1, sizeof *names);
    for (size_t i = 0; i < e->nn; i++)
        names[i] = (char *)e->ns[i].n.cfg->name;
    spool_entry *en = NULL;
    if (spool_put(e->sp, &a, names, e->nn, e->now, &en) >= 0 || en) {
        en->keep = true;
        spool_save(e->sp, en);
    }
    alert_clear(&a);
}

void notify_process(notify *e, uint64_t now)
{
    e->now = now;
    curl_timeouts(e);
    read_completions(e);
    check_caps(e);
    start_due(e);
    curl_timeouts(e);
}

uint64_t notify_next_deadline(notify *e, uint64_t now)
{
    uint64_t next = e->curl_deadline;
    for (size_t i = 0; i < e->nn; i++) {
        nstate *s = &e->ns[i];
        spool_entry *en = s->job ? NULL : spool_next(e->sp, s->n.cfg->name);
        uint64_t due = en ? due_at(s, en) : USEC_INFINITY;
        if (e->draining && due > e->drain_deadline)
            due = USEC_INFINITY;
        if (due < next)
            next = due;
    }
    spool_entry *oldest = spool_nth(e->sp, 0);
    if (e->cfg->spool.max_age && oldest && oldest->enqueued + e->cfg->spool.max_age < next)
        next = oldest->enqueued + e->cfg->spool.max_age + 1;
    return next;
}

size_t notify_drain(notify *e, uint64_t now, uint64_t deadline)
{
    e->now = now;
    e->draining = true;
    e->drain_deadline = deadline;
    size_t n = 0;
    for (size_t i = 0; i < e->nn; i++) {
        nstate *s = &e->ns[i];
        spool_entry *en = s->job ? NULL : spool_next(e->sp, s->n.cfg->name);
        n += s->job || (en && due_at(s, en) <= deadline);
    }
    return n;
}

size_t notify_pending(notify *e)
{
    size_t n = 0;
    for (size_t i = 0; i < spool_count(e->sp); i++) {
        spool_entry *en = spool_nth(e->sp, i);
        for (size_t k = 0; k < en->nroutes; k++)
            n += en->routes[k].state == ROUTE_PENDING;
    }
    return n;
}

const notify_stat *notify_stats(notify *e, size_t *n)
{
    for (size_t i = 0; i < e->nn; i++) {
        nstate *s = &e->ns[i];
        s->st.pending = 0;
        for (size_t k = 0; k < spool_count(e->sp); k++) {
            spool_route *rt = spool_route_of(spool_nth(e->sp, k), s->n.cfg->name);
            s->st.pending += rt && rt->state == ROUTE_PENDING;
        }
        s->st.in_flight = s->job != NULL;
        s->st.last_error = s->last_error ? s->last_error : s->unavailable;
        e->stats[i] = s->st;
    }
    *n = e->nn;
    return e->stats;
}

const char *notify_curl_version(const notify *e)
{
    return e->curl_version;
}
