#include "rules.h"

#include <errno.h>
#include <json-c/json.h>
#include "regex.h"
#include <string.h>

#include "context.h"
#include "jsonscan.h"
#include "literal.h"
#include "macro.h"
#include "prefilter.h"
#include "util.h"

/* Hostile lines must not pin the CPU (fail2ban #4084): backtracking is bounded and a line that
 * hits the bound is skipped and counted. 10^6 steps is ~10 ms worst case on this class of CPU. */
#define MATCH_LIMIT 1000000
#define DEPTH_LIMIT 10000
#define JIT_STACK_MAX (1024 * 1024)

typedef struct pattern {
    pcre2_code *code;
    litset need;        /* every match contains one of these (none: no prefilter) */
    unsigned *ids;      /* their bits in the line's prefilter result */
} pattern;

typedef struct crule {
    const rule_cfg *cfg;
    pattern *match;
    size_t nmatch;
    pattern resolve, pending;
    bool *applies;      /* per source */
    char **json_literals; /* single-valued JSON conditions: values the raw line must contain */
    unsigned *json_ids;   /* ... and their prefilter bits */
    size_t njson_literals;
} crule;

/* What is known about the line being evaluated. */
typedef struct line_ctx {
    const char *s;
    size_t len;
    const uint64_t *present;   /* prefilter result; NULL: literals are looked up with memmem */
    json_object *json;         /* json-c parse, made at most once */
    bool json_tried;
    int scanned;               /* jsonscan of the line: 0 not yet, 1 r->js holds it, -1 json-c's job */
} line_ctx;

struct rules {
    const pcmon_config *c;
    crule *v;
    size_t n;
    size_t **by_source;   /* per source: rule indexes in file order, terminated by SIZE_MAX */
    char **lits;          /* every distinct prefilter literal; its index is its bit */
    size_t nlits;
    prefilter **pf;       /* per source: the literals of the rules that apply to it */
    bool *filtered;       /* per source: no rule can match a line without one of its literals */
    uint64_t *present;    /* the current line's prefilter result, (nlits + 63) / 64 words */
    size_t words;
    jscan js;             /* the current line's top-level JSON members */
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    context_table *ctx;
    rules_stats stats;
};

/* The bit of literal s, added to the table when new. */
static unsigned intern(rules *r, const char *s)
{
    for (size_t i = 0; i < r->nlits; i++)
        if (str_eq(r->lits[i], s))
            return (unsigned)i;
    r->lits = xrealloc(r->lits, (r->nlits + 1) * sizeof(char *));
    r->lits[r->nlits] = xstrdup(s);
    return (unsigned)r->nlits++;
}

static int compile_pattern(rules *r, const rule_cfg *rc, const char *key, const char *src, pattern *p,
                           bool jit, config_errors *errs)
{
    int err;
    PCRE2_SIZE off;
    p->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCMON_PCRE2_FLAGS, &err, &off, NULL);
    if (!p->code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        config_error_add(errs, r->c->file, rc->line, rc->col,
                         "rules[%s].%s: bad regular expression at offset %zu: %s", rc->id, key,
                         (size_t)off, (const char *)msg);
        return -EINVAL;
    }
    if (jit && pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE) != 0)
        r->stats.jit = false;
    p->need = literal_any(src);
    p->ids = xcalloc(p->need.n ? p->need.n : 1, sizeof(unsigned));
    for (size_t i = 0; i < p->need.n; i++)
        p->ids[i] = intern(r, p->need.v[i]);
    return 0;
}

static void free_pattern(pattern *p)
{
    pcre2_code_free(p->code);
    litset_free(&p->need);
    free(p->ids);
}

static void build_applies(rules *r, crule *cr)
{
    const pcmon_config *c = r->c;
    cr->applies = xcalloc(c->nsources ? c->nsources : 1, sizeof(bool));
    for (size_t s = 0; s < c->nsources; s++) {
        bool ok = cr->cfg->nsources == 0;
        for (size_t k = 0; k < cr->cfg->nsources && !ok; k++)
            ok = str_eq(cr->cfg->sources[k], c->sources[s].name);
        /* JSON conditions only make sense on JSON sources. */
        if (cr->cfg->njson > 0 && c->sources[s].format != SOURCE_JSON)
            ok = false;
        cr->applies[s] = ok;
    }
}

