#include "group.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostlist.h"
#include "macro.h"
#include "template.h"
#include "timeparse.h"
#include "util.h"

/* Rendered title and text are bounded: Slack's header allows 150 chars, a section 3000. */
#define TITLE_MAX 150
#define TEXT_MAX 2800

/* Fields that are plumbing, not facts for a human. */
static bool hidden_field(const char *name)
{
    return str_eq(name, "pid") || str_eq(name, "node") || str_eq(name, "nodes") || str_eq(name, "node_count");
}

group *group_new(size_t rule, const char *key)
{
    group *grp = xcalloc(1, sizeof *grp);
    grp->rule = rule;
    grp->key = xstrdup(key);
    return grp;
}

void group_free(group *grp)
{
    if (!grp)
        return;
    free(grp->key);
    fields_free(&grp->labels);
    for (size_t i = 0; i < grp->nvals; i++) {
        free(grp->vals[i].name);
        for (size_t k = 0; k < grp->vals[i].n; k++)
            free(grp->vals[i].values[k]);
    }
    free(grp->vals);
    for (size_t i = 0; i < grp->nnodes; i++)
        free(grp->nodes[i]);
    free(grp->nodes);
    for (size_t i = 0; i < grp->nlines; i++)
        free(grp->lines[i]);
    free(grp->lines);
    free(grp->resolve_value);
    free(grp);
}

static valset *valset_for(group *grp, const char *name)
{
    for (size_t i = 0; i < grp->nvals; i++)
        if (str_eq(grp->vals[i].name, name))
            return &grp->vals[i];
    grp->vals = xrealloc(grp->vals, (grp->nvals + 1) * sizeof(valset));
    valset *v = &grp->vals[grp->nvals++];
    memset(v, 0, sizeof *v);
    v->name = xstrdup(name);
    return v;
}

void group_add_value(group *grp, const char *name, const char *value)
{
    valset *v = valset_for(grp, name);
    for (size_t i = 0; i < v->n; i++)
        if (str_eq(v->values[i], value))
            return;
    if (v->n < GROUP_VALUES_MAX)
        v->values[v->n++] = xstrdup(value);
    else
        v->more++;
}

void group_add_node(group *grp, const char *name)
{
    size_t lo = 0, hi = grp->nnodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(grp->nodes[mid], name);
        if (c == 0)
            return;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (grp->nnodes >= GROUP_NODES_MAX) {
        grp->nodes_more++;
        return;
    }
    grp->nodes = xgrow(grp->nodes, &grp->nodes_cap, grp->nnodes + 1, sizeof(char *));
    memmove(&grp->nodes[lo + 1], &grp->nodes[lo], (grp->nnodes - lo) * sizeof(char *));
    grp->nodes[lo] = xstrdup(name);
    grp->nnodes++;
}

static void add_nodes_from(group *grp, const char *text)
{
    char **names = NULL;
    int n = nodes_parse(text, &names, GROUP_NODES_MAX);
    for (int i = 0; i < n; i++) {
        group_add_node(grp, names[i]);
        free(names[i]);
    }
    free(names);
}

bool group_add(group *grp, const fieldset *f, const char *lineref, uint64_t ts, unsigned max_lines)
{
    for (size_t i = 0; i < f->n; i++) {
        const field *x = &f->v[i];
        if (str_eq(x->name, "node") || str_eq(x->name, "nodes"))
            add_nodes_from(grp, x->value);
        else if (!hidden_field(x->name) && x->value[0])
            group_add_value(grp, x->name, x->value);
        else if (str_eq(x->name, "node_count"))
            group_add_value(grp, "reported_node_count", x->value);
    }
    if (!grp->first_seen || (ts && ts < grp->first_seen))
        grp->first_seen = ts;
    if (ts > grp->last_seen)
        grp->last_seen = ts;
    grp->count++;
    if (!lineref)
        return true;
    if (grp->nlines >= max_lines)
        return false;
    grp->lines = xrealloc(grp->lines, (grp->nlines + 1) * sizeof(char *));
    grp->lines[grp->nlines++] = xstrdup(lineref);
    return true;
}

char *group_key_for(const pcmon_config *c, size_t r, const fieldset *f, fieldset *labels)
{
    const rule_cfg *rc = &c->rules[r];
    strbuf key = {0};
    strbuf_adds(&key, rc->id);
    for (size_t i = 0; i < rc->ngroup_by; i++) {
        const char *v = fields_get(f, rc->group_by[i]);
        strbuf_addc(&key, '\x1f');
        strbuf_adds(&key, v ? v : "");
        if (labels)
            fields_set(labels, rc->group_by[i], v ? v : "");
    }
    return strbuf_take(&key);
}

static void join_values(const valset *v, strbuf *out)
{
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            strbuf_adds(out, ", ");
        strbuf_adds(out, v->values[i]);
    }
    if (v->more)
        strbuf_addf(out, " (+%llu more)", (unsigned long long)v->more);
}

