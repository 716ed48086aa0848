/* slack notifier: an incoming webhook gets Block Kit (header, summary, key fields, context) with
 * a plain `text` fallback and the contributing lines in an attachment whose bar carries the
 * severity colour. Sizes stay well inside Slack's limits (section text 3,000, header 150, field
 * 2,000, 50 blocks, and ~12k of blocks in total, past which Slack answers msg_blocks_too_long);
 * whatever does not fit is counted ("…and N more"). Log text can never mention or link: & < >
 * are escaped in every mrkdwn string. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "macro.h"
#include "notify_backend.h"
#include "template.h"
#include "timeparse.h"

#define HEADER_MAX 150          /* Slack: header text */
#define SECTION_MAX 2900        /* Slack: 3,000 per section text, less room for "…" */
#define FIELD_MAX 1900          /* Slack: 2,000 per section field */
#define FIELDS_PER_SECTION 10   /* Slack: at most 10 fields in a section */
#define FIELDS_MAX 20
#define FIELDS_BUDGET 4000      /* all field texts together */
#define LINES_BUDGET 2700       /* the contributing lines' code block */
#define FALLBACK_MAX 2000
#define ELLIPSIS "\xe2\x80\xa6"

/* Slack allows about one message per second per webhook, with short bursts (api.slack.com rate
 * limits); pacing here keeps a storm from ever earning a 429. */
#define SLACK_INTERVAL USEC_PER_SEC

typedef struct slack_priv {
    char *url;
} slack_priv;

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

size_t slack_escape(strbuf *b, const char *s, size_t len, size_t cap)
{
    size_t used = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : NULL;
        size_t in = rep ? 1 : utf8_len(c), out = rep ? strlen(rep) : in;
        if (i + in > len || used + out > cap)
            break;
        if (rep)
            strbuf_adds(b, rep);
        else
            strbuf_add(b, s + i, in);
        used += out;
        i += in;
    }
    return i;
}

/* s as valid UTF-8, escaped for mrkdwn, at most cap bytes: "…" marks a cut. Caller frees. */
static char *mrkdwn(const char *s, size_t cap)
{
    strbuf u = {0}, b = {0};
    strbuf_adds(&b, "");
    utf8_append(&u, s ? s : "", s ? strlen(s) : 0);
    if (slack_escape(&b, u.s ? u.s : "", u.len, cap) < u.len) {
        strbuf_reset(&b);
        slack_escape(&b, u.s, u.len, cap > 3 ? cap - 3 : 0);
        strbuf_adds(&b, ELLIPSIS);
    }
    strbuf_free(&u);
    return strbuf_take(&b);
}

/* Plain text (header, fallback): valid UTF-8, newlines as spaces, at most cap bytes. */
static char *plain(const char *s, size_t cap)
{
    strbuf u = {0};
    utf8_append(&u, s ? s : "", s ? strlen(s) : 0);
    for (size_t i = 0; i < u.len; i++)
        if (u.s[i] == '\n' || u.s[i] == '\r' || u.s[i] == '\t')
            u.s[i] = ' ';
    if (u.len > cap) {
        size_t cut = cap - 3;
        while (cut > 0 && ((unsigned char)u.s[cut] & 0xc0) == 0x80)
            cut--;
        u.len = cut;
        strbuf_adds(&u, ELLIPSIS);
    }
    strbuf_adds(&u, "");
    return strbuf_take(&u);
}

static const char *emoji(const alert *a)
{
    if (a->test)
        return "\xf0\x9f\xa7\xaa";                       /* test tube */
    if (a->resolved)
        return "\xe2\x9c\x85";                           /* white heavy check mark */
    if (str_eq(a->severity, "critical"))
        return "\xf0\x9f\x94\xb4";                       /* red circle */
    if (str_eq(a->severity, "warning"))
        return "\xf0\x9f\x9f\xa0";                       /* orange circle */
    return "\xe2\x84\xb9\xef\xb8\x8f";                   /* information source */
}

static const char *colour(const alert *a)
{
    if (a->resolved)
        return "#2eb67d";
    if (str_eq(a->severity, "critical"))
        return "#d00000";
    if (str_eq(a->severity, "warning"))
        return "#e8a200";
    return "#439fe0";
}

