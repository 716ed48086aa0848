/* What every network backend shares: a curl easy handle with pcmon's safe defaults, results,
 * secret handling and the retry arithmetic. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "notify_backend.h"
#include "template.h"

/* A connection that takes longer than this is not going to work; the total timeout is cfg's. */
#define CONNECT_TIMEOUT_MAX (10 * USEC_PER_SEC)

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    notify_xfer *x = ud;
    size_t n = size * nmemb;
    if (x->resp.len < XFER_RESP_MAX)
        strbuf_add(&x->resp, p, n < XFER_RESP_MAX - x->resp.len ? n : XFER_RESP_MAX - x->resp.len);
    return n;
}

/* Retry-After in seconds, for a libcurl without CURLINFO_RETRY_AFTER (< 7.66). */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    notify_xfer *x = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        _cleanup_free_ char *v = xstrndup(p + sizeof name - 1, n - (sizeof name - 1));
        char *end;
        unsigned long long secs = strtoull(v, &end, 10);
        if (end != v && secs < 86400)
            x->retry_after = secs * USEC_PER_SEC;
    }
    return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
    notify_xfer *x = ud;
    size_t left = x->req.len - x->req_off, n = size * nmemb < left ? size * nmemb : left;
    memcpy(p, x->req.s + x->req_off, n);
    x->req_off += n;
    return n;
}

static void set_protocols(CURL *c, bool mail)
{
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, mail ? "smtp,smtps" : "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, mail ? (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS)
                                                : (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

notify_xfer *notify_xfer_new(notify_job *j, const char *url)
{
    const notifier_cfg *cfg = j->n->cfg;
    notify_xfer *x = xcalloc(1, sizeof *x);
    x->job = j;
    x->easy = curl_easy_init();
    if (!x->easy) {
        fputs("pcmon: out of memory (curl_easy_init)\n", stderr);
        abort();
    }
    CURL *c = x->easy;
    uint64_t total = cfg->timeout ? cfg->timeout : 10 * USEC_PER_SEC;
    uint64_t conn = total < CONNECT_TIMEOUT_MAX ? total : CONNECT_TIMEOUT_MAX;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(total / USEC_PER_MSEC));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(conn / USEC_PER_MSEC));
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pcmon/" PCMON_VERSION);
    set_protocols(c, strncasecmp(url, "smtp", 4) == 0);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, cfg->insecure_skip_verify ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, cfg->insecure_skip_verify ? 0L : 2L);
    if (cfg->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    j->x = xgrow(j->x, &j->cap, j->nx + 1, sizeof *j->x);
    j->x[j->nx++] = x;
    return x;
}

void notify_xfer_post(notify_xfer *x, const char *content_type)
{
    _cleanup_free_ char *h = xasprintf("Content-Type: %s", content_type);
    notify_xfer_header(x, h);
    curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->req.s ? x->req.s : "");
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.len);
}

void notify_xfer_upload(notify_xfer *x)
{
    curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->req.len);
}

void notify_xfer_header(notify_xfer *x, const char *header)
{
    struct curl_slist *h = curl_slist_append(x->headers, header);
    if (!h) {
        fputs("pcmon: out of memory (curl_slist_append)\n", stderr);
        abort();
    }
    x->headers = h;
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
}

void notify_job_clear(notify_job *j)
{
    for (size_t i = 0; i < j->nx; i++) {
        notify_xfer *x = j->x[i];
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->headers);
        strbuf_free(&x->req);
        strbuf_free(&x->resp);
        free(x);
    }
    j->nx = 0;
}

notify_result nr_ok(void)
{
    return (notify_result){ .v = NV_OK };
}

notify_result nr_retry(uint64_t after, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return (notify_result){ .v = NV_RETRY, .retry_after = after, .reason = s };
}

notify_result nr_dead(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return (notify_result){ .v = NV_DEAD, .reason = s };
}

notify_result nr_from_curl(const notify_xfer *x)
{
    const char *what = x->code == CURLE_OPERATION_TIMEDOUT ? "timed out" : "failed";
    return nr_retry(0, "%s: %s", what, x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code));
}

char *url_redact(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return xstrdup("(url)");
    const char *host = p + 3, *end = host + strcspn(host, "/?#");
    const char *at = memchr(host, '@', (size_t)(end - host));
    if (at)
        host = at + 1;
    return xasprintf("%.*s://%.*s", (int)(p - url), url, (int)(end - host), host);
}

char *redact_secrets(const char *s, char *const *secrets, size_t n)
{
    strbuf b = {0};
    strbuf_adds(&b, "");
    while (*s) {
        size_t hit = 0;
        for (size_t i = 0; i < n; i++)
            if (secrets[i] && secrets[i][0] && str_startswith(s, secrets[i]))
                hit = strlen(secrets[i]) > hit ? strlen(secrets[i]) : hit;
        if (hit) {
            strbuf_adds(&b, "\xe2\x80\xa6");
            s += hit;
        } else {
            strbuf_addc(&b, *s++);
        }
    }
    return strbuf_take(&b);
}

int read_secret(const char *path, char **out)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file(path, 65536, &text, &len);
    if (r < 0)
        return r;
    char *p = text + strspn(text, " \t\r\n");
    size_t n = strcspn(p, "\r\n");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return -ENODATA;
    *out = xstrndup(p, n);
    return 0;
}

char *printable(const char *s, size_t n)
{
    strbuf u = {0}, b = {0};
    strbuf_adds(&b, "");
    utf8_append(&u, s, strnlen(s, n));
    for (size_t i = 0; i < u.len; i++) {
        unsigned char c = (unsigned char)u.s[i];
        strbuf_addc(&b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    strbuf_free(&u);
    return strbuf_take(&b);
}

uint64_t notify_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t notify_backoff(uint64_t base, uint64_t max, unsigned attempts, uint64_t *rand_state)
{
    uint64_t d = base ? base : USEC_PER_SEC;
    for (unsigned i = 1; i < attempts && d < max; i++)
        d *= 2;
    if (max && d > max)
        d = max;
    uint64_t half = d / 2;
    return half + (half ? notify_rand(rand_state) % (half + 1) : 0);
}
