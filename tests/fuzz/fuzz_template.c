/* Message templates. Whatever the template and the field values, the result is at most max
 * bytes and valid UTF-8 (values are log text: never interpreted, never cut mid-character).
 * Input: two bytes of max (little endian, modulo 8192), the template up to the first NUL, then
 * "name=value" lines for the first fieldset, an empty line, and lines for the second. */
#include "template.h"

#include "fuzz.h"

static void add_fields(fieldset *f, fieldset *g, const char *p, const char *end)
{
    fieldset *cur = f;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(eol - p));
        if (eol == p)
            cur = g;
        else if (eq) {
            char *name = xstrndup(p, (size_t)(eq - p));
            fields_setn(cur, name, eq + 1, (size_t)(eol - eq - 1));
            free(name);
        }
        p = eol + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = ((size_t)data[0] | (size_t)data[1] << 8) % 8192;
    const char *body = (const char *)data + 2, *end = (const char *)data + size;
    const char *nul = memchr(body, '\0', (size_t)(end - body));
    char *tpl = xstrndup(body, nul ? (size_t)(nul - body) : (size_t)(end - body));
    fieldset f = {0}, g = {0};
    if (nul)
        add_fields(&f, &g, nul + 1, end);

    char *out = template_render(tpl, &f, &g, max);
    size_t len = strlen(out);
    FUZZ_ASSERT(len <= max);
    strbuf check = {0};
    utf8_append(&check, out, len);
    FUZZ_ASSERT(check.len == len && memcmp(check.s, out, len) == 0);
    strbuf_free(&check);
    free(out);

    /* Without fields every placeholder renders empty; never NULL. */
    out = template_render(tpl, NULL, NULL, max);
    FUZZ_ASSERT(out && strlen(out) <= max);
    free(out);

    fields_free(&f);
    fields_free(&g);
    free(tpl);
    return 0;
}
