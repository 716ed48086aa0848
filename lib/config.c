/* The config schema: one ykey row per YAML key (see yamlnode.h for the walk), the checks that span
 * keys (what a kind or type requires, duplicate names, references between sections), loading and
 * freeing. docs/pcmon.yaml.5.md documents every row; keep them in step. */
#include "regex.h"

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "macro.h"
#include "util.h"
#include "yamlnode.h"

/* A config is tens of KiB; the cap keeps a wrong path (a log, a core file) from being parsed. */
#define CONFIG_MAX_SIZE ((size_t)4 << 20)

#define RK(k) (1u << (k))
#define RK_IGNORE (1u << 4)   /* pseudo-kind of `ignore: true` rules */
#define RK_ALERTING (RK(RULE_EVENT) | RK(RULE_STATE) | RK(RULE_FLATLINE))
#define RK_MATCHING (RK_ALERTING | RK(RULE_CONTEXT))
#define NT(t) (1u << (t))
#define NT_TLS (NT(NOTIFY_SLACK) | NT(NOTIFY_SMTP) | NT(NOTIFY_ALERTMANAGER) | NT(NOTIFY_SNS))
#define USEC_MIN 1   /* durations that must be greater than 0 */

static const char *const source_formats[] = { "text", "json", NULL };
static const char *const start_ats[] = { "end", "beginning", NULL };
static const char *const rule_kinds[] = { "event", "state", "flatline", "context", NULL };
static const char *const severities[] = { "critical", "warning", "info", NULL };
static const char *const notifier_types[] = { "file", "stdout", "slack", "smtp", "alertmanager", "sns", NULL };

static const yname_rule source_name = { "abcdefghijklmnopqrstuvwxyz0123456789_.-", false,
                                        "lower-case letters, digits, _, . and -" };
static const yname_rule rule_id = { "abcdefghijklmnopqrstuvwxyz0123456789_", false,
                                    "lower-case letters, digits and _" };
static const yname_rule notifier_name = { "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", false,
                                          "letters, digits, _, . and -" };

static void conv_json(ymap *x, const char *path, const ynode *v, char *base, const ykey *k);
static void conv_json_fields(ymap *x, const char *path, const ynode *v, char *base, const ykey *k);
static void conv_set(ymap *x, const char *path, const ynode *v, char *base, const ykey *k);
static void conv_regex(ymap *x, const char *path, const ynode *v, char *base, const ykey *k);
static void conv_regex_list(ymap *x, const char *path, const ynode *v, char *base, const ykey *k);
/* True when key was given and converted: its text is the name of the stored index. */
static bool enum_given(const ysection *sec, const yslot *seen, const char *key, const char *const *names, int idx)
{
    const ynode *v = ymap_where(sec, seen, key, NULL);
    return v && v->type == YNODE_SCALAR && strcmp(v->s, names[idx]) == 0;
}

static void check_source(ymap *x, const char *path, const ynode *item, char *items, size_t i, const yslot *seen);
static void check_rule(ymap *x, const char *path, const ynode *item, char *items, size_t i, const yslot *seen);
static void check_notifier(ymap *x, const char *path, const ynode *item, char *items, size_t i, const yslot *seen);

/* A row: YAML key, converter, offset; then .noff (lists), bounds, .arg, .flags, .only, .def. */
#define KEY(name_, conv_, off_) .name = name_, .conv = conv_, .off = off_

#define T(f) offsetof(pcmon_config, f)
static const ykey tailer_keys[] = {
    { KEY("max_line", ykey_size, T(max_line)), .min = 1024, .max = 16 << 20, .def = "65536" },
    { KEY("partial_flush", ykey_duration, T(partial_flush)), .min = USEC_MIN, .def = "5s" },
};
static const ysection tailer_section = { tailer_keys, ELEMENTSOF(tailer_keys), 0, NULL };