static void build_json_literals(rules *r, crule *cr)
{
    for (size_t i = 0; i < cr->cfg->njson; i++) {
        const json_cond *jc = &cr->cfg->json[i];
        if (jc->nvalues != 1)
            continue;
        cr->json_literals = xrealloc(cr->json_literals, (cr->njson_literals + 1) * sizeof(char *));
        cr->json_ids = xrealloc(cr->json_ids, (cr->njson_literals + 1) * sizeof(unsigned));
        cr->json_ids[cr->njson_literals] = intern(r, jc->values[0]);
        cr->json_literals[cr->njson_literals++] = jc->values[0];
    }
}

static int compile_rule(rules *r, crule *cr, bool jit, config_errors *errs)
{
    const rule_cfg *rc = cr->cfg;
    int ret = 0;
    cr->match = xcalloc(rc->nmatch, sizeof(pattern));
    cr->nmatch = rc->nmatch;
    for (size_t i = 0; i < rc->nmatch; i++)
        if (compile_pattern(r, rc, "match", rc->match[i], &cr->match[i], jit, errs) < 0)
            ret = -EINVAL;
    if (rc->resolve && compile_pattern(r, rc, "resolve", rc->resolve, &cr->resolve, jit, errs) < 0)
        ret = -EINVAL;
    if (rc->pending && compile_pattern(r, rc, "pending", rc->pending, &cr->pending, jit, errs) < 0)
        ret = -EINVAL;
    build_applies(r, cr);
    build_json_literals(r, cr);
    return ret;
}

static uint32_t max_captures(const rules *r)
{
    uint32_t max = 1;
    for (size_t i = 0; i < r->n; i++) {
        const crule *cr = &r->v[i];
        for (size_t k = 0; k < cr->nmatch + 2; k++) {
            const pattern *p = k < cr->nmatch ? &cr->match[k] : k == cr->nmatch ? &cr->resolve : &cr->pending;
            uint32_t n = 0;
            if (p->code && pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &n) == 0 && n + 1 > max)
                max = n + 1;
        }
    }
    return max;
}

/* Adds the literals of p to pf; false when p has none (every line must be tried). */
static bool add_pattern_literals(prefilter *pf, const pattern *p)
{
    if (!p->code)
        return true;
    for (size_t i = 0; i < p->need.n; i++)
        prefilter_add(pf, p->need.v[i], strlen(p->need.v[i]), p->ids[i]);
    return p->need.n > 0;
}

/* Adds the literals of cr to pf; false when some line without any of them could still match. */
static bool add_rule_literals(prefilter *pf, const crule *cr)
{
    bool filtered = true;
    for (size_t k = 0; k < cr->nmatch; k++)
        filtered &= add_pattern_literals(pf, &cr->match[k]);
    for (size_t k = 0; k < cr->njson_literals; k++)
        prefilter_add(pf, cr->json_literals[k], strlen(cr->json_literals[k]), cr->json_ids[k]);
    if (cr->cfg->njson > 0 && cr->nmatch == 0)
        filtered = cr->njson_literals > 0;
    else if (cr->cfg->njson > 0)
        filtered |= cr->njson_literals > 0;
    filtered &= add_pattern_literals(pf, &cr->resolve);
    filtered &= add_pattern_literals(pf, &cr->pending);
    return filtered;
}

/* One prefilter per source over the literals of the rules that apply to it (flatline rules are
 * evaluated on their own and keep the memmem path). */
static void build_prefilters(rules *r)
{
    size_t ns = r->c->nsources;
    r->pf = xcalloc(ns ? ns : 1, sizeof(prefilter *));
    r->filtered = xcalloc(ns ? ns : 1, sizeof(bool));
    for (size_t s = 0; s < ns; s++) {
        r->pf[s] = prefilter_new();
        r->filtered[s] = true;
        for (const size_t *ri = r->by_source[s]; *ri != SIZE_MAX; ri++)
            r->filtered[s] &= add_rule_literals(r->pf[s], &r->v[*ri]);
        prefilter_build(r->pf[s]);
    }
    r->words = (r->nlits + 63) / 64;
    r->present = xcalloc(r->words ? r->words : 1, sizeof(uint64_t));
}

