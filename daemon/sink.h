/* Where the grouper's alerts go: the terminal (text), standard output as JSON lines, nowhere
 * (replay --matches), or the durable spool and the notifiers (delivery). Delivery runs libcurl's
 * multi interface on the sink's own epoll fd, which the daemon's loop watches like any other. */
#ifndef PCMON_SINK_H
#define PCMON_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"

typedef struct sink sink;
enum sink_mode {
    SINK_NULL,      /* count only (replay --matches) */
    SINK_TEXT,      /* readable, on standard output */
    SINK_JSON,      /* alert objects, one per line, on standard output */
    SINK_DELIVER,   /* the state directory's spool and the notifiers */
    SINK_TEST,      /* the notifiers with a memory-only spool (test-notify beside a running daemon) */
};

/* NULL when delivery cannot start (the spool cannot be opened or is locked by another pcmon);
 * the reason is logged. */
sink *sink_new(const pcmon_config *c, enum sink_mode mode, bool color);
/* A grouper_emit_fn: userdata is the sink. */
void sink_emit(void *userdata, const alert *a);
/* False when an alert since the last call could not be made durable (the spool's disk is full or
 * read-only): the caller must not commit the offsets of the lines behind it. */
bool sink_durable(sink *s);
/* The fd to watch for delivery progress (POLLIN), -1 when the sink does no network I/O. */
int sink_fd(const sink *s);
/* Runs delivery work that is due (socket readiness, retries, new sends). */
void sink_process(sink *s);
/* The earliest time (realtime usec) delivery has work, USEC_INFINITY when none. */
uint64_t sink_next_deadline(sink *s);
/* Sends a marked test alert through the named notifiers (n 0: all) and waits for the outcome up to
 * bound_usec; prints one line per notifier. 0 when all succeeded. */
int sink_test(sink *s, char *const *names, size_t n, uint64_t bound_usec);
/* Lets deliveries in flight or due finish, for at most bound_usec. 0, or -ETIMEDOUT/-EIO. */
int sink_finish(sink *s, uint64_t bound_usec);
struct notify_stat;
/* Per-notifier delivery counters (none when not delivering); valid until the next sink call. */
const struct notify_stat *sink_stats(sink *s, size_t *n);
/* Spool depth, and the enqueue time of the oldest undelivered alert in *oldest (0 = none). */
size_t sink_spool_depth(sink *s, uint64_t *oldest);
/* Alerts waiting in the spool for some notifier. */
size_t sink_pending(sink *s);
void sink_free(sink *s);

#endif
