/* The delivery engine: takes alerts into the spool and sends each to its notifiers (Slack, SMTP,
 * Alertmanager, SNS, file, stdout) through libcurl's multi interface, inside the caller's event
 * loop: no threads, no blocking network call. Per notifier, alerts go out one at a time in spool
 * order; failures are retried with exponential backoff and jitter (or Retry-After), permanent
 * rejections are parked as dead. The engine never reads the clock and never logs: the caller
 * passes `now` (usec since the epoch) and gets notify_event callbacks to log.
 *
 * Wiring (daemon or test driver):
 *   hooks.watch(ud, fd, NOTIFY_POLL_IN|OUT)  watch fd (events 0: stop watching; curl closes it next)
 *   on fd readiness:   notify_socket_action(e, fd, events, now)
 *   after any event:   notify_process(e, now); then arm a timer for notify_next_deadline(e, now)
 *   new alert:         notify_submit(e, alert, now)
 *   shutdown:          notify_drain(e, now, deadline) until it returns 0 or the deadline passes,
 *                      then notify_free(e) (sends in flight stay in the spool and go out next start) */
#ifndef PCMON_NOTIFY_H
#define PCMON_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "spool.h"

enum { NOTIFY_POLL_IN = 1, NOTIFY_POLL_OUT = 2 };

enum notify_event_kind {
    NEV_DELIVERED,      /* a notifier accepted an alert */
    NEV_RETRY,          /* a send failed and will be retried at retry_at */
    NEV_DEAD,           /* a notifier rejected an alert for good; kept in the spool as dead */
    NEV_DROPPED,        /* a spool cap dropped alerts (message says how many and which) */
    NEV_SPOOL_ERROR,    /* an alert could not be made durable; delivered from memory */
    NEV_UNAVAILABLE,    /* a notifier cannot work (secret file unreadable, libcurl too old) */
    NEV_INSECURE,       /* insecure_skip_verify is on for a notifier */
};

typedef struct notify_event {
    enum notify_event_kind kind;
    const char *notifier;      /* NULL for spool events */
    uint64_t seq;              /* spool sequence number, 0 = none */
    const char *rule;
    unsigned attempts;
    uint64_t retry_at;         /* NEV_RETRY: usec */
    const char *message;       /* for humans; never holds a secret */
} notify_event;

typedef struct notify_hooks {
    void (*watch)(void *userdata, int fd, int events);
    void (*event)(void *userdata, const notify_event *ev);   /* optional */
    void *userdata;
    uint64_t seed;             /* seeds the retry jitter */
    const char *hostname;      /* Message-ID domain and test alert text; NULL = "localhost"; copied */
    unsigned long curl_version;   /* 0 = the running libcurl's; tests simulate an old one */
} notify_hooks;

/* Per-notifier counters for `status` and test-notify. */
typedef struct notify_stat {
    const char *name, *type;
    const char *target;        /* scheme://host[:port] or path: never a secret */
    uint64_t ok, failed, dead, retries;
    size_t pending;            /* alerts waiting for this notifier */
    bool in_flight, available;
    uint64_t last_ok;          /* usec, 0 = never */
    const char *last_error;    /* NULL = none since the last success */
} notify_stat;

typedef struct notify notify;

/* Builds the engine over cfg's notifiers and the spool sp; both must outlive it. Pending alerts
 * already in sp are sent as soon as notify_process runs. Problems that disable one notifier
 * (unreadable url_file/password_file, SNS on an old libcurl) are appended to errs, reported as
 * NEV_UNAVAILABLE, and that notifier's alerts go dead with the reason; the rest work. Returns NULL
 * only when libcurl cannot be initialised. */
notify *notify_new(const pcmon_config *cfg, spool *sp, const notify_hooks *hooks, config_errors *errs);
/* Aborts sends in flight (their alerts stay pending in the spool). Accepts NULL, returns NULL. */
notify *notify_free(notify *e);

/* Puts a into the spool, routed to a->notify (or every notifier), then sends when due. 0 when the
 * alert is durable; -errno when the spool write failed (the alert is still delivered from memory,
 * and a NEV_SPOOL_ERROR event says so); -ENOENT when it routes to no known notifier. */
int notify_submit(notify *e, const alert *a, uint64_t now);
/* Submits a clearly marked test alert to the named notifiers (n 0: every one). -ENOENT (and
 * nothing sent) when a name is unknown. */
int notify_test(notify *e, char *const *names, size_t n, uint64_t now);

void notify_socket_action(notify *e, int fd, int events, uint64_t now);
/* Drives everything due at now: curl timeouts, completions, retries, new sends, spool caps. */
void notify_process(notify *e, uint64_t now);
/* The earliest time notify_process has work, or USEC_INFINITY. */
uint64_t notify_next_deadline(notify *e, uint64_t now);
/* Shutdown: from now on starts only sends due before deadline. Returns how many sends are in
 * flight or due before it; the caller keeps its loop running until 0 or the deadline. */
size_t notify_drain(notify *e, uint64_t now, uint64_t deadline);
/* Routes still pending (not dead) across every notifier. */
size_t notify_pending(notify *e);

/* Counters per notifier, in config order; valid until the next call into the engine. */
const notify_stat *notify_stats(notify *e, size_t *n);
/* "libcurl 7.88.1" style version the engine checks against. */
const char *notify_curl_version(const notify *e);

#endif
