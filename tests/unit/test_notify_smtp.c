/* The RFC 5322 message builder: required headers, CRLF everywhere and no line over 78 octets,
 * RFC 2047 subjects that decode back to the title and never split a character, quoted-printable
 * bodies, and no header injection through CR/LF in log text or config values. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "notify_backend.h"
#include "util.h"

static void mk(alert *a, const char *title, const char *text)
{
    *a = (alert){ .rule = xstrdup("bootstrap_failure"), .severity = xstrdup("critical"), .title = xstrdup(title),
                  .text = xstrdup(text), .count = 1, .first_seen = 1769191594000000, .last_seen = 1769191594000000,
                  .group_key = xstrdup("bootstrap_failure/demo") };
    fields_set(&a->labels, "cluster", "demo");
}

static char *message(const char *title, const char *text)
{
    alert a;
    mk(&a, title, text);
    char *to[] = { "ops@example.com", "Admin <admin@example.com>" };
    char *m = smtp_message(&a, "pcmon <pcmon@head>", to, 2, "head1", 1769191594000000, 0xabcdef);
    alert_clear(&a);
    return m;
}

/* The header block's value of name (unfolded), or NULL. Caller frees. */
static char *header(const char *m, const char *name)
{
    const char *end = strstr(m, "\r\n\r\n");
    for (const char *p = m; p && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
        size_t n = strlen(name);
        if (strncmp(p, name, n) == 0 && p[n] == ':') {
            strbuf b = {0};
            const char *q = p + n + 1;
            while (*q == ' ')
                q++;
            for (;;) {
                const char *e = strstr(q, "\r\n");
                strbuf_add(&b, q, (size_t)(e - q));
                if (e[2] != ' ')
                    break;
                q = e + 2;
            }
            return strbuf_take(&b);
        }
    }
    return NULL;
}

static void check_lines(const char *m)
{
    for (const char *p = m; *p;) {
        const char *e = strstr(p, "\r\n");
        ck_assert_msg(e, "message does not end in CRLF");
        ck_assert_msg(!memchr(p, '\n', (size_t)(e - p)), "bare LF");
        ck_assert_msg(e - p <= 78, "line of %d octets: %.*s", (int)(e - p), (int)(e - p), p);
        p = e + 2;
    }
}

START_TEST(headers)
{
    _cleanup_free_ char *m = message("Node failed", "OnNodeConfigured failed: exit 1");
    check_lines(m);
    _cleanup_free_ char *date = header(m, "Date"), *id = header(m, "Message-ID"), *from = header(m, "From"),
                        *to = header(m, "To"), *subj = header(m, "Subject"), *mime = header(m, "MIME-Version"),
                        *ct = header(m, "Content-Type"), *cte = header(m, "Content-Transfer-Encoding"),
                        *refs = header(m, "References");
    ck_assert_str_eq(date, "Fri, 23 Jan 2026 18:06:34 +0000");
    ck_assert_str_eq(id, "<pcmon.1769191594000000.0000000000abcdef@head1>");
    ck_assert_str_eq(from, "pcmon <pcmon@head>");
    ck_assert_str_eq(to, "ops@example.com, Admin <admin@example.com>");
    ck_assert_str_eq(subj, "[FIRING critical] demo Node failed");
    ck_assert_str_eq(mime, "1.0");
    ck_assert_str_eq(ct, "text/plain; charset=UTF-8");
    ck_assert_str_eq(cte, "quoted-printable");
    ck_assert(str_startswith(refs, "<pcmon.group."));
}
END_TEST

