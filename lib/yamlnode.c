#include "yamlnode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "macro.h"
#include "util.h"

typedef struct builder {
    const char *text;
    size_t len;
    ynode *root;
    ynode *stack[YNODE_MAX_DEPTH];
    size_t depth;
    size_t nodes;
    int docs;
    ynode_error *err;
} builder;

ynode *ynode_free(ynode *n)
{
    if (!n)
        return NULL;
    for (size_t i = 0; i < n->n; i++)
        ynode_free(n->v[i]);
    free(n->v);
    free(n->s);
    free(n);
    return NULL;
}

bool ynode_is_null(const ynode *n)
{
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
    if (!n || n->type != YNODE_SCALAR || !n->plain)
        return false;
    for (size_t i = 0; i < ELEMENTSOF(nulls); i++)
        if (strcmp(n->s, nulls[i]) == 0)
            return true;
    return false;
}

const ynode *ynode_get(const ynode *map, const char *key)
{
    if (!map || map->type != YNODE_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (map->v[i]->type == YNODE_SCALAR && strcmp(map->v[i]->s, key) == 0)
            return map->v[i + 1];
    return NULL;
}

const char *ynode_type_name(const ynode *n)
{
    switch (n->type) {
    case YNODE_SEQ:
        return "a list";
    case YNODE_MAP:
        return "a mapping";
    default:
        return "a string";
    }
}

static int fail(builder *b, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(builder *b, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&b->err->msg, fmt, ap) < 0)
        b->err->msg = NULL;
    va_end(ap);
    if (!b->err->msg)
        b->err->msg = xstrdup("out of memory");
    b->err->line = line;
    b->err->col = col;
    return -EINVAL;
}

/* libyaml's reader errors carry a byte offset, not a mark: count lines up to it. */
static void offset_to_pos(const builder *b, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && i < b->len; i++) {
        if (b->text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)b->text[i] & 0xc0) != 0x80)
            c++;
    }
    *line = l;
    *col = c;
}

/* The byte at a 0-based line and column (counting bytes), or 0. */
static char char_at(const builder *b, size_t line, size_t col)
{
    size_t i = 0;
    for (; i < b->len && line > 0; i++)
        if (b->text[i] == '\n')
            line--;
    return i + col < b->len ? b->text[i + col] : 0;
}

static int parser_error(builder *b, const yaml_parser_t *p)
{
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "unknown error";
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return fail(b, 1, 1, "out of memory while parsing");
    case YAML_READER_ERROR:
        offset_to_pos(b, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return fail(b, line, col, "invalid input: %s (byte 0x%02x)", problem, (unsigned)p->problem_value & 0xff);
        return fail(b, line, col, "invalid input: %s", problem);
    default:
        if (char_at(b, p->problem_mark.line, p->problem_mark.column) == '\t')
            return fail(b, line, col, "syntax error: a tab character; YAML indents with spaces only");
        if (p->context)
            return fail(b, line, col, "syntax error: %s %s (line %zu column %zu)", problem, p->context,
                        p->context_mark.line + 1, p->context_mark.column + 1);
        return fail(b, line, col, "syntax error: %s", problem);
    }
}

static int add_node(builder *b, const yaml_event_t *ev, enum ynode_type type, ynode **out)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (++b->nodes > YNODE_MAX_NODES)
        return fail(b, line, col, "too many YAML nodes (more than %d)", YNODE_MAX_NODES);
    ynode *n = xcalloc(1, sizeof(ynode));
    n->type = type;
    n->line = line;
    n->col = col;
    if (b->depth == 0) {
        if (b->root) {
            ynode_free(n);
            return fail(b, line, col, "more than one YAML document");
        }
        b->root = n;
    } else {
        ynode *parent = b->stack[b->depth - 1];
        parent->v = xgrow(parent->v, &parent->cap, parent->n + 1, sizeof(ynode *));
        parent->v[parent->n++] = n;
    }
    *out = n;
    return 0;
}

static int open_container(builder *b, const yaml_event_t *ev, enum ynode_type type)
{
    ynode *n;
    if (b->depth >= YNODE_MAX_DEPTH)
        return fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "nesting deeper than %d levels", YNODE_MAX_DEPTH);
    int r = add_node(b, ev, type, &n);
    if (r < 0)
        return r;
    b->stack[b->depth++] = n;
    return 0;
}