static void build_fields(const group *grp, fieldset *out)
{
    for (size_t i = 0; i < grp->nvals; i++) {
        if (fields_get(&grp->labels, grp->vals[i].name) && grp->vals[i].n == 1 && !grp->vals[i].more)
            continue;   /* already a label */
        strbuf b = {0};
        join_values(&grp->vals[i], &b);
        fields_set(out, grp->vals[i].name, b.s ? b.s : "");
        strbuf_free(&b);
    }
    if (grp->nnodes == 0)
        return;
    _cleanup_free_ char *hl = hostlist_compress(grp->nodes, grp->nnodes);
    char n[32];
    snprintf(n, sizeof n, "%llu", (unsigned long long)(grp->nnodes + grp->nodes_more));
    fields_set(out, "nodes", hl);
    fields_set(out, "node_count", n);
    if (grp->nnodes == 1)
        fields_set(out, "node", grp->nodes[0]);
}

static void builtin_fields(const group *grp, const pcmon_config *c, fieldset *g)
{
    char buf[64];
    const rule_cfg *rc = &c->rules[grp->rule];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)grp->count);
    fields_set(g, "count", buf);
    fields_set(g, "rule", rc->id);
    fields_set(g, "severity", rc->severity ? rc->severity : "warning");
    fields_set(g, "first_seen", ts_format(grp->first_seen, buf, sizeof buf));
    fields_set(g, "last_seen", ts_format(grp->last_seen, buf, sizeof buf));
    fields_set(g, "cluster", c->cluster && c->cluster[0] ? c->cluster : "the cluster");
    if (rc->kind == RULE_FLATLINE)
        fields_set(g, "silence", format_duration(rc->silence, buf, sizeof buf));
}

static char *default_title(const group *grp, const pcmon_config *c)
{
    strbuf b = {0};
    strbuf_adds(&b, c->rules[grp->rule].id);
    for (size_t i = 0; i < grp->labels.n; i++)
        if (!str_eq(grp->labels.v[i].name, "cluster") && grp->labels.v[i].value[0])
            strbuf_addf(&b, " %s", grp->labels.v[i].value);
    return strbuf_take(&b);
}

static char *default_text(const fieldset *fields)
{
    strbuf b = {0};
    for (size_t i = 0; i < fields->n; i++)
        strbuf_addf(&b, "%s%s: %s", i ? "\n" : "", fields->v[i].name, fields->v[i].value);
    return strbuf_take(&b);
}

/* A clear says when and after how long; the facts stay in the fields. */
static char *resolved_text(const group *grp)
{
    char at[40], dur[32];
    uint64_t d = grp->last_seen > grp->first_seen ? grp->last_seen - grp->first_seen : 0;
    return xasprintf("Cleared at %s, %s after it began (%s).", ts_format(grp->last_seen, at, sizeof at),
                     format_duration(d, dur, sizeof dur), grp->nlines ? grp->lines[grp->nlines - 1] : "no line");
}

static void render(const group *grp, const pcmon_config *c, alert *a, const char *note)
{
    const rule_cfg *rc = &c->rules[grp->rule];
    fieldset f = {0}, g = {0};
    fields_copy(&f, &a->labels);
    fields_copy(&f, &a->fields);
    builtin_fields(grp, c, &g);
    char *title = rc->title ? template_render(rc->title, &f, &g, TITLE_MAX) : default_title(grp, c);
    char *text = a->resolved ? resolved_text(grp) : rc->text ? template_render(rc->text, &f, &g, TEXT_MAX)
                                                             : default_text(&a->fields);
    if (note) {
        a->title = xasprintf("%s: %s", note, title);
        free(title);
    } else
        a->title = title;
    a->text = text;
    fields_free(&f);
    fields_free(&g);
}

void group_build_alert(const group *grp, const pcmon_config *c, bool resolved, const fieldset *extra,
                       const char *note, alert *a)
{
    const rule_cfg *rc = &c->rules[grp->rule];
    memset(a, 0, sizeof *a);
    a->rule = xstrdup(rc->id);
    a->resolved = resolved;
    a->severity = xstrdup(resolved ? "info" : rc->severity ? rc->severity : "warning");
    a->count = grp->count;
    a->first_seen = grp->first_seen;
    a->last_seen = grp->last_seen;
    fields_copy(&a->labels, &grp->labels);
    build_fields(grp, &a->fields);
    a->nlines = grp->nlines;
    a->lines = xcalloc(grp->nlines ? grp->nlines : 1, sizeof(char *));
    for (size_t i = 0; i < grp->nlines; i++)
        a->lines[i] = xstrdup(grp->lines[i]);
    a->nnotify = rc->nnotify;
    a->notify = xcalloc(rc->nnotify ? rc->nnotify : 1, sizeof(char *));
    for (size_t i = 0; i < rc->nnotify; i++)
        a->notify[i] = xstrdup(rc->notify[i]);
    a->group_key = xstrdup(grp->key);
    render(grp, c, a, resolved && !note ? "Resolved" : note);
    /* The clearing line's facts (e.g. STARTING -> RUNNING) join after rendering, so the title still
     * names what was wrong. */
    if (extra)
        for (size_t i = 0; i < extra->n; i++)
            if (!hidden_field(extra->v[i].name))
                fields_set(&a->fields, extra->v[i].name, extra->v[i].value);
}