static json_object *text_obj(const char *type, char *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "text", json_object_new_string(s));
    if (str_eq(type, "plain_text"))
        json_object_object_add(o, "emoji", json_object_new_boolean(1));
    free(s);
    return o;
}

static json_object *block(const char *type, const char *key, json_object *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, key, v);
    return o;
}

static char *state_word(const alert *a)
{
    return xasprintf("%s%s%s%s", a->test ? "TEST " : "", a->resolved ? "RESOLVED" : "FIRING",
                     a->resolved || !a->severity ? "" : " ", a->resolved || !a->severity ? "" : a->severity);
}

/* Section blocks of "*name*\nvalue" fields: labels, then fields, within the count and size budget. */
static void add_fields(json_object *blocks, const alert *a)
{
    const fieldset *sets[] = { &a->labels, &a->fields };
    json_object *sec = NULL;
    size_t shown = 0, total = a->labels.n + a->fields.n, budget = FIELDS_BUDGET;
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < sets[s]->n && shown < FIELDS_MAX && budget > 64; i++) {
            _cleanup_free_ char *name = mrkdwn(sets[s]->v[i].name, 100);
            size_t cap = FIELD_MAX < budget ? FIELD_MAX : budget;
            _cleanup_free_ char *val = mrkdwn(sets[s]->v[i].value, cap - strlen(name) - 4);
            char *t = xasprintf("*%s*\n%s", name, val);
            budget -= strlen(t) < budget ? strlen(t) : budget;
            if (shown++ % FIELDS_PER_SECTION == 0) {
                sec = json_object_new_array();
                json_object_array_add(blocks, block("section", "fields", sec));
            }
            json_object_array_add(sec, text_obj("mrkdwn", t));
        }
    if (shown < total) {
        json_object *els = json_object_new_array();
        json_object_array_add(els, text_obj("mrkdwn", xasprintf(ELLIPSIS "and %zu more fields", total - shown)));
        json_object_array_add(blocks, block("context", "elements", els));
    }
}

static char *lines_text(const alert *a)
{
    strbuf b = {0};
    strbuf_addf(&b, "*Contributing log lines* (%zu)\n```", a->nlines);
    size_t i = 0, start = b.len;
    for (; i < a->nlines; i++) {
        _cleanup_free_ char *l = mrkdwn(a->lines[i], 512);
        if (b.len - start + strlen(l) + 1 > LINES_BUDGET)
            break;
        strbuf_addf(&b, "%s%s", i ? "\n" : "", l);
    }
    strbuf_adds(&b, "```");
    if (i < a->nlines)
        strbuf_addf(&b, "\n" ELLIPSIS "and %zu more", a->nlines - i);
    return strbuf_take(&b);
}

static char *context_text(const alert *a)
{
    char t1[64], t2[64];
    _cleanup_free_ char *rule = mrkdwn(a->rule, 100), *sev = mrkdwn(a->severity ? a->severity : "-", 20);
    return xasprintf("rule `%s` \xc2\xb7 %s \xc2\xb7 %llu occurrence%s \xc2\xb7 first %s \xc2\xb7 last %s%s", rule,
                     sev, (unsigned long long)a->count, a->count == 1 ? "" : "s", ts_format(a->first_seen, t1, sizeof t1),
                     ts_format(a->last_seen, t2, sizeof t2), a->test ? " \xc2\xb7 *test alert*" : "");
}

