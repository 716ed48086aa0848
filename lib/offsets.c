#include "offsets.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "util.h"

/* json-c < 0.14 (EL8 ships 0.13.1) has no uint64 API. Device and inode numbers, offsets and line
 * counts stay below 2^63 on Linux, so there they are stored as int64 (the file reads the same). */
#if JSON_C_VERSION_NUM < (14 << 8)
#define json_object_new_uint64(v) json_object_new_int64((int64_t)(v))
#define json_object_get_uint64(o) ((uint64_t)json_object_get_int64(o))
#endif

/* The state is small (a few entries per source); a bigger file is not ours. */
#define OFFSETS_FILE_MAX (4 * 1024 * 1024)
#define OFFSETS_VERSION 1

uint64_t offsets_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static json_object *gen_to_json(const offset_gen *g)
{
    char hash[17];
    snprintf(hash, sizeof hash, "%016" PRIx64, g->head_hash);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "dev", json_object_new_uint64(g->dev));
    json_object_object_add(o, "ino", json_object_new_uint64(g->ino));
    json_object_object_add(o, "offset", json_object_new_uint64(g->offset));
    json_object_object_add(o, "lineno", json_object_new_uint64(g->lineno));
    json_object_object_add(o, "head_len", json_object_new_uint64(g->head_len));
    json_object_object_add(o, "head_hash", json_object_new_string(hash));
    json_object_object_add(o, "btime", json_object_new_uint64(g->btime));
    if (g->skip)
        json_object_object_add(o, "skip", json_object_new_boolean(1));
    return o;
}

char *offsets_to_json(const offset_table *t)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "version", json_object_new_int(OFFSETS_VERSION));
    json_object *srcs = json_object_new_object();
    for (size_t i = 0; i < t->n; i++) {
        const offset_entry *e = &t->v[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(e->path));
        if (e->has_cur)
            json_object_object_add(o, "file", gen_to_json(&e->cur));
        if (e->ndrain) {
            json_object *a = json_object_new_array();
            for (size_t k = 0; k < e->ndrain; k++)
                json_object_array_add(a, gen_to_json(&e->drain[k]));
            json_object_object_add(o, "draining", a);
        }
        if (e->nseen) {
            json_object *a = json_object_new_array();
            for (size_t k = 0; k < e->nseen; k++) {
                json_object *id = json_object_new_array();
                json_object_array_add(id, json_object_new_uint64(e->seen[k].dev));
                json_object_array_add(id, json_object_new_uint64(e->seen[k].ino));
                json_object_array_add(id, json_object_new_uint64(e->seen[k].btime));
                json_object_array_add(a, id);
            }
            json_object_object_add(o, "siblings", a);
        }
        if (e->horizon)
            json_object_object_add(o, "siblings_horizon", json_object_new_uint64(e->horizon));
        json_object_object_add(srcs, e->name, o);
    }
    json_object_object_add(root, "sources", srcs);
    char *s = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return s;
}

static int get_u64(json_object *o, const char *key, uint64_t *v)
{
    json_object *x;
    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
        return -EINVAL;
    errno = 0;
    *v = json_object_get_uint64(x);
    return errno ? -EINVAL : 0;
}

static int gen_from_json(json_object *o, offset_gen *g)
{
    json_object *x;
    uint64_t hl;
    if (!json_object_is_type(o, json_type_object) || get_u64(o, "dev", &g->dev) < 0 ||
        get_u64(o, "ino", &g->ino) < 0 || get_u64(o, "offset", &g->offset) < 0 ||
        get_u64(o, "lineno", &g->lineno) < 0 || get_u64(o, "head_len", &hl) < 0 || hl > OFFSETS_HEAD_MAX ||
        get_u64(o, "btime", &g->btime) < 0)
        return -EINVAL;
    g->head_len = (uint32_t)hl;
    if (!json_object_object_get_ex(o, "head_hash", &x) || !json_object_is_type(x, json_type_string))
        return -EINVAL;
    const char *h = json_object_get_string(x);
    char *end;
    errno = 0;
    g->head_hash = strtoull(h, &end, 16);
    if (errno || end == h || *end || strlen(h) != 16)
        return -EINVAL;
    g->skip = json_object_object_get_ex(o, "skip", &x) && json_object_get_boolean(x);
    return 0;
}

