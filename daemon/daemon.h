/* The daemon's parts wired together: config, rules, grouper, pipeline, tailer and delivery, with
 * their state persisted in the state directory. run.c owns the loop and calls these. */
#ifndef PCMON_DAEMON_H
#define PCMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "grouper.h"
#include "pipeline.h"
#include "rules.h"
#include "sink.h"
#include "storm.h"
#include "tailer.h"

typedef struct run_opts {
    const char *config, *state_dir, *root;
    bool verbose;
} run_opts;

typedef struct daemon_t {
    run_opts opts;
    bool embedded;
    pcmon_config *c;
    rules *r;
    grouper *g;
    pipeline *p;
    tailer *t;
    sink *sk;
    storm *sm;
    int epoll_fd, signal_fd, timer_fd;
    bool stopping;
    bool dirty;                 /* lines delivered since the last commit */
    char last_status[200];
    struct json_object *alerts_by_rule; /* rule -> count, for metrics */
    uint64_t metrics_due;
    bool metrics_failed;      /* the last STATUS= sent */
    bool hold_offsets;          /* an alert is in memory only: do not commit offsets yet */
    uint64_t watchdog_usec;     /* 0 = no watchdog */
    uint64_t last_watchdog;     /* monotonic */
    uint64_t alerts, last_alert;
    uint64_t reloads_ok, reloads_failed;
    uint64_t now;                      /* the clock of the event being handled */
    struct json_object *last_alerts;   /* rule -> "time state: title" */
} daemon_t;

daemon_t *daemon_new(const run_opts *o);
int daemon_start(daemon_t *d, uint64_t now, uint64_t mono);
void daemon_fd_event(daemon_t *d, int fd, uint32_t events, uint64_t now);
/* Runs timers and work due now, commits state, pings the watchdog. */
void daemon_step(daemon_t *d, uint64_t now, uint64_t mono);
uint64_t daemon_next_deadline(daemon_t *d, uint64_t now);
void daemon_reload(daemon_t *d, uint64_t now);
void daemon_stop(daemon_t *d, uint64_t now);
void daemon_free(daemon_t *d);

#endif
