#include "grouper.h"

#include <string.h>

#include "group.h"
#include "macro.h"
#include "util.h"

struct grouper {
    const pcmon_config *c;
    grouper_emit_fn emit;
    void *userdata;
    group **v;
    size_t n, cap;
    uint64_t *flat_last;      /* per rule x source: last activity (0 = not armed) */
    grouper_stats stats;
};

grouper *grouper_new(const pcmon_config *c, grouper_emit_fn emit, void *userdata)
{
    grouper *g = xcalloc(1, sizeof *g);
    g->c = c;
    g->emit = emit;
    g->userdata = userdata;
    g->flat_last = xcalloc(c->nrules * c->nsources + 1, sizeof(uint64_t));
    return g;
}

static void remove_at(grouper *g, size_t i)
{
    if (!g->v[i]->flatline)
        g->stats.closed_count += g->v[i]->count;
    group_free(g->v[i]);
    memmove(&g->v[i], &g->v[i + 1], (g->n - i - 1) * sizeof(group *));
    g->n--;
}

grouper *grouper_free(grouper *g)
{
    if (!g)
        return NULL;
    while (g->n)
        remove_at(g, g->n - 1);
    free(g->v);
    free(g->flat_last);
    free(g);
    return NULL;
}

void grouper_set_context(grouper *g, const char *cluster, const char *region)
{
    /* The config owns the strings the messages use; the daemon updates it the same way. */
    pcmon_config *c = (pcmon_config *)g->c;
    if (cluster && cluster[0] && !str_eq(c->cluster, cluster)) {
        free(c->cluster);
        c->cluster = xstrdup(cluster);
    }
    if (region && region[0] && !str_eq(c->region, region)) {
        free(c->region);
        c->region = xstrdup(region);
    }
}

static const rule_cfg *rule_of(const grouper *g, const group *grp)
{
    return &g->c->rules[grp->rule];
}

static uint64_t wait_of(const grouper *g, const rule_cfg *rc)
{
    if (rc->group_wait != USEC_INFINITY)
        return rc->group_wait;
    return rc->kind == RULE_EVENT ? g->c->grouping.group_wait_event : g->c->grouping.group_wait_state;
}

static uint64_t interval_of(const grouper *g, const rule_cfg *rc)
{
    return rc->group_interval != USEC_INFINITY ? rc->group_interval : g->c->grouping.group_interval;
}