static void build_by_source(rules *r)
{
    size_t ns = r->c->nsources;
    r->by_source = xcalloc(ns ? ns : 1, sizeof(size_t *));
    for (size_t s = 0; s < ns; s++) {
        size_t k = 0;
        r->by_source[s] = xcalloc(r->n + 1, sizeof(size_t));
        for (size_t i = 0; i < r->n; i++)
            if (r->v[i].applies[s] && r->v[i].cfg->kind != RULE_FLATLINE)
                r->by_source[s][k++] = i;
        r->by_source[s][k] = SIZE_MAX;
    }
}

rules *rules_compile_flags(const pcmon_config *c, unsigned flags, config_errors *errs)
{
    rules *r = xcalloc(1, sizeof *r);
    bool jit = !(flags & RULES_NO_JIT);
    uint32_t jit_cfg = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit_cfg);
    r->c = c;
    r->stats.jit = jit && jit_cfg;
    r->n = c->nrules;
    r->v = xcalloc(r->n ? r->n : 1, sizeof(crule));
    int ret = 0;
    for (size_t i = 0; i < r->n; i++) {
        r->v[i].cfg = &c->rules[i];
        if (compile_rule(r, &r->v[i], r->stats.jit, errs) < 0)
            ret = -EINVAL;
    }
    if (ret < 0)
        return rules_free(r);
    r->md = pcre2_match_data_create(max_captures(r), NULL);
    r->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(r->mctx, DEPTH_LIMIT);
    if (r->stats.jit) {
        r->jit_stack = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
        pcre2_jit_stack_assign(r->mctx, NULL, r->jit_stack);
    }
    r->stats.matches = xcalloc(r->n ? r->n : 1, sizeof(uint64_t));
    r->ctx = context_table_new();
    build_by_source(r);
    build_prefilters(r);
    return r;
}

rules *rules_compile(const pcmon_config *c, config_errors *errs)
{
    return rules_compile_flags(c, 0, errs);
}

rules *rules_free(rules *r)
{
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        crule *cr = &r->v[i];
        for (size_t k = 0; k < cr->nmatch; k++)
            free_pattern(&cr->match[k]);
        free(cr->match);
        free_pattern(&cr->resolve);
        free_pattern(&cr->pending);
        free(cr->applies);
        free(cr->json_literals);
        free(cr->json_ids);
    }
    for (size_t s = 0; s < r->c->nsources; s++) {
        if (r->by_source)
            free(r->by_source[s]);
        if (r->pf)
            prefilter_free(r->pf[s]);
    }
    free(r->by_source);
    free(r->pf);
    free(r->filtered);
    free(r->present);
    for (size_t i = 0; i < r->nlits; i++)
        free(r->lits[i]);
    free(r->lits);
    free(r->v);
    pcre2_match_data_free(r->md);
    pcre2_match_context_free(r->mctx);
    pcre2_jit_stack_free(r->jit_stack);
    context_table_free(r->ctx);
    free(r->stats.matches);
    free(r);
    return NULL;
}

