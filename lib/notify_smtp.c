/* smtp notifier: an RFC 5322 message sent with libcurl's SMTP (smtp:// with STARTTLS required,
 * or smtps://), AUTH with a password from a file, several recipients. libcurl adds no headers of
 * its own, so Date, Message-ID, From, To, Subject (RFC 2047 when not ASCII) and the MIME headers
 * are written here; the body is UTF-8 text/plain, quoted-printable. Header values never carry a
 * CR or LF from log text or config, so nothing can inject a header (or a Bcc). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "notify_backend.h"
#include "template.h"

#define SUBJECT_MAX 200          /* bytes of subject text before encoding */
#define QP_LINE 76               /* RFC 2045: encoded lines at most 76 characters */
#define WORD_RAW 39              /* bytes per encoded-word: 52 base64 chars, a 73-octet first line */

typedef struct smtp_priv {
    char *password;
} smtp_priv;

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* s as valid UTF-8 without control characters (so no CR/LF), cut to at most max bytes on a
 * character boundary. */
static char *clean(const char *s, size_t max)
{
    strbuf u = {0}, b = {0};
    strbuf_adds(&b, "");
    utf8_append(&u, s ? s : "", s ? strlen(s) : 0);
    for (size_t i = 0; i < u.len; i++) {
        unsigned char c = (unsigned char)u.s[i];
        if (c == '\t' || c == '\n' || c == '\r')
            strbuf_addc(&b, ' ');
        else if (c >= 0x20 && c != 0x7f)
            strbuf_addc(&b, (char)c);
    }
    strbuf_free(&u);
    if (b.len > max) {
        size_t cut = max;
        while (cut > 0 && ((unsigned char)b.s[cut] & 0xc0) == 0x80)
            cut--;
        b.s[cut] = '\0';
        b.len = cut;
    }
    return strbuf_take(&b);
}

static void base64(strbuf *b, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        strbuf_addc(b, t[v >> 18 & 63]);
        strbuf_addc(b, t[v >> 12 & 63]);
        strbuf_addc(b, i + 1 < n ? t[v >> 6 & 63] : '=');
        strbuf_addc(b, i + 2 < n ? t[v & 63] : '=');
    }
}

void smtp_header_value(strbuf *b, const char *s)
{
    _cleanup_free_ char *c = clean(s, 998 - 80);
    if (is_ascii(c)) {
        strbuf_adds(b, c);
        return;
    }
    /* RFC 2047 B encoded-words, each whole UTF-8 characters, folded onto continuation lines */
    size_t len = strlen(c), i = 0;
    while (i < len) {
        size_t n = len - i < WORD_RAW ? len - i : WORD_RAW;
        while (i + n < len && ((unsigned char)c[i + n] & 0xc0) == 0x80)
            n--;
        if (i)
            strbuf_adds(b, "\r\n ");
        strbuf_adds(b, "=?UTF-8?B?");
        base64(b, (const unsigned char *)c + i, n);
        strbuf_adds(b, "?=");
        i += n;
    }
}

static void qp_line(strbuf *b, const char *s, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char enc[4];
        bool last = i + 1 == n;
        if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last))
            snprintf(enc, sizeof enc, "%c", c);
        else
            snprintf(enc, sizeof enc, "=%02X", c);
        if (col + strlen(enc) > QP_LINE - 1) {
            strbuf_adds(b, "=\r\n");
            col = 0;
        }
        strbuf_adds(b, enc);
        col += strlen(enc);
    }
    strbuf_adds(b, "\r\n");
}

static void qp(strbuf *b, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        size_t m = n > 0 && text[n - 1] == '\r' ? n - 1 : n;
        qp_line(b, text, m);
        text += n + (text[n] == '\n');
    }
}