START_TEST(no_injection)
{
    _cleanup_free_ char *m = message("evil\r\nBcc: victim@example.com\nX-Evil: 1", "body\r\n.\r\nQUIT");
    check_lines(m);
    const char *body = strstr(m, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    _cleanup_free_ char *head = xstrndup(m, (size_t)(body - m) + 2);
    ck_assert(!strstr(head, "\r\nBcc:"));
    ck_assert(!strstr(head, "\r\nX-Evil:"));
    _cleanup_free_ char *subj = header(m, "Subject");
    ck_assert_str_eq(subj, "[FIRING critical] demo evil  Bcc: victim@example.com X-Evil: 1");
}
END_TEST

static int b64(char c)
{
    const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(t, c);
    return p && c ? (int)(p - t) : -1;
}

/* Decodes a run of "=?UTF-8?B?...?=" words (joined by spaces), checking each is whole UTF-8. */
static char *decode_words(const char *v)
{
    strbuf out = {0};
    strbuf_adds(&out, "");
    while (*v) {
        ck_assert(str_startswith(v, "=?UTF-8?B?"));
        const char *e = strstr(v + 10, "?=");
        ck_assert_ptr_nonnull(e);
        ck_assert_uint_le((size_t)(e + 2 - v), 75);   /* RFC 2047: an encoded-word is at most 75 */
        size_t start = out.len;
        unsigned acc = 0;
        int bits = 0;
        for (const char *p = v + 10; p < e && *p != '='; p++) {
            acc = acc << 6 | (unsigned)b64(*p);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                strbuf_addc(&out, (char)(acc >> bits & 0xff));
            }
        }
        ck_assert((out.s[start] & 0xc0) != 0x80);   /* starts on a character boundary */
        v = e + 2;
        while (*v == ' ')
            v++;
    }
    return strbuf_take(&out);
}

START_TEST(rfc2047_subject)
{
    const char *title = "Knoten gpu-dy-\xc3\xa4\xc3\xb6\xc3\xbc-[1-3] \xe2\x9c\x93 \xe8\x8a\x82\xe7\x82\xb9 "
                        "\xe8\x8a\x82\xe7\x82\xb9\xe8\x8a\x82\xe7\x82\xb9\xe8\x8a\x82\xe7\x82\xb9 down";
    _cleanup_free_ char *m = message(title, "x");
    check_lines(m);
    _cleanup_free_ char *subj = header(m, "Subject");
    _cleanup_free_ char *dec = decode_words(subj);
    _cleanup_free_ char *want = xasprintf("[FIRING critical] demo %s", title);
    ck_assert_str_eq(dec, want);
}
END_TEST

START_TEST(quoted_printable)
{
    strbuf t = {0};
    strbuf_adds(&t, "a=b trailing \n\xc3\xa9t\xc3\xa9\n");
    for (int i = 0; i < 50; i++)
        strbuf_adds(&t, "long ");
    _cleanup_free_ char *text = strbuf_take(&t);
    _cleanup_free_ char *m = message("t", text);
    check_lines(m);
    ck_assert(strstr(m, "a=3Db trailing=20\r\n"));
    ck_assert(strstr(m, "=C3=A9t=C3=A9\r\n"));
    ck_assert(strstr(strstr(m, "\r\n\r\n"), "=\r\n"));   /* a soft line break, not a long line */
}
END_TEST

START_TEST(header_value_ascii)
{
    strbuf b = {0};
    strbuf_adds(&b, "");
    smtp_header_value(&b, "plain\tvalue\x01\x7f\r\nnext");
    ck_assert_str_eq(b.s, "plain value  next");
    strbuf_free(&b);
}
END_TEST

/* What the engine scrubs for an SMTP notifier with credentials in its URL: the URL and the
 * password alone; the target shows scheme and host only. */
START_TEST(init_secrets)
{
    notifier_cfg cfg = { .name = "mail", .type = NOTIFY_SMTP, .url = "smtp://pcmon:pw-SECRET-42@mail.example:587" };
    notifier n = { .cfg = &cfg };
    char *err = NULL;
    ck_assert_int_eq(notify_smtp_backend.init(&n, &err), 0);
    ck_assert_str_eq(n.target, "smtp://mail.example:587");
    ck_assert_str_eq(n.secrets[1], cfg.url);
    ck_assert_str_eq(n.secrets[2], "pw-SECRET-42");
    _cleanup_free_ char *m = redact_secrets("535 auth failed for pw-SECRET-42", n.secrets, NOTIFIER_SECRETS);
    ck_assert_msg(!strstr(m, "SECRET"), "%s", m);
    notify_smtp_backend.done(&n);
    free(n.target);
    for (size_t i = 0; i < NOTIFIER_SECRETS; i++)
        free(n.secrets[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("notify_smtp");
    TCase *tc = tcase_create("smtp");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, headers);
    tcase_add_test(tc, no_injection);
    tcase_add_test(tc, rfc2047_subject);
    tcase_add_test(tc, quoted_printable);
    tcase_add_test(tc, header_value_ascii);
    tcase_add_test(tc, init_secrets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