static int add_scalar(builder *b, const yaml_event_t *ev)
{
    ynode *n;
    int r = add_node(b, ev, YNODE_SCALAR, &n);
    if (r < 0)
        return r;
    n->len = ev->data.scalar.length;
    n->s = xstrndup((const char *)ev->data.scalar.value, n->len);
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (strlen(n->s) != n->len)
        return fail(b, n->line, n->col, "NUL character in a value");
    return 0;
}

static const yaml_char_t *anchor_of(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT:
        return ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT:
        return ev->data.mapping_start.anchor;
    default:
        return NULL;
    }
}

/* Handles one event; returns 1 at the end of the stream, 0 to go on, -EINVAL on error. */
static int on_event(builder *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (ev->type == YAML_ALIAS_EVENT || anchor_of(ev))
        return fail(b, line, col, "YAML anchors and aliases (&name, *name) are not allowed");
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1)
            return fail(b, line, col, "more than one YAML document");
        return 0;
    case YAML_SCALAR_EVENT:
        return add_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return open_container(b, ev, YNODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return open_container(b, ev, YNODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        return 0;
    default:
        return 0;
    }
}

int ynode_parse(const char *text, size_t len, ynode **root, ynode_error *err)
{
    builder b = { .text = text, .len = len, .err = err };
    yaml_parser_t p;
    int r = 0;
    *root = NULL;
    *err = (ynode_error){ 0 };
    if (!yaml_parser_initialize(&p))
        return fail(&b, 1, 1, "out of memory while parsing");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (r == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            r = parser_error(&b, &p);
            break;
        }
        r = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (r < 0) {
        ynode_free(b.root);
        return r;
    }
    *root = b.root;
    return 0;
}

yshown yshow(const char *v)
{
    yshown o;
    size_t n = 0;
    const char *sep = strstr(v, "://");
    if (sep) {
        const char *scheme = sep;
        while (scheme > v && (scheme[-1] == '+' || scheme[-1] == '-' || scheme[-1] == '.' ||
                              (scheme[-1] >= 'a' && scheme[-1] <= 'z') || (scheme[-1] >= 'A' && scheme[-1] <= 'Z')))
            scheme--;
        const char *host = sep + 3, *end = host + strcspn(host, "/?#");
        const char *at = memrchr(host, '@', (size_t)(end - host));
        if (at)
            host = at + 1;
        snprintf(o.s, sizeof o.s, "\"%.*s://%.*s%s\"", (int)(sep - scheme > 16 ? 16 : sep - scheme), scheme,
                 (int)(end - host > 48 ? 48 : end - host), host, *end ? "/..." : "");
        return o;
    }
    const unsigned char *p = (const unsigned char *)v;
    o.s[n++] = '"';
    for (; *p && n < 64; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            n += (size_t)snprintf(o.s + n, sizeof o.s - n, *p == '"' || *p == '\\' ? "\\%c" : "\\x%02x", *p);
        else
            o.s[n++] = (char)*p;
    }
    snprintf(o.s + n, sizeof o.s - n, "%s\"", *p ? "..." : "");
    return o;
}