static uint64_t repeat_of(const grouper *g, const rule_cfg *rc)
{
    return rc->repeat_interval != USEC_INFINITY ? rc->repeat_interval : g->c->grouping.repeat_interval;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void emit(grouper *g, const group *grp, bool resolved, const fieldset *extra, const char *note)
{
    alert a;
    group_build_alert(grp, g->c, resolved, extra, note, &a);
    /* The cluster and region are labels: every alert of this pcmon has them. */
    if (g->c->cluster && g->c->cluster[0])
        fields_set(&a.labels, "cluster", g->c->cluster);
    if (g->c->region && g->c->region[0])
        fields_set(&a.labels, "region", g->c->region);
    fields_remove(&a.fields, "cluster");
    fields_remove(&a.fields, "region");
    g->stats.alerts++;
    g->emit(g->userdata, &a);
    alert_clear(&a);
}

static void notify_firing(grouper *g, group *grp, uint64_t now, const char *note)
{
    emit(g, grp, false, NULL, note);
    grp->state = GROUP_FIRING;
    grp->last_notified = now;
    grp->notified_count = grp->count;
}

static group *find(grouper *g, const char *key, size_t *idx)
{
    for (size_t i = 0; i < g->n; i++)
        if (str_eq(g->v[i]->key, key)) {
            if (idx)
                *idx = i;
            return g->v[i];
        }
    return NULL;
}

/* At max_groups the group that has been quiet longest closes early (counted, never silent:
 * it was notified or is notified now). */
static void make_room(grouper *g, uint64_t now)
{
    if (g->n < g->c->grouping.max_groups)
        return;
    size_t oldest = 0;
    for (size_t i = 1; i < g->n; i++)
        if (g->v[i]->last_seen < g->v[oldest]->last_seen)
            oldest = i;
    if (g->v[oldest]->state == GROUP_WAITING)
        notify_firing(g, g->v[oldest], now, NULL);
    remove_at(g, oldest);
    g->stats.groups_evicted++;
}

static group *open_group(grouper *g, size_t rule, const char *key, const fieldset *labels, uint64_t now)
{
    make_room(g, now);
    group *grp = group_new(rule, key);
    fields_copy(&grp->labels, labels);
    const rule_cfg *rc = &g->c->rules[rule];
    grp->notify_at = add_sat(now, wait_of(g, rc));
    grp->close_at = add_sat(now, interval_of(g, rc));
    g->v = xgrow(g->v, &g->cap, g->n + 1, sizeof(group *));
    g->v[g->n++] = grp;
    g->stats.groups_opened++;
    return grp;
}

/* Runs the timers of one group; returns false when the group is gone. */
static bool step(grouper *g, size_t i, uint64_t now)
{
    group *grp = g->v[i];
    const rule_cfg *rc = rule_of(g, grp);
    char note[96], dur[32];
    if (grp->state == GROUP_WAITING) {
        if (now < grp->notify_at)
            return true;
        notify_firing(g, grp, now, NULL);
    }
    if (rc->kind == RULE_EVENT && now >= grp->close_at) {
        remove_at(g, i);
        return false;
    }
    if (grp->pending_at && now >= grp->pending_at) {
        grp->pending_at = 0;
        snprintf(note, sizeof note, "Not cleared %s after the clear was requested",
                 format_duration(rc->pending_timeout != USEC_INFINITY && rc->pending_timeout ? rc->pending_timeout
                                                                      : g->c->grouping.pending_timeout, dur, sizeof dur));
        notify_firing(g, grp, now, note);
    }
    uint64_t repeat = repeat_of(g, rc);
    bool news = rc->kind != RULE_EVENT || grp->count > grp->notified_count;
    if (now >= add_sat(grp->last_notified, repeat) && news) {
        snprintf(note, sizeof note, "Still %s after %s", rc->kind == RULE_EVENT ? "happening" : "firing",
                 format_duration(now - grp->last_notified, dur, sizeof dur));
        notify_firing(g, grp, now, note);
    }
    return true;
}

static void step_group(grouper *g, group *grp, uint64_t now)
{
    size_t i;
    if (find(g, grp->key, &i))
        step(g, i, now);
}

static void absorb(grouper *g, group *grp, const fieldset *f, const char *lineref, uint64_t ts, uint64_t now)
{
    const rule_cfg *rc = rule_of(g, grp);
    if (!group_add(grp, f, lineref, ts, g->c->grouping.max_lines))
        g->stats.lines_dropped++;
    g->stats.matches++;
    if (rc->kind == RULE_EVENT)
        grp->close_at = add_sat(now, interval_of(g, rc));
    if (rc->resolve_changed) {
        const char *v = fields_get(f, rc->resolve_changed);
        if (v) {
            free(grp->resolve_value);
            grp->resolve_value = xstrdup(v);
        }
    }
}

static void on_fire(grouper *g, size_t rule, const fieldset *f, const char *lineref, uint64_t ts, uint64_t now)
{
    fieldset labels = {0};
    _cleanup_free_ char *key = group_key_for(g->c, rule, f, &labels);
    group *grp = find(g, key, NULL);
    if (!grp)
        grp = open_group(g, rule, key, &labels, now);
    fields_free(&labels);
    absorb(g, grp, f, lineref, ts, now);
    step_group(g, grp, now);
}

/* A clear: resolves every firing group of the rule (a state is usually one group). */
static void on_resolve(grouper *g, size_t rule, const fieldset *f, const char *lineref, uint64_t ts)
{
    const rule_cfg *rc = &g->c->rules[rule];
    for (size_t i = 0; i < g->n;) {
        group *grp = g->v[i];
        if (grp->rule != rule || grp->flatline) {
            i++;
            continue;
        }
        const char *v = rc->resolve_changed ? fields_get(f, rc->resolve_changed) : NULL;
        if (rc->resolve_changed && (!v || str_eq(v, grp->resolve_value))) {
            i++;
            continue;
        }
        if (grp->state == GROUP_FIRING) {
            group_add(grp, &(fieldset){0}, lineref, 0, g->c->grouping.max_lines);
            grp->count--;   /* the clearing line is evidence, not an occurrence */
            if (ts > grp->last_seen)
                grp->last_seen = ts;
            emit(g, grp, true, f, NULL);
        } else
            g->stats.resolved_unfired++;
        remove_at(g, i);
    }
}

static void on_pending(grouper *g, size_t rule, uint64_t now)
{
    const rule_cfg *rc = &g->c->rules[rule];
    uint64_t t = rc->pending_timeout != USEC_INFINITY && rc->pending_timeout ? rc->pending_timeout
                                                                             : g->c->grouping.pending_timeout;
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i]->rule == rule && g->v[i]->state == GROUP_FIRING && !g->v[i]->pending_at)
            g->v[i]->pending_at = add_sat(now, t);
}