char *slack_payload(const alert *a)
{
    _cleanup_free_ char *sw = state_word(a);
    _cleanup_free_ char *title = xasprintf("%s [%s] %s", emoji(a), sw, a->title && a->title[0] ? a->title : a->rule);
    _cleanup_free_ char *cluster = xstrdup(fields_get(&a->labels, "cluster") ? fields_get(&a->labels, "cluster") : "");
    _cleanup_free_ char *fb = xasprintf("%s%s%s", title, cluster[0] ? " \xe2\x80\x94 cluster " : "", cluster);
    json_object *o = json_object_new_object(), *blocks = json_object_new_array();
    _cleanup_free_ char *fallback = mrkdwn(fb, FALLBACK_MAX);
    json_object_object_add(o, "text", json_object_new_string(fallback));
    json_object_array_add(blocks, block("header", "text", text_obj("plain_text", plain(title, HEADER_MAX))));
    if (a->text && a->text[0])
        json_object_array_add(blocks, block("section", "text", text_obj("mrkdwn", mrkdwn(a->text, SECTION_MAX))));
    add_fields(blocks, a);
    json_object *ctx = json_object_new_array();
    json_object_array_add(ctx, text_obj("mrkdwn", context_text(a)));
    json_object_array_add(blocks, block("context", "elements", ctx));
    json_object_object_add(o, "blocks", blocks);
    json_object *att = json_object_new_object(), *ablocks = json_object_new_array();
    json_object_object_add(att, "color", json_object_new_string(colour(a)));
    if (a->nlines)
        json_object_array_add(ablocks, block("section", "text", text_obj("mrkdwn", lines_text(a))));
    json_object_object_add(att, "blocks", ablocks);
    json_object *atts = json_object_new_array();
    json_object_array_add(atts, att);
    json_object_object_add(o, "attachments", atts);
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static int slack_init(notifier *n, char **err)
{
    slack_priv *p = xcalloc(1, sizeof *p);
    n->priv = p;
    if (n->cfg->url_file) {
        int r = read_secret(n->cfg->url_file, &p->url);
        if (r < 0) {
            *err = xasprintf("unavailable: url_file %s: %s", n->cfg->url_file, strerror(-r));
            return r;
        }
    } else {
        p->url = xstrdup(n->cfg->url ? n->cfg->url : "");
    }
    n->target = url_redact(p->url);
    const char *path = strstr(p->url, "://") ? strchr(strstr(p->url, "://") + 3, '/') : NULL;
    n->secrets[0] = xstrdup(p->url);
    n->secrets[1] = path && strlen(path) > 1 ? xstrdup(path) : NULL;
    /* A server or proxy may echo only the token (/services/T../B../TOKEN): scrub it on its own too. */
    const char *token = path ? strrchr(path, '/') + 1 : NULL;
    n->secrets[2] = token && strcspn(token, "?#") >= 8 ? xstrndup(token, strcspn(token, "?#")) : NULL;
    return 0;
}

static void slack_done(notifier *n)
{
    slack_priv *p = n->priv;
    if (p)
        free(p->url);
    free(p);
}

static int slack_start(notifier *n, notify_job *j, const alert *a, uint64_t now, char **err)
{
    slack_priv *p = n->priv;
    notify_xfer *x = notify_xfer_new(j, p->url);
    _cleanup_free_ char *body = slack_payload(a);
    strbuf_adds(&x->req, body);
    notify_xfer_post(x, "application/json; charset=utf-8");
    return 0;
}

static notify_result slack_finish(notifier *n, notify_job *j, const alert *a, uint64_t now)
{
    notify_xfer *x = j->x[0];
    if (x->code != CURLE_OK)
        return nr_from_curl(x);
    _cleanup_free_ char *body = printable(x->resp.s ? x->resp.s : "", 200);
    size_t len = strlen(body);
    while (len > 0 && body[len - 1] == ' ')   /* Slack answers "ok", some proxies add a newline */
        body[--len] = '\0';
    if (x->status == 200 && str_eq(body, "ok"))
        return nr_ok();
    if (x->status == 200)
        return nr_dead("HTTP 200 with body \"%s\" instead of \"ok\"", body);
    if (x->status == 429)
        return nr_retry(x->retry_after ? x->retry_after : USEC_PER_SEC, "rate limited (HTTP 429 %s)", body);
    if (x->status >= 500)
        return nr_retry(x->retry_after, "HTTP %ld %s", x->status, body);
    return nr_dead("HTTP %ld %s", x->status, body);
}

const notify_backend notify_slack_backend = {
    .type = "slack",
    .min_interval = SLACK_INTERVAL,
    .init = slack_init,
    .done = slack_done,
    .start = slack_start,
    .finish = slack_finish,
};