static void rfc5322_date(strbuf *b, uint64_t now)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t t = (time_t)(now / USEC_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    strbuf_addf(b, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *subject(const alert *a)
{
    const char *cluster = fields_get(&a->labels, "cluster");
    return xasprintf("[%s%s%s%s]%s%s %s", a->test ? "TEST " : "", a->resolved ? "RESOLVED" : "FIRING",
                     a->resolved || !a->severity ? "" : " ", a->resolved || !a->severity ? "" : a->severity,
                     cluster && cluster[0] ? " " : "", cluster ? cluster : "",
                     a->title && a->title[0] ? a->title : a->rule);
}

static char *body(const alert *a, const char *hostname)
{
    strbuf b = {0};
    _cleanup_free_ char *text = alert_format_text(a, false);
    strbuf_adds(&b, text);
    if (a->nlines) {
        strbuf_addf(&b, "\n\nContributing log lines (%zu):\n", a->nlines);
        for (size_t i = 0; i < a->nlines; i++) {
            _cleanup_free_ char *l = clean(a->lines[i], 900);
            strbuf_addf(&b, "  %s\n", l);
        }
    }
    strbuf_addf(&b, "\n-- \npcmon on %s%s\n", hostname, a->test ? " (test alert from `pcmon test-notify`)" : "");
    return strbuf_take(&b);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

char *smtp_message(const alert *a, const char *from, char *const *to, size_t nto, const char *hostname,
                   uint64_t now, uint64_t rnd)
{
    strbuf b = {0};
    _cleanup_free_ char *host = clean(hostname, 200);
    strbuf_adds(&b, "Date: ");
    rfc5322_date(&b, now);
    _cleanup_free_ char *f = clean(from, 300);
    strbuf_addf(&b, "\r\nFrom: %s\r\nTo: ", f);
    for (size_t i = 0; i < nto; i++) {
        _cleanup_free_ char *t = clean(to[i], 300);
        strbuf_addf(&b, "%s%s", i ? ",\r\n " : "", t);
    }
    _cleanup_free_ char *subj = subject(a), *s = clean(subj, SUBJECT_MAX);
    strbuf_adds(&b, "\r\nSubject: ");
    smtp_header_value(&b, s);
    strbuf_addf(&b, "\r\nMessage-ID: <pcmon.%llu.%016llx@%s>\r\n", (unsigned long long)now,
                (unsigned long long)rnd, host);
    if (a->group_key && a->group_key[0])   /* one thread per group in mail clients */
        strbuf_addf(&b, "References: <pcmon.group.%016llx@%s>\r\nIn-Reply-To: <pcmon.group.%016llx@%s>\r\n",
                    (unsigned long long)fnv1a(a->group_key), host, (unsigned long long)fnv1a(a->group_key), host);
    _cleanup_free_ char *rule = clean(a->rule, 100);
    strbuf_addf(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\nAuto-Submitted: auto-generated\r\n"
                    "X-Pcmon-Rule: %s\r\nX-Pcmon-State: %s\r\n\r\n", rule, a->resolved ? "resolved" : "firing");
    _cleanup_free_ char *text = body(a, host);
    qp(&b, text);
    return strbuf_take(&b);
}

/* The address of "Name <addr>" or "addr", in angle brackets for MAIL FROM / RCPT TO. */
static char *envelope(const char *s)
{
    _cleanup_free_ char *c = clean(s, 300);
    const char *lt = strrchr(c, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt)
        return xstrndup(lt, (size_t)(gt - lt + 1));
    return xasprintf("<%s>", c + strspn(c, " "));
}

static int smtp_init(notifier *n, char **err)
{
    smtp_priv *p = xcalloc(1, sizeof *p);
    n->priv = p;
    n->target = url_redact(n->cfg->url ? n->cfg->url : "");
    if (n->cfg->url && strchr(n->cfg->url, '@')) {   /* user:password@host in the URL */
        n->secrets[1] = xstrdup(n->cfg->url);
        /* ...and the password alone, as a server or libcurl might quote it */
        const char *u = strstr(n->cfg->url, "://"), *at = u ? strchr(u + 3, '@') : NULL;
        const char *colon = at ? memchr(u + 3, ':', (size_t)(at - (u + 3))) : NULL;
        if (colon && at - colon > 4)
            n->secrets[2] = xstrndup(colon + 1, (size_t)(at - colon - 1));
    }
    if (n->cfg->password_file) {
        int r = read_secret(n->cfg->password_file, &p->password);
        if (r < 0) {
            *err = xasprintf("unavailable: password_file %s: %s", n->cfg->password_file, strerror(-r));
            return r;
        }
        n->secrets[0] = xstrdup(p->password);
    }
    return 0;
}

static void smtp_done(notifier *n)
{
    smtp_priv *p = n->priv;
    if (p)
        free(p->password);
    free(p);
}

static int smtp_start(notifier *n, notify_job *j, const alert *a, uint64_t now, char **err)
{
    smtp_priv *p = n->priv;
    const notifier_cfg *c = n->cfg;
    notify_xfer *x = notify_xfer_new(j, c->url);
    CURL *h = x->easy;
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);   /* never CURLUSESSL_TRY: silent plaintext */
    if (c->username)
        curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
    if (p->password)
        curl_easy_setopt(h, CURLOPT_PASSWORD, p->password);
    _cleanup_free_ char *from = envelope(c->from);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    for (size_t i = 0; i < c->nto; i++) {
        _cleanup_free_ char *rcpt = envelope(c->to[i]);
        x->headers = curl_slist_append(x->headers, rcpt);
    }
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, x->headers);
#if LIBCURL_VERSION_NUM >= 0x080200
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#elif LIBCURL_VERSION_NUM >= 0x074500
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
    _cleanup_free_ char *msg = smtp_message(a, c->from, c->to, c->nto, n->hostname, now,
                                            notify_rand(&n->rand_state));
    strbuf_adds(&x->req, msg);
    notify_xfer_upload(x);
    return 0;
}

static notify_result smtp_finish(notifier *n, notify_job *j, const alert *a, uint64_t now)
{
    notify_xfer *x = j->x[0];
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->code);
    if (x->code == CURLE_OK)
        return nr_ok();
    if (x->code == CURLE_USE_SSL_FAILED)
        return nr_dead("the server does not offer STARTTLS; refusing to send in plaintext");
    if (x->code == CURLE_LOGIN_DENIED)
        return nr_dead("authentication failed (SMTP %ld): %s", x->status, why);
    if (x->status >= 500 && x->status < 600)
        return nr_dead("rejected (SMTP %ld): %s", x->status, why);
    if (x->status >= 400 && x->status < 500)
        return nr_retry(0, "deferred (SMTP %ld): %s", x->status, why);
    return nr_from_curl(x);
}

const notify_backend notify_smtp_backend = {
    .type = "smtp",
    .init = smtp_init,
    .done = smtp_done,
    .start = smtp_start,
    .finish = smtp_finish,
};