#define G(f) offsetof(grouping_cfg, f)
static const ykey grouping_keys[] = {
    { KEY("group_wait", ykey_duration, G(group_wait_event)), .def = "10s" },
    { KEY("state_group_wait", ykey_duration, G(group_wait_state)), .def = "0s" },
    { KEY("group_interval", ykey_duration, G(group_interval)), .min = USEC_MIN, .def = "15m" },
    { KEY("repeat_interval", ykey_duration, G(repeat_interval)), .min = USEC_MIN, .def = "4h" },
    { KEY("max_lines", ykey_uint, G(max_lines)), .min = 1, .max = 100000, .def = "1000" },
    { KEY("max_groups", ykey_uint, G(max_groups)), .min = 1, .max = 1000000, .def = "1000" },
    { KEY("storm_per_minute", ykey_uint, G(storm_per_minute)), .min = 1, .max = 10000, .def = "30" },
    { KEY("pending_timeout", ykey_duration, G(pending_timeout)), .min = USEC_MIN, .def = "10m" },
};
static const ysection grouping_section = { grouping_keys, ELEMENTSOF(grouping_keys), 0, NULL };

#define S(f) offsetof(source_cfg, f)
static const ykey source_keys[] = {
    { KEY("name", ykey_name, S(name)), .arg = &source_name, .flags = YK_REQUIRED },
    { KEY("path", ykey_abspath, S(path)), .flags = YK_REQUIRED },
    { KEY("format", ykey_enum, S(format)), .arg = source_formats, .def = "text" },
    { KEY("start_at", ykey_enum, S(start_at_beginning)), .arg = start_ats, .flags = YK_AS_BOOL, .def = "end" },
};
static const ysection source_section = { source_keys, ELEMENTSOF(source_keys), sizeof(source_cfg), check_source };

#define R(f) offsetof(rule_cfg, f)
static const ykey rule_keys[] = {
    { KEY("id", ykey_name, R(id)), .arg = &rule_id, .flags = YK_REQUIRED },
    { KEY("kind", ykey_enum, R(kind)), .arg = rule_kinds, .def = "event" },
    { KEY("ignore", ykey_bool, R(ignore)) },
    { KEY("sources", ykey_strlist, R(sources)), .noff = R(nsources), .flags = YK_NONEMPTY },
    { KEY("match", conv_regex_list, R(match)), .noff = R(nmatch), .flags = YK_NONEMPTY },
    { KEY("json", conv_json, 0) },
    { KEY("resolve", conv_regex, R(resolve)), .flags = YK_NONEMPTY, .only = RK(RULE_STATE) },
    { KEY("resolve_changed", ykey_name, R(resolve_changed)), .only = RK(RULE_STATE) },
    { KEY("pending", conv_regex, R(pending)), .flags = YK_NONEMPTY, .only = RK(RULE_STATE) },
    { KEY("pending_timeout", ykey_duration, R(pending_timeout)), .min = USEC_MIN, .flags = YK_INF,
      .only = RK(RULE_STATE) },
    { KEY("fields", conv_json_fields, 0), .only = RK_MATCHING },
    { KEY("set", conv_set, R(set)), .only = RK_MATCHING },
    { KEY("severity", ykey_enum, R(severity)), .arg = severities, .flags = YK_AS_STRING, .only = RK_ALERTING,
      .def = "warning" },
    { KEY("group_by", ykey_strlist, R(group_by)), .noff = R(ngroup_by), .flags = YK_FIELD, .only = RK_ALERTING },
    { KEY("group_wait", ykey_duration, R(group_wait)), .flags = YK_INF, .only = RK_ALERTING },
    { KEY("group_interval", ykey_duration, R(group_interval)), .min = USEC_MIN, .flags = YK_INF,
      .only = RK_ALERTING },
    { KEY("repeat_interval", ykey_duration, R(repeat_interval)), .min = USEC_MIN, .flags = YK_INF,
      .only = RK_ALERTING },
    { KEY("silence", ykey_duration, R(silence)), .min = USEC_MIN, .only = RK(RULE_FLATLINE) },
    { KEY("key", ykey_name, R(context_key)), .only = RK(RULE_CONTEXT) },
    { KEY("for", ykey_strlist, R(context_for)), .noff = R(ncontext_for), .flags = YK_NONEMPTY,
      .only = RK(RULE_CONTEXT) },
    { KEY("ttl", ykey_duration, R(context_ttl)), .min = USEC_MIN, .only = RK(RULE_CONTEXT), .def = "2m" },
    { KEY("title", ykey_str, R(title)), .only = RK_ALERTING },
    { KEY("text", ykey_str, R(text)), .only = RK_ALERTING },
    { KEY("notify", ykey_strlist, R(notify)), .noff = R(nnotify), .flags = YK_NONEMPTY, .only = RK_ALERTING },
};
static const ysection rule_section = { rule_keys, ELEMENTSOF(rule_keys), sizeof(rule_cfg), check_rule };

