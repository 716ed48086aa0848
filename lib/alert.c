/* The alert object: JSON (design.md, "The alert object") through json-c only, and a terminal
 * rendering. Every string is made valid UTF-8 before json-c sees it, so the output is valid
 * JSON whatever bytes a log line held; the terminal rendering also drops control characters,
 * so a log line cannot move the cursor or change colours. */
#include "alert.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "macro.h"
#include "template.h"
#include "timeparse.h"
#include "util.h"

#ifdef JSON_C_TO_STRING_NOSLASHESCAPE
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#else
#define JSON_FLAGS JSON_C_TO_STRING_PLAIN
#endif

#ifdef JSON_TOKENER_VALIDATE_UTF8
#define TOKENER_FLAGS (JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)
#else
#define TOKENER_FLAGS JSON_TOKENER_STRICT
#endif

/* json_tokener_get_parse_end() arrived in json-c 0.15. */
#if JSON_C_VERSION_NUM >= ((0 << 16) | (15 << 8))
#define PARSE_END(tok) json_tokener_get_parse_end(tok)
#else
#define PARSE_END(tok) ((size_t)(tok)->char_offset)
#endif

static json_object *jstr(const char *s)
{
    strbuf b = {0};
    if (s)
        utf8_append(&b, s, strlen(s));
    json_object *o = json_object_new_string_len(b.s ? b.s : "", (int)b.len);
    strbuf_free(&b);
    return o;
}

static char *valid_utf8(const char *s)
{
    strbuf b = {0};
    utf8_append(&b, s, strlen(s));
    return strbuf_take(&b);
}

static json_object *jfields(const fieldset *f)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < f->n; i++) {
        _cleanup_free_ char *k = valid_utf8(f->v[i].name);
        json_object_object_add(o, k, jstr(f->v[i].value));
    }
    return o;
}

static json_object *jarray(char *const *v, size_t n)
{
    json_object *o = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(o, jstr(v[i]));
    return o;
}

static json_object *jtime(uint64_t usec)
{
    char buf[64];
    return json_object_new_string(ts_format(usec, buf, sizeof buf));
}

char *alert_to_json(const alert *a)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rule", jstr(a->rule));
    json_object_object_add(o, "state", json_object_new_string(a->resolved ? "resolved" : "firing"));
    json_object_object_add(o, "severity", jstr(a->severity));
    json_object_object_add(o, "title", jstr(a->title));
    json_object_object_add(o, "text", jstr(a->text));
    json_object_object_add(o, "count", json_object_new_int64(a->count > INT64_MAX ? INT64_MAX : (int64_t)a->count));
    json_object_object_add(o, "first_seen", jtime(a->first_seen));
    json_object_object_add(o, "last_seen", jtime(a->last_seen));
    json_object_object_add(o, "labels", jfields(&a->labels));
    json_object_object_add(o, "fields", jfields(&a->fields));
    json_object_object_add(o, "lines", jarray(a->lines, a->nlines));
    if (a->group_key)
        json_object_object_add(o, "group_key", jstr(a->group_key));
    if (a->nnotify)
        json_object_object_add(o, "notify", jarray(a->notify, a->nnotify));
    if (a->test)
        json_object_object_add(o, "test", json_object_new_boolean(1));
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_FLAGS));
    json_object_put(o);
    return s;
}

/* The string value of o, or NULL when o is not a string or holds a NUL byte. */
static const char *get_str(json_object *o)
{
    if (!json_object_is_type(o, json_type_string))
        return NULL;
    const char *s = json_object_get_string(o);
    return strlen(s) == (size_t)json_object_get_string_len(o) ? s : NULL;
}

static int take_str(json_object *top, const char *key, bool required, char **out)
{
    json_object *o;
    if (!json_object_object_get_ex(top, key, &o))
        return required ? -EINVAL : 0;
    const char *s = get_str(o);
    if (!s)
        return -EINVAL;
    *out = xstrdup(s);
    return 0;
}

static int take_time(json_object *top, const char *key, uint64_t *out)
{
    json_object *o;
    if (!json_object_object_get_ex(top, key, &o))
        return -EINVAL;
    const char *s = get_str(o);
    if (!s || s[0] == '[')
        return -EINVAL;
    size_t n = strlen(s);
    return n > 0 && ts_parse(s, n, out) == n ? 0 : -EINVAL;
}

