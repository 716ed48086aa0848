/* Saving and restoring the grouper's open groups, so a restart in the middle of an incident does
 * not page again (reliability.md T22). JSON through json-c; a file that does not parse changes
 * nothing. Rules are referred to by id, so a reordered or edited config keeps what still exists. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "group.h"
#include "grouper.h"
#include "macro.h"
#include "util.h"

group **grouper_groups(grouper *g, size_t *n);
void grouper_adopt(grouper *g, group *grp);
uint64_t *grouper_flat_last(grouper *g);
const pcmon_config *grouper_config(const grouper *g);
void grouper_drop_all(grouper *g);

#define STATE_VERSION 1

static json_object *strings_json(char *const *v, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(v[i]));
    return a;
}

static json_object *fields_json(const fieldset *f)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < f->n; i++)
        json_object_object_add(o, f->v[i].name, json_object_new_string(f->v[i].value));
    return o;
}

static json_object *vals_json(const group *grp)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < grp->nvals; i++)
        json_object_object_add(o, grp->vals[i].name, strings_json(grp->vals[i].values, grp->vals[i].n));
    return o;
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
    json_object_object_add(o, k, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

static json_object *group_json(const pcmon_config *c, const group *grp)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rule", json_object_new_string(c->rules[grp->rule].id));
    json_object_object_add(o, "key", json_object_new_string(grp->key));
    json_object_object_add(o, "labels", fields_json(&grp->labels));
    json_object_object_add(o, "values", vals_json(grp));
    json_object_object_add(o, "nodes", strings_json(grp->nodes, grp->nnodes));
    json_object_object_add(o, "lines", strings_json(grp->lines, grp->nlines));
    json_object_object_add(o, "firing", json_object_new_boolean(grp->state == GROUP_FIRING));
    json_object_object_add(o, "flatline", json_object_new_boolean(grp->flatline));
    if (grp->resolve_value)
        json_object_object_add(o, "resolve_value", json_object_new_string(grp->resolve_value));
    add_u64(o, "count", grp->count);
    add_u64(o, "first_seen", grp->first_seen);
    add_u64(o, "last_seen", grp->last_seen);
    add_u64(o, "notify_at", grp->notify_at);
    add_u64(o, "close_at", grp->close_at);
    add_u64(o, "last_notified", grp->last_notified);
    add_u64(o, "notified_count", grp->notified_count);
    add_u64(o, "pending_at", grp->pending_at);
    add_u64(o, "src", grp->src);
    return o;
}

char *grouper_save(const grouper *g)
{
    size_t n;
    group **v = grouper_groups((grouper *)g, &n);
    const pcmon_config *c = grouper_config(g);
    json_object *root = json_object_new_object(), *groups = json_object_new_array();
    json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
    for (size_t i = 0; i < n; i++)
        json_object_array_add(groups, group_json(c, v[i]));
    json_object_object_add(root, "groups", groups);
    char *s = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return s;
}

static uint64_t get_u64(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    int64_t x = json_object_get_int64(v);
    return x < 0 ? 0 : (uint64_t)x;
}

static const char *get_str(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool get_bool(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static size_t rule_index(const pcmon_config *c, const char *id)
{
    for (size_t i = 0; id && i < c->nrules; i++)
        if (str_eq(c->rules[i].id, id))
            return i;
    return SIZE_MAX;
}

/* Calls fn for each string of array a. */
static void each_string(json_object *a, void (*fn)(group *, const char *, const char *), group *grp,
                        const char *name)
{
    if (!a || !json_object_is_type(a, json_type_array))
        return;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *s = json_object_array_get_idx(a, i);
        if (json_object_is_type(s, json_type_string))
            fn(grp, name, json_object_get_string(s));
    }
}

static void add_value(group *grp, const char *name, const char *v)
{
    group_add_value(grp, name, v);
}

static void add_node(group *grp, const char *name, const char *v)
{
    group_add_node(grp, v);
}

static void add_line(group *grp, const char *name, const char *v)
{
    grp->lines = xrealloc(grp->lines, (grp->nlines + 1) * sizeof(char *));
    grp->lines[grp->nlines++] = xstrdup(v);
}

static group *group_from_json(const pcmon_config *c, json_object *o)
{
    size_t r = rule_index(c, get_str(o, "rule"));
    const char *key = get_str(o, "key");
    json_object *x;
    if (r == SIZE_MAX || !key)
        return NULL;
    group *grp = group_new(r, key);
    if (json_object_object_get_ex(o, "labels", &x) && json_object_is_type(x, json_type_object)) {
        json_object_object_foreach(x, k, v) {
            if (json_object_is_type(v, json_type_string))
                fields_set(&grp->labels, k, json_object_get_string(v));
        }
    }
    if (json_object_object_get_ex(o, "values", &x) && json_object_is_type(x, json_type_object)) {
        json_object_object_foreach(x, k2, v2) {
            each_string(v2, add_value, grp, k2);
        }
    }
    if (json_object_object_get_ex(o, "nodes", &x))
        each_string(x, add_node, grp, NULL);
    if (json_object_object_get_ex(o, "lines", &x))
        each_string(x, add_line, grp, NULL);
    grp->state = get_bool(o, "firing") ? GROUP_FIRING : GROUP_WAITING;
    grp->flatline = get_bool(o, "flatline");
    if (get_str(o, "resolve_value"))
        grp->resolve_value = xstrdup(get_str(o, "resolve_value"));
    grp->count = get_u64(o, "count");
    grp->first_seen = get_u64(o, "first_seen");
    grp->last_seen = get_u64(o, "last_seen");
    grp->notify_at = get_u64(o, "notify_at");
    grp->close_at = get_u64(o, "close_at");
    grp->last_notified = get_u64(o, "last_notified");
    grp->notified_count = get_u64(o, "notified_count");
    grp->pending_at = get_u64(o, "pending_at");
    grp->src = get_u64(o, "src");
    if (grp->src >= c->nsources)
        grp->src = 0;
    return grp;
}

int grouper_restore(grouper *g, const char *json, size_t len)
{
    const pcmon_config *c = grouper_config(g);
    json_tokener *tok = json_tokener_new();
    json_object *root = json_tokener_parse_ex(tok, json, (int)(len > INT32_MAX ? INT32_MAX : len));
    json_tokener_free(tok);
    json_object *groups, *ver;
    if (!root || !json_object_object_get_ex(root, "groups", &groups) ||
        !json_object_is_type(groups, json_type_array) || !json_object_object_get_ex(root, "version", &ver) ||
        json_object_get_int(ver) != STATE_VERSION) {
        json_object_put(root);
        return -EINVAL;
    }
    grouper_drop_all(g);
    for (size_t i = 0; i < json_object_array_length(groups); i++) {
        group *grp = group_from_json(c, json_object_array_get_idx(groups, i));
        if (grp)
            grouper_adopt(g, grp);
    }
    json_object_put(root);
    return 0;
}