static int entry_from_json(offset_table *t, const char *name, json_object *o)
{
    json_object *x;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "path", &x) ||
        !json_object_is_type(x, json_type_string) || offsets_find(t, name))
        return -EINVAL;
    offset_entry *e = offsets_add(t, name, json_object_get_string(x));
    if (json_object_object_get_ex(o, "file", &x)) {
        if (gen_from_json(x, &e->cur) < 0)
            return -EINVAL;
        e->has_cur = true;
    }
    if (json_object_object_get_ex(o, "draining", &x)) {
        if (!json_object_is_type(x, json_type_array))
            return -EINVAL;
        for (size_t k = 0; k < json_object_array_length(x); k++) {
            offset_gen g = {0};
            if (gen_from_json(json_object_array_get_idx(x, k), &g) < 0)
                return -EINVAL;
            offsets_add_drain(e, &g);
        }
    }
    if (json_object_object_get_ex(o, "siblings", &x)) {
        if (!json_object_is_type(x, json_type_array))
            return -EINVAL;
        for (size_t k = 0; k < json_object_array_length(x); k++) {
            json_object *id = json_object_array_get_idx(x, k);
            if (!json_object_is_type(id, json_type_array) || json_object_array_length(id) != 3)
                return -EINVAL;
            offset_id v = { json_object_get_uint64(json_object_array_get_idx(id, 0)),
                            json_object_get_uint64(json_object_array_get_idx(id, 1)),
                            json_object_get_uint64(json_object_array_get_idx(id, 2)) };
            offsets_add_seen(e, &v);
        }
    }
    if (json_object_object_get_ex(o, "siblings_horizon", &x) && get_u64(o, "siblings_horizon", &e->horizon) < 0)
        return -EINVAL;
    return 0;
}

int offsets_from_json(const char *s, size_t len, offset_table *t)
{
    json_tokener *tok = json_tokener_new();
    json_object *root = json_tokener_parse_ex(tok, s, (int)len);
    bool complete = json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    json_object *v, *srcs;
    int r = -EINVAL;
    if (complete && root && json_object_is_type(root, json_type_object) &&
        json_object_object_get_ex(root, "version", &v) && json_object_get_int(v) == OFFSETS_VERSION &&
        json_object_object_get_ex(root, "sources", &srcs) && json_object_is_type(srcs, json_type_object)) {
        r = 0;
        json_object_object_foreach(srcs, name, o)
        {
            if (r == 0)
                r = entry_from_json(t, name, o);
        }
    }
    json_object_put(root);
    if (r < 0)
        offsets_clear(t);
    return r;
}

int offsets_load(const char *path, offset_table *t)
{
    _cleanup_free_ char *s = NULL;
    size_t len;
    int r = read_file(path, OFFSETS_FILE_MAX, &s, &len);
    if (r < 0)
        return r == -EFBIG ? -EINVAL : r;
    return offsets_from_json(s, len, t);
}

int offsets_save(const char *path, const offset_table *t)
{
    _cleanup_free_ char *s = offsets_to_json(t);
    return write_file_atomic(path, s, strlen(s), 0640);
}

offset_entry *offsets_add(offset_table *t, const char *name, const char *path)
{
    t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof *t->v);
    offset_entry *e = &t->v[t->n++];
    *e = (offset_entry){ .name = xstrdup(name), .path = xstrdup(path) };
    return e;
}

void offsets_add_drain(offset_entry *e, const offset_gen *g)
{
    e->drain = xrealloc(e->drain, (e->ndrain + 1) * sizeof *e->drain);
    e->drain[e->ndrain++] = *g;
}

void offsets_add_seen(offset_entry *e, const offset_id *id)
{
    e->seen = xrealloc(e->seen, (e->nseen + 1) * sizeof *e->seen);
    e->seen[e->nseen++] = *id;
}

const offset_entry *offsets_find(const offset_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (str_eq(t->v[i].name, name))
            return &t->v[i];
    return NULL;
}

void offsets_clear(offset_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].path);
        free(t->v[i].drain);
        free(t->v[i].seen);
    }
    free(t->v);
    *t = (offset_table){0};
}