static int take_fields(json_object *top, const char *key, fieldset *out)
{
    json_object *o;
    if (!json_object_object_get_ex(top, key, &o) || !json_object_is_type(o, json_type_object))
        return -EINVAL;
    json_object_object_foreach(o, k, v) {
        const char *s = get_str(v);
        if (!s)
            return -EINVAL;
        fields_set(out, k, s);
    }
    return 0;
}

static int take_array(json_object *top, const char *key, bool required, char ***out, size_t *n)
{
    json_object *o;
    if (!json_object_object_get_ex(top, key, &o))
        return required ? -EINVAL : 0;
    if (!json_object_is_type(o, json_type_array))
        return -EINVAL;
    size_t len = json_object_array_length(o);
    *out = xcalloc(len, sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const char *s = get_str(json_object_array_get_idx(o, i));
        if (!s)
            return -EINVAL;
        (*out)[(*n)++] = xstrdup(s);
    }
    return 0;
}

static int take_scalars(json_object *top, alert *t)
{
    json_object *o;
    if (!json_object_object_get_ex(top, "state", &o) || !get_str(o))
        return -EINVAL;
    const char *state = get_str(o);
    if (!str_eq(state, "firing") && !str_eq(state, "resolved"))
        return -EINVAL;
    t->resolved = str_eq(state, "resolved");
    if (!json_object_object_get_ex(top, "count", &o) || !json_object_is_type(o, json_type_int))
        return -EINVAL;
    int64_t count = json_object_get_int64(o);
    if (count < 0)
        return -EINVAL;
    t->count = (uint64_t)count;
    if (json_object_object_get_ex(top, "test", &o)) {
        if (!json_object_is_type(o, json_type_boolean))
            return -EINVAL;
        t->test = json_object_get_boolean(o);
    }
    return 0;
}

/* Fills t (zeroed) from top; on failure t holds what was read so far, for alert_clear. */
static int alert_from_object(json_object *top, alert *t)
{
    if (!json_object_is_type(top, json_type_object))
        return -EINVAL;
    int r = take_str(top, "rule", true, &t->rule);
    r = r ? r : take_str(top, "severity", true, &t->severity);
    r = r ? r : take_str(top, "title", true, &t->title);
    r = r ? r : take_str(top, "text", true, &t->text);
    r = r ? r : take_str(top, "group_key", false, &t->group_key);
    r = r ? r : take_scalars(top, t);
    r = r ? r : take_time(top, "first_seen", &t->first_seen);
    r = r ? r : take_time(top, "last_seen", &t->last_seen);
    r = r ? r : take_fields(top, "labels", &t->labels);
    r = r ? r : take_fields(top, "fields", &t->fields);
    r = r ? r : take_array(top, "lines", true, &t->lines, &t->nlines);
    r = r ? r : take_array(top, "notify", false, &t->notify, &t->nnotify);
    return r;
}

/* On success *a is overwritten, not cleared first: pass a zeroed or cleared alert. Reads exactly
 * len bytes (trailing whitespace allowed); unknown keys are ignored for forward compatibility. */
int alert_from_json(const char *s, size_t len, alert *a)
{
    if (!s || memchr(s, '\0', len) || len > INT32_MAX)
        return -EINVAL;
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, TOKENER_FLAGS);
    json_object *top = json_tokener_parse_ex(tok, s, (int)len);
    size_t used = top ? PARSE_END(tok) : 0;
    json_tokener_free(tok);
    if (!top)
        return -EINVAL;
    while (used < len && strchr(" \t\r\n", s[used]))
        used++;
    alert t = {0};
    int r = used == len ? alert_from_object(top, &t) : -EINVAL;
    json_object_put(top);
    if (r < 0) {
        alert_clear(&t);
        return r;
    }
    *a = t;
    return 0;
}

enum { C_RESET, C_RED, C_YELLOW, C_GREEN, C_BOLD };
static const char *const ansi[] = { "\033[0m", "\033[1;31m", "\033[1;33m", "\033[1;32m", "\033[1m" };

/* Appends s as valid UTF-8 without control characters (C0, DEL, C1). A newline, where allowed,
 * continues on a new line at the given indent; elsewhere it and a tab become a space. */
static void add_clean(strbuf *b, const char *s, bool newlines, const char *indent)
{
    if (!s)
        return;
    strbuf u = {0};
    utf8_append(&u, s, strlen(s));
    for (size_t i = 0; i < u.len; i++) {
        unsigned char c = (unsigned char)u.s[i];
        if (c == '\n' && newlines) {
            strbuf_addc(b, '\n');
            strbuf_adds(b, indent);
        } else if (c == '\n' || c == '\t') {
            strbuf_addc(b, ' ');
        } else if (c == 0xc2 && i + 1 < u.len && (unsigned char)u.s[i + 1] <= 0x9f) {
            i++;   /* a C1 control, U+0080..U+009F */
        } else if (c >= 0x20 && c != 0x7f) {
            strbuf_addc(b, (char)c);
        }
    }
    strbuf_free(&u);
}

