/* Message templates: "{field}" is replaced by the field's value, "{field?text}" renders text only
 * when the field is non-empty, "{{" and "}}" stand for braces. The template is data, never a
 * printf format; log text is copied, never interpreted. */
#ifndef PCMON_TEMPLATE_H
#define PCMON_TEMPLATE_H

#include <stddef.h>

#include "fields.h"
#include "util.h"

/* Renders tpl with values from f, then g (f wins); a missing field renders as empty. The result
 * is at most max bytes (cut at a UTF-8 boundary, ending in "…"). Caller frees. */
char *template_render(const char *tpl, const fieldset *f, const fieldset *g, size_t max);

/* Appends n bytes of s to b with every byte that is not part of valid UTF-8 replaced by U+FFFD,
 * so what pcmon renders or encodes is always valid UTF-8. */
void utf8_append(strbuf *b, const char *s, size_t n);

#endif
