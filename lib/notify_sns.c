/* sns notifier: Amazon SNS Publish, signed by libcurl (CURLOPT_AWS_SIGV4) with the instance
 * role's temporary credentials from IMDSv2 (token PUT, role name, credentials), refreshed five
 * minutes before they expire. Each step is one transfer of the same job, so nothing blocks.
 * libcurl signs reliably from 7.86.0 (29c4aa00a1 fixed the header computation); below that the
 * notifier reports "SNS unavailable" instead of signing badly. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "macro.h"
#include "notify_backend.h"
#include "template.h"
#include "timeparse.h"

#define SIGV4_MIN_VERSION 0x075600                /* 7.86.0 */
#define CREDS_REFRESH (300 * USEC_PER_SEC)        /* AWS: refresh ~5 min before Expiration */
#define IMDS_TOKEN_TTL 21600                      /* seconds, the IMDSv2 maximum */
#define SUBJECT_MAX 99                            /* SNS: ASCII, under 100 characters */
#define MESSAGE_MAX ((size_t)200 << 10)           /* SNS: 256 KB, less room for the form */
#define IMDS_HINT " (IMDS unreachable? On ParallelCluster, allow pcmon's user with " \
                  "/opt/parallelcluster/scripts/imds/imds-access.sh --allow USER)"

enum { T_TOKEN = 1, T_ROLE, T_CREDS, T_PUBLISH };

typedef struct sns_priv {
    char *topic, *region, *endpoint, *imds, *sigv4;
    char *imds_token, *role;
    uint64_t imds_token_exp;
    char *akid, *secret, *token;
    uint64_t expiration;
} sns_priv;

static void urlenc(strbuf *b, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
            strbuf_addc(b, (char)c);
        else
            strbuf_addf(b, "%%%02X", c);
    }
}

static void param(strbuf *b, const char *name, const char *value, size_t max)
{
    strbuf_addf(b, "&%s=", name);
    urlenc(b, value, max);
}

