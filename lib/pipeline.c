#include "pipeline.h"

#include <stdio.h>
#include <string.h>

#include "hostlist.h"
#include "macro.h"
#include "timeparse.h"
#include "util.h"

/* State rules one line can clear at once; more would be a config mistake. */
#define PIPELINE_CLEARS_MAX 8

struct pipeline {
    const pcmon_config *c;
    rules *r;
    grouper *g;
    uint64_t *last_ts;        /* per source */
    size_t **flatlines;       /* per source: flatline rule indexes, SIZE_MAX-terminated */
    uint64_t **told;          /* per source, per flatline: the clock of the last activity passed on */
    uint64_t min_silence;     /* shortest flatline silence: how soon activity can bring a deadline */
    uint64_t deadline;        /* a lower bound of grouper_next_deadline (pipeline_tick) */
    bool deadline_known;
    match m;
    match clears[PIPELINE_CLEARS_MAX];
    pipeline_match_fn match_fn;
    void *match_ud;
    pipeline_stats stats;
};

static void build_flatlines(pipeline *p)
{
    const pcmon_config *c = p->c;
    p->flatlines = xcalloc(c->nsources ? c->nsources : 1, sizeof(size_t *));
    p->told = xcalloc(c->nsources ? c->nsources : 1, sizeof(uint64_t *));
    for (size_t s = 0; s < c->nsources; s++) {
        size_t k = 0;
        p->flatlines[s] = xcalloc(c->nrules + 1, sizeof(size_t));
        p->told[s] = xcalloc(c->nrules + 1, sizeof(uint64_t));
        for (size_t i = 0; i < c->nrules; i++)
            if (c->rules[i].kind == RULE_FLATLINE && rules_applies(p->r, i, s)) {
                p->flatlines[s][k++] = i;
                if (c->rules[i].silence < p->min_silence)
                    p->min_silence = c->rules[i].silence;
            }
        p->flatlines[s][k] = SIZE_MAX;
    }
}

pipeline *pipeline_new(const pcmon_config *c, rules *r, grouper *g)
{
    pipeline *p = xcalloc(1, sizeof *p);
    p->c = c;
    p->r = r;
    p->g = g;
    p->last_ts = xcalloc(c->nsources ? c->nsources : 1, sizeof(uint64_t));
    p->min_silence = USEC_INFINITY;
    build_flatlines(p);
    return p;
}

pipeline *pipeline_free(pipeline *p)
{
    if (!p)
        return NULL;
    for (size_t s = 0; s < p->c->nsources; s++)
        free(p->flatlines[s]), free(p->told[s]);
    free(p->flatlines);
    free(p->told);
    free(p->last_ts);
    fields_free(&p->m.fields);
    for (size_t i = 0; i < PIPELINE_CLEARS_MAX; i++)
        fields_free(&p->clears[i].fields);
    free(p);
    return NULL;
}

void pipeline_set_match_fn(pipeline *p, pipeline_match_fn fn, void *userdata)
{
    p->match_fn = fn;
    p->match_ud = userdata;
}

/* JSON events carry "datetime" as their first key (json.dumps of an ordered dict). */
static size_t json_ts(const char *data, size_t len, uint64_t *ts)
{
    static const char key[] = "\"datetime\": \"";
    /* Where json.dumps puts it, else anywhere in the first 64 bytes. */
    const char *k = len > sizeof key && memcmp(data + 1, key, sizeof key - 1) == 0
                        ? data + 1 : memmem(data, len < 64 ? len : 64, key, sizeof key - 1);
    if (!k)
        return 0;
    size_t off = (size_t)(k - data) + sizeof key - 1;
    return ts_parse(data + off, len - off, ts);
}

uint64_t pipeline_timestamp(pipeline *p, size_t src, const char *data, size_t len)
{
    uint64_t ts = 0;
    if (src >= p->c->nsources)
        return 0;
    if (ts_parse(data, len, &ts) || (len && data[0] == '{' && json_ts(data, len, &ts))) {
        p->last_ts[src] = ts;
        return ts;
    }
    p->stats.untimed_lines++;
    return p->last_ts[src];
}

/* The end of the Python dict that starts at p[0] == '{' (quotes are not tracked: ParallelCluster's
 * fleet_config holds no braces inside strings). */
static const char *dict_end(const char *p)
{
    int depth = 0;
    for (; *p; p++)
        if (*p == '{')
            depth++;
        else if (*p == '}' && --depth == 0)
            return p + 1;
    return p;
}

static const char *dict_entry(const char *from, const char *to, const char *key)
{
    _cleanup_free_ char *needle = xasprintf("'%s': {", key);
    const char *hit = memmem(from, (size_t)(to - from), needle, strlen(needle));
    return hit ? hit + strlen(needle) - 1 : NULL;
}

/* instance_type and capacity_type of the failing compute resource, from the ResumeProgram's
 * fleet_config ({'queue': {'cr': {'CapacityType': 'spot', 'Instances': [{'InstanceType': ...}]}}})
 * that a context rule hands over: the EC2 error line itself often names neither. */