/* Copies the named groups that took part in the match into f. */
static void collect_names(const pattern *p, pcre2_match_data *md, const char *line, fieldset *f)
{
    uint32_t count = 0, size = 0;
    PCRE2_SPTR table;
    pcre2_pattern_info(p->code, PCRE2_INFO_NAMECOUNT, &count);
    if (count == 0)
        return;
    pcre2_pattern_info(p->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
    pcre2_pattern_info(p->code, PCRE2_INFO_NAMETABLE, &table);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    for (uint32_t i = 0; i < count; i++, table += size) {
        uint32_t n = (uint32_t)(table[0] << 8 | table[1]);
        if (n >= pairs || ov[2 * n] == PCRE2_UNSET)
            continue;
        const char *name = (const char *)table + 2;
        if (ov[2 * n + 1] < ov[2 * n])   /* \K games: ignore */
            continue;
        fields_setn(f, name, line + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
    }
}

/* Can p match this line? Its prefilter literals decide: from the line's prefilter result when
 * there is one, else by looking each up. */
static bool candidate(const pattern *p, const line_ctx *lc)
{
    if (p->need.n == 0)
        return true;
    for (size_t i = 0; i < p->need.n; i++) {
        if (lc->present ? lc->present[p->ids[i] / 64] >> (p->ids[i] % 64) & 1
                        : memmem(lc->s, lc->len, p->need.v[i], strlen(p->need.v[i])) != NULL)
            return true;
    }
    return false;
}

/* Returns 1 on a match (fields added), 0 on none, -1 on a match error (counted). */
static int try_pattern(rules *r, const pattern *p, const line_ctx *lc, fieldset *f)
{
    if (!p->code || !candidate(p, lc))
        return 0;
    int rc = pcre2_match(p->code, (PCRE2_SPTR)lc->s, lc->len, 0, 0, r->md, r->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        r->stats.match_errors++;
        return -1;
    }
    collect_names(p, r->md, lc->s, f);
    return 1;
}

static json_object *json_path(json_object *o, const char *path)
{
    char buf[256];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return NULL;
    memcpy(buf, path, n + 1);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(o, tok, &o))
            return NULL;
    return o;
}

/* A JSON value as a field string: strings as they are, lists joined with ", ". */
static void json_value_string(json_object *v, strbuf *out)
{
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            if (i)
                strbuf_adds(out, ", ");
            json_value_string(json_object_array_get_idx(v, i), out);
        }
        return;
    }
    if (json_object_is_type(v, json_type_object)) {
        json_object *name;
        if (json_object_object_get_ex(v, "name", &name)) {   /* a node description */
            json_value_string(name, out);
            return;
        }
    }
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                              : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    strbuf_adds(out, s ? s : "");
}