/* SNS subjects: printable ASCII only, no line breaks, under 100 characters. */
static char *sns_subject(const alert *a)
{
    const char *cluster = fields_get(&a->labels, "cluster");
    _cleanup_free_ char *s = xasprintf("[%s%s%s%s]%s%s %s", a->test ? "TEST " : "", a->resolved ? "RESOLVED" : "FIRING",
                                       a->resolved || !a->severity ? "" : " ", a->resolved || !a->severity ? "" : a->severity,
                                       cluster && cluster[0] ? " " : "", cluster ? cluster : "",
                                       a->title && a->title[0] ? a->title : a->rule);
    char *o = xstrndup(s, strnlen(s, SUBJECT_MAX));
    for (char *p = o; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = (unsigned char)*p >= 0x80 ? '?' : ' ';
    return o;
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

char *sns_publish_body(const alert *a, const char *topic_arn)
{
    strbuf b = {0}, m = {0};
    strbuf_adds(&b, "Action=Publish&Version=2010-03-31");
    param(&b, "TopicArn", topic_arn, SIZE_MAX);
    _cleanup_free_ char *subj = sns_subject(a), *text = alert_format_text(a, false);
    param(&b, "Subject", subj, SIZE_MAX);
    strbuf_adds(&m, text);
    for (size_t i = 0; i < a->nlines; i++)
        strbuf_addf(&m, "%s  %s", i ? "\n" : "\n\ncontributing log lines:\n", a->lines[i]);
    strbuf u = {0};
    utf8_append(&u, m.s, m.len);
    size_t cut = u.len < MESSAGE_MAX ? u.len : MESSAGE_MAX;
    while (cut < u.len && cut > 0 && ((unsigned char)u.s[cut] & 0xc0) == 0x80)
        cut--;
    param(&b, "Message", u.s ? u.s : "", cut);
    size_t tl = strlen(topic_arn);
    if (tl > 5 && strcmp(topic_arn + tl - 5, ".fifo") == 0) {   /* FIFO topics need both */
        char id[40];
        uint64_t h = fnv1a(a->group_key ? a->group_key : a->rule, UINT64_C(14695981039346656037));
        snprintf(id, sizeof id, "%016llx%016llx", (unsigned long long)h,
                 (unsigned long long)(a->last_seen ^ a->count ^ (a->resolved ? 1u : 0u)));
        param(&b, "MessageGroupId", a->rule ? a->rule : "pcmon", 128);
        param(&b, "MessageDeduplicationId", id, SIZE_MAX);
    }
    strbuf_free(&m);
    strbuf_free(&u);
    return strbuf_take(&b);
}

char *sns_region_of(const char *arn)
{
    /* arn:PARTITION:sns:REGION:ACCOUNT:NAME */
    const char *p = arn;
    for (int i = 0; i < 3; i++) {
        p = strchr(p, ':');
        if (!p)
            return NULL;
        p++;
    }
    size_t n = strcspn(p, ":");
    return n && p[n] == ':' ? xstrndup(p, n) : NULL;
}

static int sns_init(notifier *n, char **err)
{
    const notifier_cfg *c = n->cfg;
    sns_priv *p = xcalloc(1, sizeof *p);
    n->priv = p;
    unsigned long v = n->curl_version;
    if (v < SIGV4_MIN_VERSION || LIBCURL_VERSION_NUM < SIGV4_MIN_VERSION) {
        if (LIBCURL_VERSION_NUM < v)
            v = LIBCURL_VERSION_NUM;
        *err = xasprintf("SNS unavailable: libcurl %lu.%lu.%lu (signing SNS requests needs libcurl 7.86.0 or "
                         "later)", v >> 16, (v >> 8) & 0xff, v & 0xff);
        return -ENOTSUP;
    }
    p->topic = xstrdup(c->topic_arn ? c->topic_arn : "");
    p->region = c->region ? xstrdup(c->region) : sns_region_of(p->topic);
    if (!p->region) {
        *err = xasprintf("unavailable: no region (give region, or a topic_arn arn:aws:sns:REGION:ACCOUNT:NAME)");
        return -EINVAL;
    }
    p->endpoint = c->endpoint ? xstrdup(c->endpoint) : xasprintf("https://sns.%s.amazonaws.com/", p->region);
    p->imds = xstrdup(c->imds_endpoint ? c->imds_endpoint : "http://169.254.169.254");
    size_t il = strlen(p->imds);
    while (il > 0 && p->imds[il - 1] == '/')
        p->imds[--il] = '\0';
    p->sigv4 = xasprintf("aws:amz:%s:sns", p->region);
    n->target = url_redact(p->endpoint);
    return 0;
}

static void forget_creds(notifier *n, sns_priv *p)
{
    free(p->akid);
    free(p->secret);
    free(p->token);
    p->akid = p->secret = p->token = NULL;
    p->expiration = 0;
    for (size_t i = 0; i < 2; i++) {
        free(n->secrets[i]);
        n->secrets[i] = NULL;
    }
}

static void sns_done(notifier *n)
{
    sns_priv *p = n->priv;
    if (!p)
        return;
    forget_creds(n, p);
    free(p->topic);
    free(p->region);
    free(p->endpoint);
    free(p->imds);
    free(p->sigv4);
    free(p->imds_token);
    free(p->role);
    free(p);
}

static void imds_xfer(notify_job *j, sns_priv *p, int tag, const char *path)
{
    _cleanup_free_ char *url = xasprintf("%s%s", p->imds, path);
    notify_xfer *x = notify_xfer_new(j, url);
    x->tag = tag;
    if (tag == T_TOKEN) {
        curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, "");
        notify_xfer_header(x, "X-aws-ec2-metadata-token-ttl-seconds: 21600");   /* IMDS_TOKEN_TTL */
    } else {
        _cleanup_free_ char *h = xasprintf("X-aws-ec2-metadata-token: %s", p->imds_token);
        notify_xfer_header(x, h);
    }
}

static void publish_xfer(notify_job *j, sns_priv *p, const alert *a)
{
    notify_xfer *x = notify_xfer_new(j, p->endpoint);
    x->tag = T_PUBLISH;
    _cleanup_free_ char *body = sns_publish_body(a, p->topic);
    strbuf_adds(&x->req, body);
    /* The SigV4 payload hash is taken from POSTFIELDS only: no read callback, no MIME. */
    notify_xfer_post(x, "application/x-www-form-urlencoded; charset=utf-8");
#if LIBCURL_VERSION_NUM >= 0x074b00
    curl_easy_setopt(x->easy, CURLOPT_AWS_SIGV4, p->sigv4);
#endif
    curl_easy_setopt(x->easy, CURLOPT_USERNAME, p->akid);
    curl_easy_setopt(x->easy, CURLOPT_PASSWORD, p->secret);
    if (p->token) {
        _cleanup_free_ char *h = xasprintf("x-amz-security-token: %s", p->token);
        notify_xfer_header(x, h);
    }
}

/* Adds the next step towards a publish: IMDS token, role, credentials, then the publish. */
static void next_step(notify_job *j, sns_priv *p, const alert *a, uint64_t now)
{
    if (p->akid && now + CREDS_REFRESH < p->expiration)
        publish_xfer(j, p, a);
    else if (!p->imds_token || now + 60 * USEC_PER_SEC >= p->imds_token_exp)
        imds_xfer(j, p, T_TOKEN, "/latest/api/token");
    else if (!p->role)
        imds_xfer(j, p, T_ROLE, "/latest/meta-data/iam/security-credentials/");
    else {
        _cleanup_free_ char *path = xasprintf("/latest/meta-data/iam/security-credentials/%s", p->role);
        imds_xfer(j, p, T_CREDS, path);
    }
}

static int sns_start(notifier *n, notify_job *j, const alert *a, uint64_t now, char **err)
{
    next_step(j, n->priv, a, now);
    return 0;
}

static const char *jget(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

static int take_creds(notifier *n, sns_priv *p, const char *text)
{
    json_object *o = json_tokener_parse(text);
    const char *akid = jget(o, "AccessKeyId"), *sec = jget(o, "SecretAccessKey"), *tok = jget(o, "Token"),
               *exp = jget(o, "Expiration"), *code = jget(o, "Code");
    uint64_t t = 0;
    int r = -EINVAL;
    if (akid && sec && exp && (!code || str_eq(code, "Success")) && ts_parse(exp, strlen(exp), &t) > 0) {
        forget_creds(n, p);
        p->akid = xstrdup(akid);
        p->secret = xstrdup(sec);
        p->token = tok ? xstrdup(tok) : NULL;
        p->expiration = t;
        n->secrets[0] = xstrdup(sec);
        n->secrets[1] = tok ? xstrdup(tok) : NULL;
        r = 0;
    }
    json_object_put(o);
    return r;
}

/* The <Code> of an AWS XML error, or "". Caller frees. */
static char *aws_code(const char *xml)
{
    const char *s = xml ? strstr(xml, "<Code>") : NULL, *e = s ? strstr(s, "</Code>") : NULL;
    return s && e ? printable(s + 6, (size_t)(e - s - 6)) : xstrdup("");
}

static notify_result imds_failed(const notify_xfer *x, const char *what)
{
    if (x->code != CURLE_OK)
        return nr_retry(0, "IMDS %s: %s" IMDS_HINT, what, x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code));
    return nr_retry(0, "IMDS %s: HTTP %ld", what, x->status);
}

static notify_result publish_result(notifier *n, sns_priv *p, notify_xfer *x)
{
    if (x->code != CURLE_OK)
        return nr_from_curl(x);
    if (x->status == 200)
        return nr_ok();
    _cleanup_free_ char *code = aws_code(x->resp.s);
    if (str_eq(code, "ExpiredToken") || str_eq(code, "InvalidClientTokenId") || str_eq(code, "RequestExpired")) {
        forget_creds(n, p);   /* fetched anew on the retry */
        return nr_retry(100 * USEC_PER_MSEC, "HTTP %ld %s: credentials refreshed", x->status, code);
    }
    if (x->status >= 500 || x->status == 429 || str_eq(code, "Throttling") || str_eq(code, "ThrottledException"))
        return nr_retry(x->retry_after, "HTTP %ld %s", x->status, code);
    return nr_dead("HTTP %ld %s", x->status, code[0] ? code : "(no error code)");
}

/* One IMDS step's answer: 0 when it moved on, or a failure. */
static notify_result imds_step(notifier *n, sns_priv *p, notify_xfer *x, const char *body, uint64_t now)
{
    bool ok = x->code == CURLE_OK && x->status == 200;
    if (x->status == 401)   /* the IMDS token expired or was refused: take a new one */
        p->imds_token_exp = 0;
    switch (x->tag) {
    case T_TOKEN:
        if (!ok || !body[0])
            return imds_failed(x, "token");
        free(p->imds_token);
        p->imds_token = xstrndup(body, strcspn(body, "\r\n"));
        p->imds_token_exp = now + IMDS_TOKEN_TTL * USEC_PER_SEC;
        break;
    case T_ROLE:
        body += strspn(body, " \r\n");
        if (!ok || !body[0])
            return imds_failed(x, "role");
        free(p->role);
        p->role = xstrndup(body, strcspn(body, " \r\n"));
        break;
    default:
        if (x->status == 404) {   /* the role changed */
            free(p->role);
            p->role = NULL;
        }
        if (!ok)
            return imds_failed(x, "credentials");
        if (take_creds(n, p, body) < 0)
            return nr_retry(0, "IMDS credentials: unexpected answer");
        break;
    }
    return (notify_result){ .v = NV_CONTINUE };
}

static notify_result sns_finish(notifier *n, notify_job *j, const alert *a, uint64_t now)
{
    sns_priv *p = n->priv;
    notify_xfer *x = j->x[j->nx - 1];
    if (x->tag == T_PUBLISH)
        return publish_result(n, p, x);
    notify_result r = imds_step(n, p, x, x->resp.s ? x->resp.s : "", now);
    bool usable = p->akid && now < p->expiration;
    if (r.v == NV_RETRY && usable) {   /* IMDS trouble while the old credentials still work */
        free(r.reason);
        publish_xfer(j, p, a);
        return (notify_result){ .v = NV_CONTINUE };
    }
    if (r.v != NV_CONTINUE)
        return r;
    if (x->tag == T_CREDS)   /* fresh credentials: publish, even when they expire soon */
        publish_xfer(j, p, a);
    else
        next_step(j, p, a, now);
    return r;
}

const notify_backend notify_sns_backend = {
    .type = "sns",
    .init = sns_init,
    .done = sns_done,
    .start = sns_start,
    .finish = sns_finish,
};
