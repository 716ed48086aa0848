/* An ordered list of name=value string pairs: the named groups of a match, the fields and
 * labels of an alert. Small (tens of entries), so lookups are linear. */
#ifndef PCMON_FIELDS_H
#define PCMON_FIELDS_H

#include <stddef.h>

typedef struct field {
    char *name;
    char *value;
} field;

typedef struct fieldset {
    field *v;
    size_t n, cap;
} fieldset;

/* Sets name to a copy of value (replacing an existing value). */
void fields_set(fieldset *f, const char *name, const char *value);
void fields_setn(fieldset *f, const char *name, const char *value, size_t vlen);
/* Sets name only when it is not present yet. */
void fields_set_default(fieldset *f, const char *name, const char *value);
/* Returns the value or NULL; the pointer is valid until the next change of f. */
const char *fields_get(const fieldset *f, const char *name);
void fields_remove(fieldset *f, const char *name);
void fields_copy(fieldset *dst, const fieldset *src);
void fields_clear(fieldset *f);
void fields_free(fieldset *f);

#endif