#define N(f) offsetof(notifier_cfg, f)
static const ykey notifier_keys[] = {
    { KEY("name", ykey_name, N(name)), .arg = &notifier_name, .flags = YK_REQUIRED },
    { KEY("type", ykey_enum, N(type)), .arg = notifier_types, .flags = YK_REQUIRED },
    { KEY("path", ykey_abspath, N(path)), .only = NT(NOTIFY_FILE) },
    { KEY("url", ykey_str, N(url)), .flags = YK_NONEMPTY,
      .only = NT(NOTIFY_SLACK) | NT(NOTIFY_SMTP) | NT(NOTIFY_ALERTMANAGER) },
    { KEY("url_file", ykey_abspath, N(url_file)), .only = NT(NOTIFY_SLACK) | NT(NOTIFY_ALERTMANAGER) },
    { KEY("urls", ykey_strlist, N(urls)), .noff = N(nurls), .flags = YK_NONEMPTY, .only = NT(NOTIFY_ALERTMANAGER) },
    { KEY("from", ykey_str, N(from)), .flags = YK_NONEMPTY, .only = NT(NOTIFY_SMTP) },
    { KEY("to", ykey_strlist, N(to)), .noff = N(nto), .flags = YK_NONEMPTY, .only = NT(NOTIFY_SMTP) },
    { KEY("username", ykey_str, N(username)), .flags = YK_NONEMPTY, .only = NT(NOTIFY_SMTP) },
    { KEY("password_file", ykey_abspath, N(password_file)), .only = NT(NOTIFY_SMTP) },
    { KEY("topic_arn", ykey_str, N(topic_arn)), .flags = YK_NONEMPTY, .only = NT(NOTIFY_SNS) },
    { KEY("region", ykey_str, N(region)), .flags = YK_NONEMPTY, .only = NT(NOTIFY_SNS) },
    { KEY("endpoint", ykey_str, N(endpoint)), .flags = YK_NONEMPTY, .only = NT(NOTIFY_SNS) },
    { KEY("imds_endpoint", ykey_str, N(imds_endpoint)), .flags = YK_NONEMPTY, .only = NT(NOTIFY_SNS) },
    { KEY("ca_file", ykey_abspath, N(ca_file)), .only = NT_TLS },
    { KEY("insecure_skip_verify", ykey_bool, N(insecure_skip_verify)), .only = NT_TLS },
    { KEY("timeout", ykey_duration, N(timeout)), .min = USEC_MIN, .def = "10s" },
    /* delivery retries (notify.c): exponential from retry_base up to retry_max, with jitter */
    { KEY("retry_base", ykey_duration, N(retry_base)), .min = 100 * USEC_PER_MSEC, .def = "2s" },
    { KEY("retry_max", ykey_duration, N(retry_max)), .min = USEC_PER_SEC, .def = "5m" },
};
static const ysection notifier_section = { notifier_keys, ELEMENTSOF(notifier_keys), sizeof(notifier_cfg),
                                           check_notifier };

/* The delivery spool's caps (spool.c). */
#define SP(f) offsetof(spool_cfg, f)
static const ykey spool_keys[] = {
    { KEY("max_bytes", ykey_size, SP(max_bytes)), .min = 65536, .max = (uint64_t)1 << 40, .def = "64MiB" },
    { KEY("max_alerts", ykey_uint, SP(max_alerts)), .min = 1, .max = 10000000, .def = "10000" },
    { KEY("max_age", ykey_duration, SP(max_age)), .min = USEC_PER_MSEC, .def = "7d" },
};
static const ysection spool_section = { spool_keys, ELEMENTSOF(spool_keys), 0, NULL };

#define M(f) offsetof(metrics_cfg, f)
static const ykey metrics_keys[] = {
    { KEY("path", ykey_abspath, M(path)) },
    { KEY("interval", ykey_duration, M(interval)), .min = USEC_PER_SEC, .def = "30s" },
};
static const ysection metrics_section = { metrics_keys, ELEMENTSOF(metrics_keys), 0, NULL };