void ymap_error(ymap *x, const ynode *n, const char *fmt, ...)
{
    int line = n ? n->line : 1, col = n ? n->col : 1;
    if (x->nerr++ > YMAP_MAX_ERRORS)
        return;
    if (x->nerr > YMAP_MAX_ERRORS) {
        config_error_add(x->errs, x->file, line, col, "too many errors; stopping here");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    config_error_add(x->errs, x->file, line, col, "%s", msg);
}

static char *subpath(const char *path, const char *key)
{
    return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

bool ymap_need_scalar(ymap *x, const char *path, const ynode *v, const char *what)
{
    if (v->type == YNODE_SCALAR)
        return true;
    ymap_error(x, v, "%s: expected %s, got %s", path, what, ynode_type_name(v));
    return false;
}

void ykey_str(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    if (!ymap_need_scalar(x, path, v, "a string"))
        return;
    if (!*v->s && (k->flags & YK_NONEMPTY)) {
        ymap_error(x, v, "%s: must not be empty", path);
        return;
    }
    *(char **)(base + k->off) = xstrdup(v->s);
}

void ykey_abspath(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    if (!ymap_need_scalar(x, path, v, "an absolute path"))
        return;
    if (v->s[0] != '/') {
        ymap_error(x, v, "%s: expected an absolute path (starting with /), got %s", path, yshow(v->s).s);
        return;
    }
    *(char **)(base + k->off) = xstrdup(v->s);
}

const yname_rule yname_field = { "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", true,
                                 "a letter or _, then letters, digits and _" };

bool yname_ok(const char *s, const yname_rule *r)
{
    if (!*s || strspn(s, r->chars) != strlen(s))
        return false;
    return !r->letter_first || !(*s >= '0' && *s <= '9');
}

void ykey_name(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    const yname_rule *r = k->arg ? k->arg : &yname_field;
    if (!ymap_need_scalar(x, path, v, "a name"))
        return;
    if (!yname_ok(v->s, r)) {
        ymap_error(x, v, "%s: invalid name %s (use %s)", path, yshow(v->s).s, r->hint);
        return;
    }
    *(char **)(base + k->off) = xstrdup(v->s);
}

void ykey_duration(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    uint64_t d;
    if (!ymap_need_scalar(x, path, v, "a duration"))
        return;
    if (parse_duration(v->s, &d) < 0 || d == USEC_INFINITY) {
        ymap_error(x, v, "%s: expected a duration like 250ms, 10s, 15m, 4h or 1d, got %s", path, yshow(v->s).s);
        return;
    }
    if (d < k->min) {
        ymap_error(x, v, "%s: must be greater than 0, got %s", path, yshow(v->s).s);
        return;
    }
    *(uint64_t *)(base + k->off) = d;
}

/* Digits with, when units, an optional binary-unit suffix. Returns 0, -EINVAL or -ERANGE. */
static int parse_number(const char *s, bool units, uint64_t *out)
{
    static const struct { const char *suffix; uint64_t mult; } u[] = {
        { "", 1 }, { "B", 1 }, { "K", 1024 }, { "KiB", 1024 }, { "M", 1024 * 1024 }, { "MiB", 1024 * 1024 },
    };
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (p == s)
        return -EINVAL;
    for (size_t i = 0; i < (units ? ELEMENTSOF(u) : 1); i++)
        if (strcmp(p, u[i].suffix) == 0) {
            if (v > UINT64_MAX / u[i].mult)
                return -ERANGE;
            *out = v * u[i].mult;
            return 0;
        }
    return -EINVAL;
}

static bool number_in_range(ymap *x, const char *path, const ynode *v, const ykey *k, bool units, uint64_t *n)
{
    if (!ymap_need_scalar(x, path, v, "a number"))
        return false;
    int r = parse_number(v->s, units, n);
    if (r == -EINVAL) {
        ymap_error(x, v, "%s: expected %s, got %s", path,
                   units ? "a size in bytes (65536, 64KiB, 1MiB)" : "a whole number", yshow(v->s).s);
        return false;
    }
    if (r < 0 || *n < k->min || *n > k->max) {
        ymap_error(x, v, "%s: %s is out of range %llu..%llu", path, yshow(v->s).s, (unsigned long long)k->min,
                   (unsigned long long)k->max);
        return false;
    }
    return true;
}

void ykey_uint(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    uint64_t n;
    if (number_in_range(x, path, v, k, false, &n))
        *(unsigned *)(base + k->off) = (unsigned)n;
}

void ykey_size(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    uint64_t n;
    if (number_in_range(x, path, v, k, true, &n))
        *(size_t *)(base + k->off) = (size_t)n;
}

void ykey_bool(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    static const char *const yes[] = { "true", "True", "TRUE", "yes", "on" };
    static const char *const no[] = { "false", "False", "FALSE", "no", "off" };
    if (!ymap_need_scalar(x, path, v, "true or false"))
        return;
    for (size_t i = 0; i < ELEMENTSOF(yes); i++)
        if (strcmp(v->s, yes[i]) == 0 || strcmp(v->s, no[i]) == 0) {
            *(bool *)(base + k->off) = strcmp(v->s, yes[i]) == 0;
            return;
        }
    ymap_error(x, v, "%s: expected true or false, got %s", path, yshow(v->s).s);
}

void ykey_enum(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    const char *const *names = k->arg;
    if (!ymap_need_scalar(x, path, v, "a string"))
        return;
    for (int i = 0; names[i]; i++)
        if (strcmp(v->s, names[i]) == 0) {
            if (k->flags & YK_AS_STRING)
                *(char **)(base + k->off) = xstrdup(names[i]);
            else if (k->flags & YK_AS_BOOL)
                *(bool *)(base + k->off) = i == 1;
            else
                *(int *)(base + k->off) = i;
            return;
        }
    strbuf b = { 0 };
    for (int i = 0; names[i]; i++)
        strbuf_addf(&b, "%s%s", i ? ", " : "", names[i]);
    ymap_error(x, v, "%s: expected one of %s, got %s", path, b.s, yshow(v->s).s);
    strbuf_free(&b);
}

/* One string of a list: non-empty, and a field name when asked. */
static bool list_item_ok(ymap *x, const char *path, const ynode *v, unsigned flags)
{
    if (!ymap_need_scalar(x, path, v, "a string"))
        return false;
    if (!*v->s) {
        ymap_error(x, v, "%s: must not be empty", path);
        return false;
    }
    if ((flags & YK_FIELD) && !yname_ok(v->s, &yname_field)) {
        ymap_error(x, v, "%s: invalid field name %s (use %s)", path, yshow(v->s).s, yname_field.hint);
        return false;
    }
    return true;
}

/* A scalar or a list of scalars, into char ** at off and its count at noff. */
void ykey_strlist(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    char ***out = (char ***)(base + k->off);
    size_t *n = (size_t *)(base + k->noff);
    if (v->type == YNODE_MAP) {
        ymap_error(x, v, "%s: expected a string or a list of strings, got a mapping", path);
        return;
    }
    if (v->type == YNODE_SCALAR) {
        if (list_item_ok(x, path, v, k->flags)) {
            *out = xcalloc(1, sizeof(char *));
            (*out)[(*n)++] = xstrdup(v->s);
        }
        return;
    }
    if (v->n == 0 && (k->flags & YK_NONEMPTY)) {
        ymap_error(x, v, "%s: empty list (leave the key out to mean all)", path);
        return;
    }
    *out = xcalloc(v->n ? v->n : 1, sizeof(char *));
    for (size_t i = 0; i < v->n; i++) {
        _cleanup_free_ char *ip = xasprintf("%s[%zu]", path, i);
        if (list_item_ok(x, ip, v->v[i], k->flags))
            (*out)[(*n)++] = xstrdup(v->v[i]->s);
    }
}

static const ynode *earlier_key(const ynode *m, size_t i)
{
    for (size_t j = 0; j < i; j += 2)
        if (m->v[j]->type == YNODE_SCALAR && strcmp(m->v[j]->s, m->v[i]->s) == 0)
            return m->v[j];
    return NULL;
}

void ymap_each_pair(ymap *x, const char *path, const ynode *m, bool field_keys, void *ud,
                    void (*fn)(ymap *x, const char *path, const ynode *key, const ynode *val, void *ud))
{
    if (m->type != YNODE_MAP) {
        ymap_error(x, m, "%s: expected a mapping, got %s", path, ynode_type_name(m));
        return;
    }
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const ynode *key = m->v[i], *first;
        if (!ymap_need_scalar(x, path, key, "a string as key"))
            continue;
        _cleanup_free_ char *kp = subpath(path, key->s);
        if ((first = earlier_key(m, i)))
            ymap_error(x, key, "%s: duplicate key (first at line %d)", kp, first->line);
        else if (!*key->s || (field_keys && !yname_ok(key->s, &yname_field)))
            ymap_error(x, key, "%s: invalid field name %s (use %s)", path, yshow(key->s).s, yname_field.hint);
        else
            fn(x, kp, key, m->v[i + 1], ud);
    }
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[65];
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static void unknown_key(ymap *x, const char *path, const ynode *key, const ysection *sec)
{
    const char *best = NULL, *sep = *path ? ": " : "";
    size_t bd = 3;   /* suggest at edit distance 2 or less */
    for (size_t i = 0; i < sec->nkeys; i++) {
        size_t d = edit_distance(key->s, sec->keys[i].name);
        if (d < bd) {
            bd = d;
            best = sec->keys[i].name;
        }
    }
    if (best)
        ymap_error(x, key, "%s%sunknown key %s (did you mean \"%s\"?)", path, sep, yshow(key->s).s, best);
    else
        ymap_error(x, key, "%s%sunknown key %s", path, sep, yshow(key->s).s);
}

/* Sets every key that the mapping did not give (or gave as null) to its default. */
static void apply_defaults(ymap *x, const char *path, const ysection *sec, char *base, const yslot *seen)
{
    for (size_t i = 0; i < sec->nkeys; i++) {
        const ykey *k = &sec->keys[i];
        if (seen && seen[i].val && !ynode_is_null(seen[i].val))
            continue;
        if (k->conv == ykey_section)
            apply_defaults(x, path, k->arg, base + k->off, NULL);
        else if (k->flags & YK_INF)
            *(uint64_t *)(base + k->off) = USEC_INFINITY;
        else if (k->def) {
            ynode d = { .type = YNODE_SCALAR, .s = (char *)k->def, .len = strlen(k->def), .plain = true };
            k->conv(x, path, &d, base, k);
        }
    }
}

bool ymap_parse(ymap *x, const char *path, const ynode *m, const ysection *sec, char *base, yslot *seen)
{
    const char *where = *path ? path : "top level";
    if (m->type != YNODE_MAP) {
        ymap_error(x, m, "%s: expected a mapping, got %s", where, ynode_type_name(m));
        apply_defaults(x, path, sec, base, NULL);
        return false;
    }
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const ynode *key = m->v[i], *val = m->v[i + 1];
        size_t d = 0;
        if (!ymap_need_scalar(x, where, key, "a string as key"))
            continue;
        while (d < sec->nkeys && strcmp(sec->keys[d].name, key->s) != 0)
            d++;
        if (d == sec->nkeys) {
            unknown_key(x, path, key, sec);
            continue;
        }
        _cleanup_free_ char *kp = subpath(path, key->s);
        if (seen[d].key) {
            ymap_error(x, key, "%s: duplicate key (first at line %d)", kp, seen[d].key->line);
            continue;
        }
        seen[d] = (yslot){ key, val };
        if (!ynode_is_null(val))
            sec->keys[d].conv(x, kp, val, base, &sec->keys[d]);
        else if (sec->keys[d].flags & YK_REQUIRED)
            ymap_error(x, val, "%s: must not be empty", kp);
    }
    for (size_t i = 0; i < sec->nkeys; i++)
        if ((sec->keys[i].flags & YK_REQUIRED) && !seen[i].key)
            ymap_error(x, m, "%s: missing required key \"%s\"", where, sec->keys[i].name);
    apply_defaults(x, path, sec, base, seen);
    return true;
}

void ykey_section(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    const ysection *sec = k->arg;
    yslot seen[sec->nkeys];
    memset(seen, 0, sizeof seen);
    ymap_parse(x, path, v, sec, base + k->off, seen);
}

/* A list of mappings into an array at off, its count at noff. Items that are not mappings still
 * take their index, so indexes in messages and in the array match the file. */
void ykey_list(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    const ysection *sec = k->arg;
    char **arr = (char **)(base + k->off);
    size_t *n = (size_t *)(base + k->noff);
    if (v->type != YNODE_SEQ) {
        ymap_error(x, v, "%s: expected a list, got %s", path, ynode_type_name(v));
        return;
    }
    *arr = xcalloc(v->n ? v->n : 1, sec->size);
    for (size_t i = 0; i < v->n; i++) {
        _cleanup_free_ char *ip = xasprintf("%s[%zu]", path, i);
        yslot seen[sec->nkeys];
        memset(seen, 0, sizeof seen);
        *n = i + 1;
        if (ymap_parse(x, ip, v->v[i], sec, *arr + i * sec->size, seen) && sec->check)
            sec->check(x, ip, v->v[i], *arr, i, seen);
    }
}

void ymap_check_only(ymap *x, const char *path, const ysection *sec, const yslot *seen, unsigned bit,
                     const char *what, const char *const *names, int variant)
{
    for (size_t i = 0; i < sec->nkeys; i++) {
        const ykey *k = &sec->keys[i];
        if (!seen[i].val || ynode_is_null(seen[i].val) || !k->only || (k->only & bit))
            continue;
        strbuf b = { 0 };
        unsigned nb = 0, done = 0;
        for (int j = 0; names[j]; j++)
            nb += (k->only >> j) & 1;
        for (int j = 0; names[j]; j++)
            if ((k->only >> j) & 1) {
                done++;
                strbuf_addf(&b, "%s%s", done == 1 ? "" : done == nb ? " or " : ", ", names[j]);
            }
        ymap_error(x, seen[i].key, "%s.%s: only for %s %s, not %s %s", path, k->name, what, b.s, what,
                   names[variant]);
        strbuf_free(&b);
    }
}

const ynode *ymap_where(const ysection *sec, const yslot *seen, const char *key, const ynode *fallback)
{
    for (size_t i = 0; i < sec->nkeys; i++)
        if (strcmp(sec->keys[i].name, key) == 0 && seen[i].val)
            return seen[i].val;
    return fallback;
}
