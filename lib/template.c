/* Message templates. A field name is [A-Za-z0-9_.-]+; a brace that does not open a well-formed
 * "{name}" or "{name?text}" is copied as it stands, so a template can never fail to render.
 * Values are copied byte for byte (as valid UTF-8) and never scanned for braces or '%'. */
#include "template.h"

#include <string.h>

#include "macro.h"

static const char REPLACEMENT[] = "\xef\xbf\xbd";   /* U+FFFD */
static const char ELLIPSIS[] = "\xe2\x80\xa6";      /* U+2026 */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or values past
 * U+10FFFF), or 0 when the bytes at s are not one. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

void utf8_append(strbuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0;
    while (i < n) {
        size_t l = utf8_seq_len(u + i, n - i);
        if (l) {
            i += l;
            continue;
        }
        strbuf_add(b, s + run, i - run);
        strbuf_add(b, REPLACEMENT, sizeof REPLACEMENT - 1);
        run = ++i;
    }
    strbuf_add(b, s + run, n - run);
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* Appends at most enough of s to b to pass limit, so a huge value costs no more than the cap. */
static void append_capped(strbuf *b, const char *s, size_t n, size_t limit)
{
    if (b->len >= limit)
        return;
    if (n > limit - b->len)
        n = limit - b->len;
    utf8_append(b, s, n);
}

static const char *lookup(const char *name, size_t n, const fieldset *f, const fieldset *g)
{
    _cleanup_free_ char *key = xstrndup(name, n);
    const char *v = f ? fields_get(f, key) : NULL;
    if (!v && g)
        v = fields_get(g, key);
    return v ? v : "";
}

/* Renders the brace expression at p (p[0] == '{') and returns the bytes consumed, or 0 when it
 * is not a well-formed "{name}" or "{name?text}". */
static size_t render_field(const char *p, const fieldset *f, const fieldset *g, strbuf *b, size_t limit)
{
    size_t n = 0;
    while (is_name_char(p[1 + n]))
        n++;
    if (n == 0)
        return 0;
    const char *v = NULL;
    if (p[1 + n] == '}') {
        v = lookup(p + 1, n, f, g);
        append_capped(b, v, strlen(v), limit);
        return n + 2;
    }
    if (p[1 + n] != '?')
        return 0;
    const char *text = p + 2 + n, *end = strchr(text, '}');
    if (!end)
        return 0;
    v = lookup(p + 1, n, f, g);
    if (v[0])
        append_capped(b, text, (size_t)(end - text), limit);
    return (size_t)(end - p) + 1;
}

/* Cuts b to at most max bytes on a character boundary, ending in "…" when there is room for it. */
static void cut(strbuf *b, size_t max)
{
    size_t keep = max >= sizeof ELLIPSIS - 1 ? max - (sizeof ELLIPSIS - 1) : max;
    while (keep > 0 && ((unsigned char)b->s[keep] & 0xc0) == 0x80)
        keep--;
    b->len = keep;
    b->s[keep] = '\0';
    if (max >= sizeof ELLIPSIS - 1)
        strbuf_add(b, ELLIPSIS, sizeof ELLIPSIS - 1);
}

char *template_render(const char *tpl, const fieldset *f, const fieldset *g, size_t max)
{
    strbuf b = {0};
    /* Rendering stops a little past max: enough to know that the result was cut. */
    size_t limit = max > SIZE_MAX - 8 ? SIZE_MAX : max + 8;
    const char *p = tpl;
    while (*p && b.len <= max) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            append_capped(&b, p, 1, limit);
            p += 2;
            continue;
        }
        if (p[0] == '{') {
            size_t n = render_field(p, f, g, &b, limit);
            if (n) {
                p += n;
                continue;
            }
        }
        size_t run = 1 + strcspn(p + 1, "{}");
        append_capped(&b, p, run, limit);
        p += run;
    }
    if (b.len > max)
        cut(&b, max);
    return strbuf_take(&b);
}