static const ykey top_keys[] = {
    { KEY("state_dir", ykey_abspath, T(state_dir)), .def = "/var/lib/pcmon" },
    { KEY("cluster", ykey_str, T(cluster)), .def = "" },
    { KEY("region", ykey_str, T(region)), .def = "" },
    { KEY("tailer", ykey_section, 0), .arg = &tailer_section },
    { KEY("grouping", ykey_section, T(grouping)), .arg = &grouping_section },
    { KEY("spool", ykey_section, T(spool)), .arg = &spool_section },
    { KEY("metrics", ykey_section, T(metrics)), .arg = &metrics_section },
    { KEY("sources", ykey_list, T(sources)), .noff = T(nsources), .arg = &source_section },
    { KEY("rules", ykey_list, T(rules)), .noff = T(nrules), .arg = &rule_section },
    { KEY("notifiers", ykey_list, T(notifiers)), .noff = T(nnotifiers), .arg = &notifier_section },
};
static const ysection top_section = { top_keys, ELEMENTSOF(top_keys), 0, NULL };

static void add_json_cond(ymap *x, const char *path, const ynode *key, const ynode *val, void *ud)
{
    rule_cfg *r = ud;
    bool list = val->type == YNODE_SEQ;
    size_t n = list ? val->n : 1;
    if (val->type == YNODE_MAP || n == 0 || ynode_is_null(val)) {
        ymap_error(x, val, "%s: expected a value or a non-empty list of values, got %s", path,
                   val->type == YNODE_MAP ? "a mapping" : n == 0 ? "an empty list" : "nothing");
        return;
    }
    json_cond jc = { .path = xstrdup(key->s), .values = xcalloc(n, sizeof(char *)) };
    for (size_t i = 0; i < n; i++) {
        const ynode *item = list ? val->v[i] : val;
        _cleanup_free_ char *ip = list ? xasprintf("%s[%zu]", path, i) : xstrdup(path);
        if (ymap_need_scalar(x, ip, item, "a value"))
            jc.values[jc.nvalues++] = xstrdup(item->s);
    }
    r->json = xrealloc(r->json, (r->njson + 1) * sizeof(json_cond));
    r->json[r->njson++] = jc;
}

static void conv_json(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    ymap_each_pair(x, path, v, false, base, add_json_cond);
}

static void add_json_field(ymap *x, const char *path, const ynode *key, const ynode *val, void *ud)
{
    rule_cfg *r = ud;
    if (!ymap_need_scalar(x, path, val, "a JSON path like detail.node.name"))
        return;
    if (!*val->s) {
        ymap_error(x, val, "%s: must not be empty", path);
        return;
    }
    r->json_fields = xrealloc(r->json_fields, (r->njson_fields + 1) * sizeof(json_field));
    r->json_fields[r->njson_fields++] = (json_field){ xstrdup(key->s), xstrdup(val->s) };
}

static void conv_json_fields(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    ymap_each_pair(x, path, v, true, base, add_json_field);
}

static void add_set_field(ymap *x, const char *path, const ynode *key, const ynode *val, void *ud)
{
    if (ymap_need_scalar(x, path, val, "a string"))
        fields_set(ud, key->s, val->s);
}

static void conv_set(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    ymap_each_pair(x, path, v, true, base + k->off, add_set_field);
}

/* Compiles a pattern once here, so a bad regex is reported at its own position together with every
 * other error of the file (rules_compile compiles them for use). */
static void check_regex(ymap *x, const char *path, const ynode *n)
{
    int err;
    PCRE2_SIZE off;
    if (!n || n->type != YNODE_SCALAR)
        return;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)n->s, n->len, PCMON_PCRE2_FLAGS,
                                     &err, &off, NULL);
    if (code) {
        pcre2_code_free(code);
        return;
    }
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    ymap_error(x, n, "%s: bad regular expression at offset %zu: %s", path, (size_t)off, (const char *)msg);
}

static void conv_regex(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    ykey_str(x, path, v, base, k);
    check_regex(x, path, v);
}

