/* The delivery spool: every alert is made durable here before any notifier sees it, and stays
 * until each notifier it is routed to has accepted it (or rejected it for good: "dead", kept for
 * `status` until a cap drops it). One file per alert in <state_dir>/spool, "<seq>.json": the alert
 * object plus its routes, written to a temp file, fsynced, renamed and the directory fsynced.
 * Sequence numbers give the order, so each notifier sees its alerts in the order they came. */
#ifndef PCMON_SPOOL_H
#define PCMON_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"

enum route_state { ROUTE_PENDING, ROUTE_DONE, ROUTE_DEAD };

typedef struct spool_route {
    char *notifier;
    enum route_state state;
    unsigned attempts;         /* sends tried so far */
    uint64_t next_attempt;     /* usec; not before this (0 = at once; reset on load) */
    char *error;               /* last failure or why it is dead; never holds a secret */
} spool_route;

typedef struct spool_entry {
    uint64_t seq;
    uint64_t enqueued;         /* usec */
    alert a;
    spool_route *routes;
    size_t nroutes;
    size_t size;               /* bytes of its file */
    bool durable;              /* false: the write failed, held in memory only */
    bool keep;                 /* never dropped by a cap (the drop summary itself); set, then save */
} spool_entry;

typedef struct spool_limits {
    size_t max_bytes;          /* 0 = no cap */
    size_t max_alerts;         /* 0 = no cap */
    uint64_t max_age;          /* usec, 0 = no cap */
} spool_limits;

typedef struct spool_stats {
    size_t depth;              /* entries with a pending route */
    size_t dead;               /* entries kept only because a route is dead */
    size_t bytes;
    uint64_t oldest;           /* enqueued time of the oldest pending entry, 0 = none */
    uint64_t corrupt;          /* files skipped at load (set aside as *.corrupt) or half-written */
    uint64_t dropped;          /* entries dropped by a cap, in total */
    uint64_t write_errors;
} spool_stats;

/* What the caps dropped since the last spool_take_dropped(). */
typedef struct spool_drops {
    uint64_t count;
    uint64_t first_enqueued, last_enqueued;
    char *rules;               /* "rule1, rule2, ..." of the first few dropped (caller frees) */
} spool_drops;

typedef struct spool spool;

#define SPOOL_READONLY 1u      /* load only: no lock, no writes (for `pcmon status`) */

/* Opens (creating) dir and loads every entry in it, skipping and counting corrupt or
 * half-written files. dir NULL gives a memory-only spool (test-notify). Takes an exclusive flock
 * on dir: -EBUSY when another process holds it. A read-only dir opens (puts then fail with
 * -EROFS). 0 and *out, or -errno. */
int spool_open(const char *dir, const spool_limits *lim, unsigned flags, spool **out);
/* Frees memory only: files stay. Accepts NULL, returns NULL. */
spool *spool_free(spool *s);

/* Stores a copy of a routed to the named notifiers, durable when this returns 0. Caps are applied
 * first (oldest dropped, never the new one). On a write error (-ENOSPC, -EROFS, ...) the entry is
 * still kept in memory (durable false) and returned in *out, and -errno is returned. */
int spool_put(spool *s, const alert *a, char *const *notifiers, size_t n, uint64_t now, spool_entry **out);
/* Persists e's routes after a change. Removes e (file and memory; e is then invalid) once no route
 * is pending or dead. 0 or -errno (e stays in memory on error). */
int spool_save(spool *s, spool_entry *e);
/* Drops entries older than max_age. Returns how many. */
size_t spool_expire(spool *s, uint64_t now);
/* Drops dead entries (e.g. after an operator fixed a notifier). Returns how many. */
size_t spool_purge_dead(spool *s);

size_t spool_count(const spool *s);
/* Entries in sequence order, 0 <= i < spool_count(). Valid until the next put/save/expire. */
spool_entry *spool_nth(spool *s, size_t i);
spool_entry *spool_get(spool *s, uint64_t seq);
/* The first entry (lowest seq) with a pending route to notifier, or NULL. */
spool_entry *spool_next(spool *s, const char *notifier);
spool_route *spool_route_of(spool_entry *e, const char *notifier);

void spool_get_stats(const spool *s, spool_stats *st);
/* Takes the drops counted since the last call; false when there were none. */
bool spool_take_dropped(spool *s, spool_drops *d);
const char *spool_dir(const spool *s);

#endif