static bool json_cond_holds(json_object *root, const json_cond *jc)
{
    json_object *v = json_path(root, jc->path);
    if (!v || json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
        return false;
    const char *s = json_object_get_string(v);
    for (size_t i = 0; i < jc->nvalues; i++)
        if (str_eq(s, jc->values[i]))
            return true;
    return false;
}

static bool json_literals_present(const crule *cr, const line_ctx *lc)
{
    for (size_t i = 0; i < cr->njson_literals; i++) {
        unsigned id = cr->json_ids[i];
        if (lc->present ? !(lc->present[id / 64] >> (id % 64) & 1)
                        : !memmem(lc->s, lc->len, cr->json_literals[i], strlen(cr->json_literals[i])))
            return false;
    }
    return true;
}

/* Parses the line once, lazily, for the JSON rules of a JSON source. */
static json_object *parse_json_once(rules *r, line_ctx *lc)
{
    if (lc->json_tried)
        return lc->json;
    lc->json_tried = true;
    json_tokener *tok = json_tokener_new_ex(32);
    lc->json = json_tokener_parse_ex(tok, lc->s, (int)(lc->len > INT32_MAX ? INT32_MAX : lc->len));
    if (!lc->json || !json_object_is_type(lc->json, json_type_object)) {
        json_object_put(lc->json);
        lc->json = NULL;
        r->stats.json_errors++;
    }
    json_tokener_free(tok);
    return lc->json;
}

/* A path the scanned members answer: one key, no dots (json_path would split it). */
static bool top_level(const char *path)
{
    return path[0] && !strchr(path, '.') && strlen(path) < 256;
}

/* A condition on the scanned members: 1 holds, 0 does not, -1 only json-c can tell (escapes,
 * numbers, nested paths). Objects and arrays never hold, as in json_cond_holds. */
static int fast_cond(const jscan *js, const json_cond *jc)
{
    if (!top_level(jc->path))
        return -1;
    const jmember *m = jscan_get(js, jc->path);
    if (!m || m->type == JSCAN_OBJECT || m->type == JSCAN_ARRAY)
        return 0;
    if (m->type != JSCAN_STRING || m->escaped)
        return -1;
    for (size_t i = 0; i < jc->nvalues; i++)
        if (strlen(jc->values[i]) == m->vlen && memcmp(jc->values[i], m->val, m->vlen) == 0)
            return 1;
    return 0;
}

/* A field the fast path can copy: absent, or a plain string. */
static bool fast_field(const jscan *js, const char *path, const jmember **out)
{
    *out = top_level(path) ? jscan_get(js, path) : NULL;
    return top_level(path) && (!*out || (*out)->type == JSCAN_STRING) && (!*out || !(*out)->escaped);
}

/* eval_json on the jsonscan members, for the common event line: 1 holds (fields added), 0 does
 * not, -1 json-c decides. Nothing is added to f unless it returns 1. */
static int eval_json_fast(const crule *cr, const jscan *js, fieldset *f)
{
    int verdict = 1;
    const jmember *m, *cl = jscan_get(js, "cluster-name");
    for (size_t i = 0; i < cr->cfg->njson; i++) {
        int h = fast_cond(js, &cr->cfg->json[i]);
        if (h == 0)
            return 0;
        verdict = h < 0 ? -1 : verdict;
    }
    for (size_t i = 0; i < cr->cfg->njson_fields && verdict > 0; i++)
        verdict = fast_field(js, cr->cfg->json_fields[i].path, &m) ? 1 : -1;
    if (verdict < 0 || (cl && cl->type == JSCAN_STRING && cl->escaped))
        return -1;
    for (size_t i = 0; i < cr->cfg->njson_fields; i++)
        if (fast_field(js, cr->cfg->json_fields[i].path, &m) && m)
            fields_setn(f, cr->cfg->json_fields[i].name, m->val, m->vlen);
    if (cl && cl->type == JSCAN_STRING && !fields_get(f, "cluster"))
        fields_setn(f, "cluster", cl->val, cl->vlen);
    return 1;
}

static bool eval_json(rules *r, const crule *cr, line_ctx *lc, fieldset *f)
{
    if (!json_literals_present(cr, lc))
        return false;
    if (lc->scanned == 0)
        lc->scanned = jscan_object(lc->s, lc->len, &r->js) ? 1 : -1;
    int fast = lc->scanned > 0 ? eval_json_fast(cr, &r->js, f) : -1;
    if (fast >= 0)
        return fast == 1;
    json_object *root = parse_json_once(r, lc);
    if (!root)
        return false;
    for (size_t i = 0; i < cr->cfg->njson; i++)
        if (!json_cond_holds(root, &cr->cfg->json[i]))
            return false;
    for (size_t i = 0; i < cr->cfg->njson_fields; i++) {
        json_object *v = json_path(root, cr->cfg->json_fields[i].path);
        if (!v)
            continue;
        strbuf b = {0};
        json_value_string(v, &b);
        fields_set(f, cr->cfg->json_fields[i].name, b.s ? b.s : "");
        strbuf_free(&b);
    }
    json_object *cl;
    if (json_object_object_get_ex(root, "cluster-name", &cl) && json_object_is_type(cl, json_type_string))
        fields_set_default(f, "cluster", json_object_get_string(cl));
    return true;
}

/* Tries the rule's match patterns in order. */
static enum match_what eval_text(rules *r, const crule *cr, const line_ctx *lc, fieldset *f)
{
    for (size_t i = 0; i < cr->nmatch; i++)
        if (try_pattern(r, &cr->match[i], lc, f) == 1)
            return MATCH_FIRE;
    return MATCH_NONE;
}

static enum match_what eval_rule(rules *r, const crule *cr, line_ctx *lc, fieldset *f)
{
    enum match_what w;
    if (cr->cfg->njson > 0) {
        if (!eval_json(r, cr, lc, f))
            return MATCH_NONE;
        w = cr->nmatch == 0 ? MATCH_FIRE : eval_text(r, cr, lc, f);
    } else
        w = eval_text(r, cr, lc, f);
    if (w == MATCH_NONE)
        return MATCH_NONE;
    if (cr->cfg->ignore)
        return MATCH_IGNORE;
    if (cr->cfg->kind == RULE_CONTEXT)
        return MATCH_CONTEXT;
    return w;
}

static void add_set_fields(const crule *cr, fieldset *f)
{
    for (size_t i = 0; i < cr->cfg->set.n; i++)
        fields_set_default(f, cr->cfg->set.v[i].name, cr->cfg->set.v[i].value);
}

/* Runs the source's prefilter over the line: false when no rule of src can match it. */
static bool prefilter_line(rules *r, size_t src, line_ctx *lc)
{
    memset(r->present, 0, r->words * sizeof(uint64_t));
    prefilter_scan(r->pf[src], lc->s, lc->len, r->present);
    lc->present = r->present;
    if (!r->filtered[src])
        return true;
    for (size_t i = 0; i < r->words; i++)
        if (r->present[i])
            return true;
    return false;
}

static enum match_what eval_first(rules *r, size_t src, line_ctx *lc, uint64_t ts, match *m)
{
    for (const size_t *ri = r->by_source[src]; *ri != SIZE_MAX; ri++) {
        const crule *cr = &r->v[*ri];
        enum match_what w = eval_rule(r, cr, lc, &m->fields);
        if (w == MATCH_NONE) {
            fields_clear(&m->fields);
            continue;
        }
        m->what = w;
        m->rule = *ri;
        r->stats.matches[*ri]++;
        add_set_fields(cr, &m->fields);
        if (w == MATCH_CONTEXT)
            context_put(r->ctx, src, *ri, cr->cfg->context_key, &m->fields, ts);
        else if (w != MATCH_IGNORE)
            context_apply(r->ctx, r->c, src, *ri, &m->fields, ts);
        break;
    }
    return m->what;
}

static size_t eval_clears(rules *r, size_t src, const line_ctx *lc, match *out, size_t max)
{
    size_t n = 0;
    for (const size_t *ri = r->by_source[src]; *ri != SIZE_MAX && n < max; ri++) {
        const crule *cr = &r->v[*ri];
        if (cr->cfg->kind != RULE_STATE)
            continue;
        fields_clear(&out[n].fields);
        if (try_pattern(r, &cr->resolve, lc, &out[n].fields) == 1)
            out[n].what = MATCH_RESOLVE;
        else if (try_pattern(r, &cr->pending, lc, &out[n].fields) == 1)
            out[n].what = MATCH_PENDING;
        else
            continue;
        out[n].rule = *ri;
        r->stats.matches[*ri]++;
        n++;
    }
    return n;
}

enum match_what rules_eval_line(rules *r, size_t src, const char *line, size_t len, uint64_t ts, match *m,
                                match *clears, size_t max, size_t *nclears)
{
    line_ctx lc = { .s = line, .len = len };
    fields_clear(&m->fields);
    m->what = MATCH_NONE;
    *nclears = 0;
    r->stats.lines++;
    if (src >= r->c->nsources || !prefilter_line(r, src, &lc))
        return MATCH_NONE;
    eval_first(r, src, &lc, ts, m);
    json_object_put(lc.json);
    if (m->what == MATCH_NONE || m->what == MATCH_FIRE)
        *nclears = eval_clears(r, src, &lc, clears, max);
    return m->what;
}

enum match_what rules_eval(rules *r, size_t src, const char *line, size_t len, uint64_t ts, match *m)
{
    size_t none;
    return rules_eval_line(r, src, line, len, ts, m, NULL, 0, &none);
}

size_t rules_eval_clears(rules *r, size_t src, const char *line, size_t len, match *out, size_t max)
{
    line_ctx lc = { .s = line, .len = len };
    if (src >= r->c->nsources || !prefilter_line(r, src, &lc))
        return 0;
    return eval_clears(r, src, &lc, out, max);
}

bool rules_flatline_activity(rules *r, size_t ri, const char *line, size_t len)
{
    const crule *cr = &r->v[ri];
    line_ctx lc = { .s = line, .len = len };
    if (cr->nmatch == 0)
        return true;
    fieldset f = {0};
    bool hit = false;
    for (size_t i = 0; i < cr->nmatch && !hit; i++)
        hit = try_pattern(r, &cr->match[i], &lc, &f) == 1;
    fields_free(&f);
    return hit;
}

void rules_reset_context(rules *r)
{
    context_table_clear(r->ctx);
}

const rules_stats *rules_get_stats(const rules *r)
{
    return &r->stats;
}

bool rules_applies(const rules *r, size_t ri, size_t src)
{
    return ri < r->n && src < r->c->nsources && r->v[ri].applies[src];
}