static int header_colour(const alert *a)
{
    if (a->resolved)
        return C_GREEN;
    if (a->severity && str_eq(a->severity, "critical"))
        return C_RED;
    if (a->severity && str_eq(a->severity, "warning"))
        return C_YELLOW;
    return C_BOLD;
}

static void format_header(strbuf *b, const alert *a, bool color)
{
    if (color)
        strbuf_adds(b, ansi[header_colour(a)]);
    strbuf_adds(b, a->test ? "[TEST " : "[");
    strbuf_adds(b, a->resolved ? "RESOLVED" : "FIRING");
    if (a->severity && a->severity[0]) {
        strbuf_addc(b, ' ');
        add_clean(b, a->severity, false, "");
    }
    strbuf_addc(b, ']');
    if (color)
        strbuf_adds(b, ansi[C_RESET]);
    strbuf_addc(b, ' ');
    add_clean(b, a->rule, false, "");
    if (a->title && a->title[0]) {
        strbuf_adds(b, " \xe2\x80\x94 ");   /* em dash */
        add_clean(b, a->title, false, "");
    }
}

static void format_fieldset(strbuf *b, const fieldset *f, const char *eq, const char *sep)
{
    if (f->n == 0)
        return;
    strbuf_adds(b, "\n  ");
    for (size_t i = 0; i < f->n; i++) {
        if (i)
            strbuf_adds(b, sep);
        add_clean(b, f->v[i].name, false, "");
        strbuf_adds(b, eq);
        add_clean(b, f->v[i].value, false, "");
    }
}

char *alert_format_text(const alert *a, bool color)
{
    strbuf b = {0};
    char t1[64], t2[64];
    format_header(&b, a, color);
    if (a->text && a->text[0]) {
        strbuf_adds(&b, "\n  ");
        add_clean(&b, a->text, true, "  ");
    }
    format_fieldset(&b, &a->labels, "=", " ");
    format_fieldset(&b, &a->fields, ": ", "   ");
    strbuf_addf(&b, "\n  count %llu, first %s, last %s", (unsigned long long)a->count,
                ts_format(a->first_seen, t1, sizeof t1), ts_format(a->last_seen, t2, sizeof t2));
    if (a->nlines) {
        strbuf_adds(&b, "\n  evidence: ");
        add_clean(&b, a->lines[0], false, "");
        if (a->nlines > 1)
            strbuf_addf(&b, " (+%zu more)", a->nlines - 1);
    }
    if (a->nnotify) {
        strbuf_adds(&b, "\n  notify: ");
        for (size_t i = 0; i < a->nnotify; i++) {
            if (i)
                strbuf_adds(&b, ", ");
            add_clean(&b, a->notify[i], false, "");
        }
    }
    return strbuf_take(&b);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static char **dup_array(char *const *v, size_t n)
{
    if (n == 0)
        return NULL;
    char **d = xcalloc(n, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = dup_or_null(v[i]);
    return d;
}

/* dst is overwritten, not cleared first (it may be uninitialised storage). */
void alert_copy(alert *dst, const alert *src)
{
    *dst = (alert){
        .rule = dup_or_null(src->rule),
        .resolved = src->resolved,
        .severity = dup_or_null(src->severity),
        .title = dup_or_null(src->title),
        .text = dup_or_null(src->text),
        .count = src->count,
        .first_seen = src->first_seen,
        .last_seen = src->last_seen,
        .lines = dup_array(src->lines, src->nlines),
        .nlines = src->nlines,
        .notify = dup_array(src->notify, src->nnotify),
        .nnotify = src->nnotify,
        .group_key = dup_or_null(src->group_key),
        .test = src->test,
    };
    fields_copy(&dst->labels, &src->labels);
    fields_copy(&dst->fields, &src->fields);
}

static void free_array(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void alert_clear(alert *a)
{
    free(a->rule);
    free(a->severity);
    free(a->title);
    free(a->text);
    free(a->group_key);
    fields_free(&a->labels);
    fields_free(&a->fields);
    free_array(a->lines, a->nlines);
    free_array(a->notify, a->nnotify);
    *a = (alert){0};
}