static void conv_regex_list(ymap *x, const char *path, const ynode *v, char *base, const ykey *k)
{
    ykey_strlist(x, path, v, base, k);
    if (v->type == YNODE_SCALAR)
        check_regex(x, path, v);
    for (size_t i = 0; v->type == YNODE_SEQ && i < v->n; i++) {
        _cleanup_free_ char *item = xasprintf("%s[%zu]", path, i);
        check_regex(x, item, v->v[i]);
    }
}

static bool present(const ysection *sec, const yslot *seen, const char *key)
{
    const ynode *v = ymap_where(sec, seen, key, NULL);
    return v && !ynode_is_null(v);
}

static void check_source(ymap *x, const char *path, const ynode *item, char *items, size_t i, const yslot *seen)
{
    source_cfg *v = (source_cfg *)items, *s = &v[i];
    s->line = item->line;
    s->col = item->col;
    for (size_t j = 0; j < i; j++) {
        if (s->name && str_eq(v[j].name, s->name))
            ymap_error(x, ymap_where(&source_section, seen, "name", item), "%s.name: duplicate source name \"%s\" "
                       "(first at line %d)", path, s->name, v[j].line);
        if (s->path && str_eq(v[j].path, s->path))
            ymap_error(x, ymap_where(&source_section, seen, "path", item), "%s.path: %s is already followed by "
                       "sources[%zu] (line %d)", path, yshow(s->path).s, j, v[j].line);
    }
}

static void check_rule(ymap *x, const char *path, const ynode *item, char *items, size_t i, const yslot *seen)
{
    const ysection *sec = &rule_section;
    rule_cfg *v = (rule_cfg *)items, *r = &v[i];
    r->line = item->line;
    r->col = item->col;
    if (r->ignore && r->kind != RULE_EVENT)
        ymap_error(x, ymap_where(sec, seen, "ignore", item), "%s.ignore: only event rules can be ignore rules, "
                   "this one is kind %s", path, rule_kinds[r->kind]);
    if (r->ignore) {
        for (size_t k = 0; k < sec->nkeys; k++)
            if (seen[k].val && !ynode_is_null(seen[k].val) && sec->keys[k].only && !(sec->keys[k].only & RK_IGNORE))
                ymap_error(x, seen[k].key, "%s.%s: has no effect on an ignore rule", path, sec->keys[k].name);
    } else if (!present(sec, seen, "kind") || enum_given(sec, seen, "kind", rule_kinds, (int)r->kind))
        ymap_check_only(x, path, sec, seen, RK(r->kind), "kind", rule_kinds, (int)r->kind);
    if (r->kind != RULE_FLATLINE && !present(sec, seen, "match") && !present(sec, seen, "json"))
        ymap_error(x, item, "%s: needs \"match\" or \"json\"", path);
    if (r->kind == RULE_FLATLINE && !present(sec, seen, "silence"))
        ymap_error(x, item, "%s: kind flatline needs \"silence\"", path);
    if (r->resolve_changed && !r->resolve)
        ymap_error(x, ymap_where(sec, seen, "resolve_changed", item), "%s.resolve_changed: needs \"resolve\"", path);
    for (size_t j = 0; j < i && r->id; j++)
        if (str_eq(v[j].id, r->id))
            ymap_error(x, ymap_where(sec, seen, "id", item), "%s.id: duplicate rule id \"%s\" (first at line %d)",
                       path, r->id, v[j].line);
}

static bool url_ok(const char *url, bool smtp)
{
    static const char *const web[] = { "http://", "https://", NULL }, *const mail[] = { "smtp://", "smtps://", NULL };
    for (const char *const *s = smtp ? mail : web; *s; s++)
        if (strncasecmp(url, *s, strlen(*s)) == 0 && url[strlen(*s)] && !strpbrk(url, " \t\r\n"))
            return true;
    return false;
}

/* Checks the URL at key (when given) and reports it without its secret parts. */
static void check_url(ymap *x, const char *path, const yslot *seen, const char *key, const char *url, bool smtp)
{
    if (url && !url_ok(url, smtp))
        ymap_error(x, ymap_where(&notifier_section, seen, key, NULL), "%s.%s: expected %s URL, got %s", path, key,
                   smtp ? "an smtp:// or smtps://" : "an http:// or https://", yshow(url).s);
}