void grouper_match(grouper *g, size_t rule, enum match_what what, const fieldset *f, const char *lineref,
                   uint64_t ts, uint64_t now)
{
    if (rule >= g->c->nrules)
        return;
    grouper_tick(g, now);
    if (what == MATCH_FIRE)
        on_fire(g, rule, f, lineref, ts, now);
    else if (what == MATCH_RESOLVE && g->c->rules[rule].kind == RULE_STATE)
        on_resolve(g, rule, f, lineref, ts);
    else if (what == MATCH_PENDING && g->c->rules[rule].kind == RULE_STATE)
        on_pending(g, rule, now);
}

static char *flat_key(const grouper *g, size_t rule, size_t src)
{
    return xasprintf("%s\x1f%s", g->c->rules[rule].id, g->c->sources[src].name);
}

/* The open flatline group of (rule, source), found by its key "rule\x1fsource" compared in place:
 * this runs for most lines (every line is activity), and building the key on the heap for each
 * was a tenth of replay's time. */
static group *find_flat(const grouper *g, size_t rule, size_t src, size_t *idx)
{
    const char *id = g->c->rules[rule].id, *name = g->c->sources[src].name;
    size_t n = strlen(id);
    for (size_t i = 0; i < g->n; i++) {
        const char *k = g->v[i]->key;
        if (g->v[i]->flatline && strncmp(k, id, n) == 0 && k[n] == '\x1f' && str_eq(k + n + 1, name)) {
            if (idx)
                *idx = i;
            return g->v[i];
        }
    }
    return NULL;
}

void grouper_activity(grouper *g, size_t rule, size_t src, const char *lineref, uint64_t now)
{
    if (rule >= g->c->nrules || src >= g->c->nsources)
        return;
    g->flat_last[rule * g->c->nsources + src] = now ? now : 1;
    size_t i;
    group *grp = find_flat(g, rule, src, &i);
    if (!grp)
        return;
    group_add(grp, &(fieldset){0}, lineref, now, g->c->grouping.max_lines);
    grp->count--;
    emit(g, grp, true, NULL, NULL);
    remove_at(g, i);
}

void grouper_arm_flatlines(grouper *g, uint64_t now)
{
    for (size_t r = 0; r < g->c->nrules; r++)
        for (size_t s = 0; s < g->c->nsources; s++)
            if (g->c->rules[r].kind == RULE_FLATLINE && !g->flat_last[r * g->c->nsources + s])
                g->flat_last[r * g->c->nsources + s] = now ? now : 1;
}

static bool flatline_applies(const grouper *g, size_t r, size_t s)
{
    const rule_cfg *rc = &g->c->rules[r];
    if (rc->nsources == 0)
        return true;
    for (size_t k = 0; k < rc->nsources; k++)
        if (str_eq(rc->sources[k], g->c->sources[s].name))
            return true;
    return false;
}

