#include "storm.h"

#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "util.h"

#define WINDOW (60 * USEC_PER_SEC)
/* Rules named in a summary; the count covers the rest. */
#define SUMMARY_RULES 8

typedef struct bucket {
    const char *name;         /* notifier name, or "" for the default output */
    uint64_t start;           /* window start; 0 = idle */
    unsigned sent;
    unsigned held;
    char *rules[SUMMARY_RULES];
    size_t nrules;
} bucket;

struct storm {
    const pcmon_config *c;
    grouper_emit_fn out;
    void *userdata;
    bucket *b;
    size_t nb;
    uint64_t now, held_total;
};

storm *storm_new(const pcmon_config *c, grouper_emit_fn out, void *userdata)
{
    storm *s = xcalloc(1, sizeof *s);
    s->c = c;
    s->out = out;
    s->userdata = userdata;
    s->nb = c->nnotifiers ? c->nnotifiers : 1;
    s->b = xcalloc(s->nb, sizeof(bucket));
    for (size_t i = 0; i < c->nnotifiers; i++)
        s->b[i].name = c->notifiers[i].name;
    if (!c->nnotifiers)
        s->b[0].name = "";
    return s;
}

static void bucket_reset(bucket *b, uint64_t start)
{
    for (size_t i = 0; i < b->nrules; i++)
        free(b->rules[i]);
    b->nrules = 0;
    b->sent = b->held = 0;
    b->start = start;
}

storm *storm_free(storm *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->nb; i++)
        bucket_reset(&s->b[i], 0);
    free(s->b);
    free(s);
    return NULL;
}

static bool routed_to(const alert *a, const char *name)
{
    if (a->nnotify == 0)
        return true;
    for (size_t i = 0; i < a->nnotify; i++)
        if (str_eq(a->notify[i], name))
            return true;
    return false;
}

static void note_rule(bucket *b, const char *rule)
{
    for (size_t i = 0; i < b->nrules; i++)
        if (str_eq(b->rules[i], rule))
            return;
    if (b->nrules < SUMMARY_RULES)
        b->rules[b->nrules++] = xstrdup(rule);
}

static void send_summary(storm *s, bucket *b)
{
    alert a = {0};
    strbuf names = {0};
    for (size_t i = 0; i < b->nrules; i++)
        strbuf_addf(&names, "%s%s", i ? ", " : "", b->rules[i]);
    a.rule = xstrdup("pcmon_storm");
    a.severity = xstrdup("warning");
    a.title = xasprintf("%u alerts held back in one minute (storm control)", b->held);
    a.text = xasprintf("More than %u alerts per minute were due for this notifier; %u were held back so the "
                       "channel stays readable. Rules: %s. Run `pcmon replay` on the logs or see the journal "
                       "(journalctl -u pcmon) for each of them.", s->c->grouping.storm_per_minute, b->held,
                       names.s ? names.s : "");
    a.count = b->held;
    a.first_seen = b->start;
    a.last_seen = s->now;
    char held[16];
    snprintf(held, sizeof held, "%u", b->held);
    fields_set(&a.fields, "held", held);
    fields_set(&a.fields, "rules", names.s ? names.s : "");
    if (s->c->nnotifiers) {
        a.notify = xcalloc(1, sizeof(char *));
        a.notify[0] = xstrdup(b->name);
        a.nnotify = 1;
    }
    a.group_key = xstrdup("pcmon_storm");
    s->out(s->userdata, &a);
    alert_clear(&a);
    strbuf_free(&names);
}

void storm_tick(storm *s, uint64_t now)
{
    s->now = now;
    for (size_t i = 0; i < s->nb; i++) {
        bucket *b = &s->b[i];
        if (!b->start || now < b->start + WINDOW)
            continue;
        if (b->held)
            send_summary(s, b);
        bucket_reset(b, 0);
    }
}

uint64_t storm_next_deadline(const storm *s)
{
    uint64_t d = USEC_INFINITY;
    for (size_t i = 0; i < s->nb; i++)
        if (s->b[i].held && s->b[i].start + WINDOW < d)
            d = s->b[i].start + WINDOW;
    return d;
}

uint64_t storm_held(const storm *s)
{
    return s->held_total;
}

void storm_emit(void *userdata, const alert *a)
{
    storm *s = userdata;
    storm_tick(s, s->now);   /* a minute may have ended since the last tick */
    const char *pass[s->nb + 1];
    size_t npass = 0, routed = 0;
    for (size_t i = 0; i < s->nb; i++) {
        bucket *b = &s->b[i];
        if (s->c->nnotifiers && !routed_to(a, b->name))
            continue;
        routed++;
        if (!b->start)
            bucket_reset(b, s->now);
        if (b->sent < s->c->grouping.storm_per_minute) {
            b->sent++;
            pass[npass++] = b->name;
        } else {
            b->held++;
            s->held_total++;
            note_rule(b, a->rule);
        }
    }
    if (npass == 0 || npass < routed) {
        if (npass == 0)
            return;
        alert narrowed;
        alert_copy(&narrowed, a);
        for (size_t i = 0; i < narrowed.nnotify; i++)
            free(narrowed.notify[i]);
        free(narrowed.notify);
        narrowed.notify = xcalloc(npass, sizeof(char *));
        for (size_t i = 0; i < npass; i++)
            narrowed.notify[i] = xstrdup(pass[i]);
        narrowed.nnotify = npass;
        s->out(s->userdata, &narrowed);
        alert_clear(&narrowed);
        return;
    }
    s->out(s->userdata, a);
}