static void need_key(ymap *x, const char *path, const ynode *item, const yslot *seen, const char *key, const char *type)
{
    if (!present(&notifier_section, seen, key))
        ymap_error(x, item, "%s: type %s needs \"%s\"", path, type, key);
}

/* Alertmanager peers: urls lists them all (url first), url joins them with spaces. */
static void alertmanager_peers(notifier_cfg *n)
{
    if (n->url) {
        n->urls = xrealloc(n->urls, (n->nurls + 1) * sizeof(char *));
        memmove(n->urls + 1, n->urls, n->nurls * sizeof(char *));
        n->urls[0] = n->url;
        n->nurls++;
    }
    strbuf b = { 0 };
    for (size_t i = 0; i < n->nurls; i++)
        strbuf_addf(&b, "%s%s", i ? " " : "", n->urls[i]);
    n->url = n->nurls ? strbuf_take(&b) : NULL;
    strbuf_free(&b);
}

static void check_notifier(ymap *x, const char *path, const ynode *item, char *items, size_t i, const yslot *seen)
{
    const ysection *sec = &notifier_section;
    notifier_cfg *v = (notifier_cfg *)items, *n = &v[i];
    const char *type = notifier_types[n->type];
    n->line = item->line;
    n->col = item->col;
    for (size_t j = 0; j < i && n->name; j++)
        if (str_eq(v[j].name, n->name))
            ymap_error(x, ymap_where(sec, seen, "name", item), "%s.name: duplicate notifier name \"%s\" "
                       "(first at line %d)", path, n->name, v[j].line);
    if (!enum_given(sec, seen, "type", notifier_types, (int)n->type))
        return;
    ymap_check_only(x, path, sec, seen, NT(n->type), "type", notifier_types, (int)n->type);
    if (n->type != NOTIFY_FILE && n->type != NOTIFY_STDOUT && n->type != NOTIFY_SNS)   /* else reported above */
        check_url(x, path, seen, "url", n->url, n->type == NOTIFY_SMTP);
    if (n->type == NOTIFY_SNS) {
        check_url(x, path, seen, "endpoint", n->endpoint, false);
        check_url(x, path, seen, "imds_endpoint", n->imds_endpoint, false);
    }
    const ynode *urls = n->type == NOTIFY_ALERTMANAGER ? ymap_where(sec, seen, "urls", NULL) : NULL;
    for (size_t k = 0; urls && urls->type == YNODE_SEQ && k < urls->n; k++)
        if (urls->v[k]->type == YNODE_SCALAR && *urls->v[k]->s && !url_ok(urls->v[k]->s, false))
            ymap_error(x, urls->v[k], "%s.urls[%zu]: expected an http:// or https:// URL, got %s", path, k,
                       yshow(urls->v[k]->s).s);
    if (urls && urls->type == YNODE_SCALAR && *urls->s && !url_ok(urls->s, false))
        ymap_error(x, urls, "%s.urls: expected an http:// or https:// URL, got %s", path, yshow(urls->s).s);
    switch (n->type) {
    case NOTIFY_FILE:
        need_key(x, path, item, seen, "path", type);
        break;
    case NOTIFY_SLACK:
        if (present(sec, seen, "url") && present(sec, seen, "url_file"))
            ymap_error(x, ymap_where(sec, seen, "url_file", item), "%s: give \"url\" or \"url_file\", not both", path);
        else if (!present(sec, seen, "url_file"))
            need_key(x, path, item, seen, "url", type);
        break;
    case NOTIFY_SMTP:
        need_key(x, path, item, seen, "url", type);
        need_key(x, path, item, seen, "from", type);
        need_key(x, path, item, seen, "to", type);
        break;
    case NOTIFY_ALERTMANAGER:
        if (!present(sec, seen, "urls") && !present(sec, seen, "url_file"))
            need_key(x, path, item, seen, "url", type);
        alertmanager_peers(n);
        break;
    case NOTIFY_SNS:
        need_key(x, path, item, seen, "topic_arn", type);
        if (n->topic_arn && !str_startswith(n->topic_arn, "arn:"))
            ymap_error(x, ymap_where(sec, seen, "topic_arn", item), "%s.topic_arn: expected an SNS topic ARN "
                       "(arn:aws:sns:REGION:ACCOUNT:NAME), got %s", path, yshow(n->topic_arn).s);
        break;
    default:
        break;
    }
}