static void tick_flatlines(grouper *g, uint64_t now)
{
    for (size_t r = 0; r < g->c->nrules; r++) {
        const rule_cfg *rc = &g->c->rules[r];
        if (rc->kind != RULE_FLATLINE)
            continue;
        for (size_t s = 0; s < g->c->nsources; s++) {
            uint64_t last = g->flat_last[r * g->c->nsources + s];
            if (!last || !flatline_applies(g, r, s) || now < add_sat(last, rc->silence))
                continue;
            if (find_flat(g, r, s, NULL))
                continue;
            _cleanup_free_ char *key = flat_key(g, r, s);
            fieldset labels = {0};
            fields_set(&labels, "source", g->c->sources[s].name);
            group *grp = open_group(g, r, key, &labels, now);
            fields_free(&labels);
            grp->flatline = true;
            grp->src = s;
            group_add(grp, &(fieldset){0}, NULL, last, g->c->grouping.max_lines);
            grp->notify_at = now;
            step_group(g, grp, now);
        }
    }
}

void grouper_tick(grouper *g, uint64_t now)
{
    for (size_t i = 0; i < g->n;)
        if (step(g, i, now))
            i++;
    tick_flatlines(g, now);
}

static uint64_t group_deadline(const grouper *g, const group *grp)
{
    const rule_cfg *rc = rule_of(g, grp);
    if (grp->state == GROUP_WAITING)
        return grp->notify_at;
    uint64_t d = add_sat(grp->last_notified, repeat_of(g, rc));
    if (rc->kind == RULE_EVENT) {
        if (grp->count <= grp->notified_count)
            d = USEC_INFINITY;
        if (grp->close_at < d)
            d = grp->close_at;
    }
    if (grp->pending_at && grp->pending_at < d)
        d = grp->pending_at;
    return d;
}

uint64_t grouper_next_deadline(const grouper *g)
{
    uint64_t d = USEC_INFINITY;
    for (size_t i = 0; i < g->n; i++) {
        uint64_t x = group_deadline(g, g->v[i]);
        if (x < d)
            d = x;
    }
    for (size_t r = 0; r < g->c->nrules; r++) {
        if (g->c->rules[r].kind != RULE_FLATLINE)
            continue;
        for (size_t s = 0; s < g->c->nsources; s++) {
            uint64_t last = g->flat_last[r * g->c->nsources + s];
            if (!last || !flatline_applies(g, r, s))
                continue;
            if (!find_flat(g, r, s, NULL) && add_sat(last, g->c->rules[r].silence) < d)
                d = add_sat(last, g->c->rules[r].silence);
        }
    }
    return d;
}

void grouper_flush(grouper *g, uint64_t now)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i]->state == GROUP_WAITING)
            notify_firing(g, g->v[i], now, NULL);
}

size_t grouper_open_groups(const grouper *g)
{
    return g->n;
}

uint64_t grouper_open_count(const grouper *g)
{
    uint64_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!g->v[i]->flatline)
            n += g->v[i]->count;
    return n;
}

const grouper_stats *grouper_get_stats(const grouper *g)
{
    return &g->stats;
}

/* For grouper_state.c: direct access to the group list. */
group **grouper_groups(grouper *g, size_t *n);
void grouper_adopt(grouper *g, group *grp);
uint64_t *grouper_flat_last(grouper *g);
const pcmon_config *grouper_config(const grouper *g);
void grouper_drop_all(grouper *g);

void grouper_drop_all(grouper *g)
{
    while (g->n)
        remove_at(g, g->n - 1);
}

group **grouper_groups(grouper *g, size_t *n)
{
    *n = g->n;
    return g->v;
}

void grouper_adopt(grouper *g, group *grp)
{
    g->v = xgrow(g->v, &g->cap, g->n + 1, sizeof(group *));
    g->v[g->n++] = grp;
}

uint64_t *grouper_flat_last(grouper *g)
{
    return g->flat_last;
}

const pcmon_config *grouper_config(const grouper *g)
{
    return g->c;
}
