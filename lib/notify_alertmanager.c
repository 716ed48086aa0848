/* alertmanager notifier: POST /api/v2/alerts (Alertmanager's v2 API) to every configured peer at
 * once, as Prometheus does for an HA pair; the alert is delivered when one peer accepted it
 * (peers share notification state through their cluster). Labels identify the alert (alertname =
 * rule id, plus the group labels: cluster, queue, ...), annotations carry the text; a resolved
 * alert is sent with endsAt, so Alertmanager resolves it. A firing alert carries no endsAt:
 * Alertmanager's resolve_timeout applies, so set it above pcmon's repeat_interval. */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "macro.h"
#include "notify_backend.h"
#include "template.h"
#include "timeparse.h"

#define PEERS_MAX 8

typedef struct am_priv {
    char *urls[PEERS_MAX];
    size_t n;
} am_priv;

static json_object *jstr(const char *s)
{
    strbuf b = {0};
    utf8_append(&b, s ? s : "", s ? strlen(s) : 0);
    json_object *o = json_object_new_string_len(b.s ? b.s : "", (int)b.len);
    strbuf_free(&b);
    return o;
}

/* Alertmanager label names match [a-zA-Z_][a-zA-Z0-9_]*. */
static char *label_name(const char *s)
{
    char *n = xasprintf("%s%s", s[0] && !isdigit((unsigned char)s[0]) ? "" : "_", s);
    for (char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            *p = '_';
    return n;
}

static void add_set(json_object *o, const fieldset *f)
{
    for (size_t i = 0; i < f->n; i++) {
        _cleanup_free_ char *k = label_name(f->v[i].name);
        if (!json_object_object_get_ex(o, k, NULL))
            json_object_object_add(o, k, jstr(f->v[i].value));
    }
}

char *alertmanager_payload(const alert *a, const char *cluster, uint64_t now)
{
    json_object *al = json_object_new_object(), *labels = json_object_new_object(),
                *ann = json_object_new_object();
    json_object_object_add(labels, "alertname", jstr(a->rule));
    if (a->severity && a->severity[0])
        json_object_object_add(labels, "severity", jstr(a->severity));
    if (a->test)
        json_object_object_add(labels, "pcmon_test", jstr("true"));
    add_set(labels, &a->labels);
    if (cluster && cluster[0] && !json_object_object_get_ex(labels, "cluster", NULL))
        json_object_object_add(labels, "cluster", jstr(cluster));
    json_object_object_add(ann, "summary", jstr(a->title && a->title[0] ? a->title : a->rule));
    json_object_object_add(ann, "description", jstr(a->text ? a->text : ""));
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)a->count);
    json_object_object_add(ann, "count", jstr(num));
    if (a->nlines) {
        _cleanup_free_ char *l = a->nlines > 1 ? xasprintf("%s (+%zu more)", a->lines[0], a->nlines - 1)
                                               : xstrdup(a->lines[0]);
        json_object_object_add(ann, "lines", jstr(l));
    }
    add_set(ann, &a->fields);
    json_object_object_add(al, "labels", labels);
    json_object_object_add(al, "annotations", ann);
    char t[64];
    uint64_t start = a->first_seen ? a->first_seen : now;
    json_object_object_add(al, "startsAt", jstr(ts_format(start, t, sizeof t)));
    if (a->resolved) {
        uint64_t end = a->last_seen ? a->last_seen : now;
        json_object_object_add(al, "endsAt", jstr(ts_format(end < start ? start : end, t, sizeof t)));
    }
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, al);
    char *s = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    return s;
}

static void add_peer(notifier *n, am_priv *p, const char *url, strbuf *targets)
{
    if (p->n >= PEERS_MAX || !url[0])
        return;
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    p->urls[p->n++] = xasprintf("%.*s/api/v2/alerts", (int)len, url);
    _cleanup_free_ char *r = url_redact(url);
    strbuf_addf(targets, "%s%s", targets->len ? " " : "", r);
    if (strchr(url, '@') && p->n <= NOTIFIER_SECRETS)   /* user:password@host */
        n->secrets[p->n - 1] = xstrdup(url);
}

static int am_init(notifier *n, char **err)
{
    am_priv *p = xcalloc(1, sizeof *p);
    n->priv = p;
    strbuf targets = {0};
    _cleanup_free_ char *text = NULL;
    if (n->cfg->url_file) {
        size_t len;
        int r = read_file(n->cfg->url_file, 65536, &text, &len);
        if (r < 0) {
            *err = xasprintf("unavailable: url_file %s: %s", n->cfg->url_file, strerror(-r));
            strbuf_free(&targets);
            return r;
        }
    }
    for (size_t i = 0; i < n->cfg->nurls; i++)
        add_peer(n, p, n->cfg->urls[i], &targets);
    if (n->cfg->nurls == 0 && n->cfg->url && !text)
        add_peer(n, p, n->cfg->url, &targets);
    for (char *save = NULL, *tok = text ? strtok_r(text, " \t\r\n", &save) : NULL; tok;
         tok = strtok_r(NULL, " \t\r\n", &save))
        add_peer(n, p, tok, &targets);
    n->target = strbuf_take(&targets);
    if (p->n == 0) {
        *err = xstrdup("unavailable: no Alertmanager URL");
        return -EINVAL;
    }
    return 0;
}

static void am_done(notifier *n)
{
    am_priv *p = n->priv;
    for (size_t i = 0; p && i < p->n; i++)
        free(p->urls[i]);
    free(p);
}

static int am_start(notifier *n, notify_job *j, const alert *a, uint64_t now, char **err)
{
    am_priv *p = n->priv;
    _cleanup_free_ char *body = alertmanager_payload(a, NULL, now);
    for (size_t i = 0; i < p->n; i++) {
        notify_xfer *x = notify_xfer_new(j, p->urls[i]);
        x->tag = (int)i;
        strbuf_adds(&x->req, body);
        notify_xfer_post(x, "application/json");
    }
    return 0;
}

static notify_result am_finish(notifier *n, notify_job *j, const alert *a, uint64_t now)
{
    strbuf why = {0};
    bool permanent = true;
    uint64_t after = 0;
    for (size_t i = 0; i < j->nx; i++) {
        notify_xfer *x = j->x[i];
        if (x->code == CURLE_OK && x->status >= 200 && x->status < 300) {
            strbuf_free(&why);
            return nr_ok();
        }
        _cleanup_free_ char *peer = url_redact(((am_priv *)n->priv)->urls[x->tag]);
        _cleanup_free_ char *body = printable(x->resp.s ? x->resp.s : "", 160);
        if (x->code != CURLE_OK)
            strbuf_addf(&why, "%s%s: %s", why.len ? "; " : "", peer,
                        x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code));
        else
            strbuf_addf(&why, "%s%s: HTTP %ld %s", why.len ? "; " : "", peer, x->status, body);
        bool perm = x->code == CURLE_OK && x->status >= 400 && x->status < 500 && x->status != 429;
        permanent = permanent && perm;
        if (x->retry_after > after)
            after = x->retry_after;
    }
    notify_result r = permanent ? nr_dead("%s", why.s) : nr_retry(after, "%s", why.s);
    strbuf_free(&why);
    return r;
}

const notify_backend notify_alertmanager_backend = {
    .type = "alertmanager",
    .init = am_init,
    .done = am_done,
    .start = am_start,
    .finish = am_finish,
};