static void derive_fleet(fieldset *f)
{
    const char *fc = fields_get(f, "fleet_config"), *q = fields_get(f, "queue"), *cr = fields_get(f, "compute_resource");
    const char *qb = fc && q && cr ? dict_entry(fc, fc + strlen(fc), q) : NULL;
    const char *cb = qb ? dict_entry(qb, dict_end(qb), cr) : NULL;
    if (cb) {
        const char *end = dict_end(cb);
        strbuf types = {0};
        static const char it[] = "'InstanceType': '", ct[] = "'CapacityType': '";
        for (const char *x = cb; (x = memmem(x, (size_t)(end - x), it, sizeof it - 1)); ) {
            x += sizeof it - 1;
            const char *e = memchr(x, '\'', (size_t)(end - x));
            if (!e)
                break;
            if (types.len)
                strbuf_adds(&types, ", ");
            strbuf_add(&types, x, (size_t)(e - x));
        }
        if (types.len)
            fields_set_default(f, "instance_type", types.s);
        strbuf_free(&types);
        const char *c = memmem(cb, (size_t)(end - cb), ct, sizeof ct - 1);
        const char *e = c ? memchr(c + sizeof ct - 1, '\'', (size_t)(end - c - (sizeof ct - 1))) : NULL;
        if (e)
            fields_setn(f, "capacity_type", c + sizeof ct - 1, (size_t)(e - c - (sizeof ct - 1)));
    }
    fields_remove(f, "fleet_config");
}

/* queue and compute_resource from ParallelCluster node names, when the rule did not capture them. */
static void derive_fields(fieldset *f)
{
    const char *nodes = fields_get(f, "node");
    if (!nodes)
        nodes = fields_get(f, "nodes");
    if (!nodes || (fields_get(f, "queue") && fields_get(f, "compute_resource")))
        return;
    char **names = NULL;
    int n = nodes_parse(nodes, &names, 1);
    char *q = NULL, *cr = NULL;
    if (n > 0 && node_name_split(names[0], &q, &cr)) {
        fields_set_default(f, "queue", q);
        fields_set_default(f, "compute_resource", cr);
    }
    free(q);
    free(cr);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void derive_all(fieldset *f)
{
    derive_fields(f);
    if (fields_get(f, "fleet_config"))
        derive_fleet(f);
}

static void learn_cluster(pipeline *p, const fieldset *f)
{
    const char *cl = fields_get(f, "cluster");
    if (cl && cl[0] && (!p->c->cluster || !p->c->cluster[0]))
        grouper_set_context(p->g, cl, fields_get(f, "region"));
}

/* Activity can only bring the next deadline as close as now + silence (a flatline whose group
 * it resolved starts counting again); matches can bring it anywhere. */
static void deadline_lower(pipeline *p, uint64_t bound)
{
    if (bound < p->deadline)
        p->deadline = bound;
}

static void flatline_activity(pipeline *p, size_t src, const char *lineref, const char *data, size_t len,
                              uint64_t now)
{
    for (size_t k = 0; p->flatlines[src][k] != SIZE_MAX; k++) {
        size_t ri = p->flatlines[src][k];
        /* A second line at the same clock changes nothing: the first one already set the silence
         * clock and resolved an open flatline, and none can open again before now + silence. The
         * daemon hands a whole read at one clock, so this is one call per read, not per line. */
        if (p->told[src][k] == now && now && p->c->rules[ri].silence > 0)
            continue;
        if (rules_flatline_activity(p->r, ri, data, len)) {
            grouper_activity(p->g, ri, src, lineref, now);
            p->told[src][k] = now;
            deadline_lower(p, now + p->min_silence < now ? USEC_INFINITY : now + p->min_silence);
        }
    }
}

static void classified(pipeline *p, match *m, size_t src, const char *lineref, uint64_t ts, uint64_t now)
{
    learn_cluster(p, &m->fields);
    if (p->match_fn)
        p->match_fn(p->match_ud, m->rule, m->what, lineref);
    if (m->what == MATCH_IGNORE || m->what == MATCH_CONTEXT)
        return;
    derive_all(&m->fields);
    grouper_match(p->g, m->rule, m->what, &m->fields, lineref, ts ? ts : now, now);
    p->deadline_known = false;
}

/* "path:lineno" as snprintf would print it into buf[cap], without its format parsing: this runs
 * for every line that reaches the grouper (flatline activity is most of them). */
static const char *format_lineref(char *buf, size_t cap, const char *path, uint64_t lineno)
{
    char digits[24];
    size_t nd = 0, n = strlen(path);
    do
        digits[nd++] = (char)('0' + lineno % 10);
    while ((lineno /= 10) > 0);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(buf, path, n);
    if (n < cap - 1)
        buf[n++] = ':';
    while (nd > 0 && n < cap - 1)
        buf[n++] = digits[--nd];
    buf[n] = 0;
    return buf;
}

void pipeline_line(pipeline *p, size_t src, const char *path, uint64_t lineno, const char *data, size_t len,
                   bool cut, uint64_t ts, uint64_t now)
{
    char lineref[4096];
    if (src >= p->c->nsources)
        return;
    p->stats.lines++;
    if (cut)
        p->stats.cut_lines++;
    /* The rules only read the line: evaluating them first keeps the grouper's order (activity,
     * then matches) and lets most lines skip making their reference. */
    size_t n;
    enum match_what w = rules_eval_line(p->r, src, data, len, ts, &p->m, p->clears, PIPELINE_CLEARS_MAX, &n);
    if (p->flatlines[src][0] == SIZE_MAX && w == MATCH_NONE && n == 0)
        return;
    format_lineref(lineref, sizeof lineref, path, lineno);
    if (p->flatlines[src][0] != SIZE_MAX)
        flatline_activity(p, src, lineref, data, len, now);
    if (w != MATCH_NONE)
        classified(p, &p->m, src, lineref, ts, now);
    for (size_t i = 0; i < n; i++)
        classified(p, &p->clears[i], src, lineref, ts, now);
}

void pipeline_tick(pipeline *p, uint64_t now)
{
    if (p->deadline_known && p->deadline > now)
        return;
    p->deadline = grouper_next_deadline(p->g);
    if (p->deadline <= now) {
        grouper_tick(p->g, now);
        p->deadline = grouper_next_deadline(p->g);
    }
    p->deadline_known = true;
}

const pipeline_stats *pipeline_get_stats(const pipeline *p)
{
    return &p->stats;
}