/* Reports each name of a rule's `key:` (a scalar or list) for which defined() is false. */
static void check_names(ymap *x, const char *path, const ynode *rule, const char *key, const char *what,
                        bool (*defined)(const pcmon_config *c, const char *name), const pcmon_config *c)
{
    const ynode *v = ynode_get(rule, key);
    if (!v || ynode_is_null(v) || v->type == YNODE_MAP)
        return;
    for (size_t i = 0; i < (v->type == YNODE_SEQ ? v->n : 1); i++) {
        const ynode *s = v->type == YNODE_SEQ ? v->v[i] : v;
        if (s->type == YNODE_SCALAR && *s->s && !defined(c, s->s))
            ymap_error(x, s, "%s.%s: undefined %s \"%s\"", path, key, what, s->s);
    }
}

static bool source_defined(const pcmon_config *c, const char *name)
{
    return config_source(c, name) != NULL;
}

static bool notifier_defined(const pcmon_config *c, const char *name)
{
    return config_notifier(c, name) != NULL;
}

static bool rule_defined(const pcmon_config *c, const char *name)
{
    for (size_t i = 0; i < c->nrules; i++)
        if (str_eq(c->rules[i].id, name))
            return true;
    return false;
}

/* JSON conditions are only tried on `format: json` sources: a rule with no such source is dead. */
static bool has_json_source(const pcmon_config *c, const rule_cfg *r)
{
    for (size_t s = 0; s < c->nsources; s++) {
        bool mine = r->nsources == 0;
        for (size_t k = 0; k < r->nsources && !mine; k++)
            mine = str_eq(r->sources[k], c->sources[s].name);
        if (mine && c->sources[s].format == SOURCE_JSON)
            return true;
    }
    return false;
}

/* The checks that need every section: references by name, and defaults taken from grouping. */
static void check_config(ymap *x, pcmon_config *c, const ynode *root)
{
    const ynode *rules = ynode_get(root, "rules");
    for (size_t i = 0; i < c->nrules; i++) {
        rule_cfg *r = &c->rules[i];
        if (r->pending_timeout == USEC_INFINITY)
            r->pending_timeout = c->grouping.pending_timeout;
        if (!rules || rules->type != YNODE_SEQ || i >= rules->n || rules->v[i]->type != YNODE_MAP)
            continue;
        _cleanup_free_ char *path = xasprintf("rules[%zu]", i);
        const ynode *item = rules->v[i];
        check_names(x, path, item, "sources", "source", source_defined, c);
        check_names(x, path, item, "notify", "notifier", notifier_defined, c);
        check_names(x, path, item, "for", "rule", rule_defined, c);
        if (r->njson > 0 && !has_json_source(c, r))
            ymap_error(x, ynode_get(item, "json"), "%s.json: JSON conditions need a source with format json, and "
                       "none of this rule's sources has it", path);
    }
}

/* Orders the errors from start on by position (stable: they were found in a sensible order). */
static void sort_errors(config_errors *e, size_t start)
{
    for (size_t i = start + 1; i < e->n; i++) {
        config_error t = e->v[i];
        size_t j = i;
        for (; j > start && (e->v[j - 1].line > t.line || (e->v[j - 1].line == t.line && e->v[j - 1].col > t.col)); j--)
            e->v[j] = e->v[j - 1];
        e->v[j] = t;
    }
}

pcmon_config *config_load_buffer(const char *name, const char *text, size_t len, config_errors *errs)
{
    ymap x = { name ? name : "<config>", errs, 0 };
    size_t start = errs->n;
    ynode_error ye;
    ynode *root;
    if (len > CONFIG_MAX_SIZE) {
        config_error_add(errs, x.file, 1, 1, "configuration is larger than 4 MiB");
        return NULL;
    }
    if (ynode_parse(text ? text : "", len, &root, &ye) < 0) {
        config_error_add(errs, x.file, ye.line, ye.col, "%s", ye.msg);
        free(ye.msg);
        return NULL;
    }
    if (!root || ynode_is_null(root)) {
        config_error_add(errs, x.file, root ? root->line : 1, root ? root->col : 1, "empty configuration");
        ynode_free(root);
        return NULL;
    }
    pcmon_config *c = xcalloc(1, sizeof(pcmon_config));
    yslot seen[ELEMENTSOF(top_keys)];
    memset(seen, 0, sizeof seen);
    c->file = xstrdup(x.file);
    if (ymap_parse(&x, "", root, &top_section, (char *)c, seen))
        check_config(&x, c, root);
    ynode_free(root);
    sort_errors(errs, start);
    return x.nerr ? config_free(c) : c;
}

