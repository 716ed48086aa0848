#include "context.h"

#include <string.h>

#include "macro.h"
#include "util.h"

/* Enough for every resume process alive at once on a large cluster (each lives seconds). */
#define CONTEXT_MAX 256
#define CONTEXT_TTL_DEFAULT (120 * USEC_PER_SEC)

typedef struct entry {
    bool used;
    size_t src, rule;
    char *key;
    uint32_t hash;   /* of key: most entries share src and rule, so this is what tells them apart */
    fieldset f;
    uint64_t ts;
} entry;

struct context_table {
    entry v[CONTEXT_MAX];
};

context_table *context_table_new(void)
{
    return xcalloc(1, sizeof(context_table));
}

static void entry_clear(entry *e)
{
    free(e->key);
    fields_free(&e->f);
    memset(e, 0, sizeof *e);
}

void context_table_clear(context_table *t)
{
    for (size_t i = 0; i < CONTEXT_MAX; i++)
        entry_clear(&t->v[i]);
}

void context_table_free(context_table *t)
{
    if (!t)
        return;
    context_table_clear(t);
    free(t);
}

/* The entry for (src, rule, key), else a free one, else the oldest (evicted): one pass, as this
 * runs for every context line (a busy resume log has one per launch). */
static uint32_t hash_key(const char *s)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static entry *slot_for(context_table *t, size_t src, size_t rule, const char *key, uint32_t hash)
{
    entry *free_slot = NULL, *victim = NULL;
    for (size_t i = 0; i < CONTEXT_MAX; i++) {
        entry *e = &t->v[i];
        if (!e->used) {
            free_slot = free_slot ? free_slot : e;
            continue;
        }
        if (e->hash == hash && e->src == src && e->rule == rule && str_eq(e->key, key))
            return e;
        if (!victim || e->ts < victim->ts)
            victim = e;
    }
    if (free_slot)
        return free_slot;
    entry_clear(victim);
    return victim;
}

void context_put(context_table *t, size_t src, size_t rule, const char *key_field, const fieldset *f, uint64_t ts)
{
    const char *key = key_field ? fields_get(f, key_field) : NULL;
    uint32_t hash = hash_key(key ? key : "");
    entry *e = slot_for(t, src, rule, key ? key : "", hash);
    if (!e->used) {
        e->used = true;
        e->src = src;
        e->rule = rule;
        e->key = xstrdup(key ? key : "");
        e->hash = hash;
    }
    fields_clear(&e->f);
    fields_copy(&e->f, f);
    e->ts = ts;
}

static bool meant_for(const rule_cfg *ctx, const rule_cfg *target)
{
    if (ctx->ncontext_for == 0)
        return true;
    for (size_t i = 0; i < ctx->ncontext_for; i++)
        if (str_eq(ctx->context_for[i], target->id))
            return true;
    return false;
}

void context_apply(context_table *t, const pcmon_config *c, size_t src, size_t rule, fieldset *f, uint64_t ts)
{
    for (size_t i = 0; i < CONTEXT_MAX; i++) {
        entry *e = &t->v[i];
        if (!e->used || e->src != src)
            continue;
        const rule_cfg *rc = &c->rules[e->rule];
        uint64_t ttl = rc->context_ttl && rc->context_ttl != USEC_INFINITY ? rc->context_ttl : CONTEXT_TTL_DEFAULT;
        if (ts > e->ts && ts - e->ts > ttl) {
            entry_clear(e);
            continue;
        }
        const char *want = rc->context_key ? fields_get(f, rc->context_key) : NULL;
        if (!str_eq(e->key, want ? want : "") || !meant_for(rc, &c->rules[rule]))
            continue;
        for (size_t k = 0; k < e->f.n; k++)
            fields_set_default(f, e->f.v[k].name, e->f.v[k].value);
    }
}