pcmon_config *config_load_file(const char *path, config_errors *errs)
{
    struct stat st;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = stat(path, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
    if (r == 0 && (size_t)st.st_size > CONFIG_MAX_SIZE)
        r = -EFBIG;
    if (r == 0)
        r = read_file(path, CONFIG_MAX_SIZE, &text, &len);
    if (r == -EFBIG)
        config_error_add(errs, path, 1, 1, "file is larger than 4 MiB; not read");
    else if (r < 0)
        config_error_add(errs, path, 1, 1, "cannot read: %s", strerror(-r));
    return r < 0 ? NULL : config_load_buffer(path, text, len, errs);
}

pcmon_config *config_load_default(config_errors *errs)
{
    return config_load_buffer("<embedded>", pcmon_default_config, pcmon_default_config_len, errs);
}

const source_cfg *config_source(const pcmon_config *c, const char *name)
{
    for (size_t i = 0; c && i < c->nsources; i++)
        if (str_eq(c->sources[i].name, name))
            return &c->sources[i];
    return NULL;
}

const notifier_cfg *config_notifier(const pcmon_config *c, const char *name)
{
    for (size_t i = 0; c && i < c->nnotifiers; i++)
        if (str_eq(c->notifiers[i].name, name))
            return &c->notifiers[i];
    return NULL;
}

void config_error_add(config_errors *e, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    va_start(ap, fmt);
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0)
        msg = xstrdup("(out of memory formatting an error)");
    e->v = xgrow(e->v, &e->cap, e->n + 1, sizeof(config_error));
    e->v[e->n++] = (config_error){ xstrdup(file ? file : "<config>"), line, col, msg };
}

void config_errors_free(config_errors *e)
{
    for (size_t i = 0; e && i < e->n; i++) {
        free(e->v[i].file);
        free(e->v[i].msg);
    }
    if (e) {
        free(e->v);
        *e = (config_errors){ 0 };
    }
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void rule_free(rule_cfg *r)
{
    free(r->id);
    strv_free(r->sources, r->nsources);
    strv_free(r->match, r->nmatch);
    free(r->resolve);
    free(r->resolve_changed);
    free(r->pending);
    for (size_t i = 0; i < r->njson; i++) {
        free(r->json[i].path);
        strv_free(r->json[i].values, r->json[i].nvalues);
    }
    free(r->json);
    for (size_t i = 0; i < r->njson_fields; i++) {
        free(r->json_fields[i].name);
        free(r->json_fields[i].path);
    }
    free(r->json_fields);
    fields_free(&r->set);
    free(r->severity);
    strv_free(r->group_by, r->ngroup_by);
    free(r->context_key);
    strv_free(r->context_for, r->ncontext_for);
    free(r->title);
    free(r->text);
    strv_free(r->notify, r->nnotify);
}

static void notifier_free(notifier_cfg *n)
{
    char *strs[] = { n->name, n->path, n->url, n->url_file, n->from, n->username, n->password_file, n->topic_arn,
                     n->region, n->endpoint, n->imds_endpoint, n->ca_file };
    for (size_t i = 0; i < ELEMENTSOF(strs); i++)
        free(strs[i]);
    strv_free(n->urls, n->nurls);
    strv_free(n->to, n->nto);
}

pcmon_config *config_free(pcmon_config *c)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->nsources; i++) {
        free(c->sources[i].name);
        free(c->sources[i].path);
    }
    free(c->sources);
    for (size_t i = 0; i < c->nrules; i++)
        rule_free(&c->rules[i]);
    free(c->rules);
    for (size_t i = 0; i < c->nnotifiers; i++)
        notifier_free(&c->notifiers[i]);
    free(c->notifiers);
    free(c->file);
    free(c->state_dir);
    free(c->metrics.path);
    free(c->cluster);
    free(c->region);
    free(c);
    return NULL;
}
