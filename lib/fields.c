#include "fields.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static field *find(const fieldset *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].name, name) == 0)
            return &f->v[i];
    return NULL;
}

void fields_setn(fieldset *f, const char *name, const char *value, size_t vlen)
{
    field *x = find(f, name);
    if (x) {
        free(x->value);
        x->value = xstrndup(value, vlen);
        return;
    }
    f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof *f->v);
    f->v[f->n].name = xstrdup(name);
    f->v[f->n].value = xstrndup(value, vlen);
    f->n++;
}

void fields_set(fieldset *f, const char *name, const char *value)
{
    fields_setn(f, name, value, strlen(value));
}

void fields_set_default(fieldset *f, const char *name, const char *value)
{
    if (!find(f, name))
        fields_set(f, name, value);
}

const char *fields_get(const fieldset *f, const char *name)
{
    field *x = find(f, name);
    return x ? x->value : NULL;
}

void fields_remove(fieldset *f, const char *name)
{
    field *x = find(f, name);
    if (!x)
        return;
    free(x->name);
    free(x->value);
    size_t i = (size_t)(x - f->v);
    memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof *f->v);
    f->n--;
}

void fields_copy(fieldset *dst, const fieldset *src)
{
    for (size_t i = 0; i < src->n; i++)
        fields_set(dst, src->v[i].name, src->v[i].value);
}

void fields_clear(fieldset *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].value);
    }
    f->n = 0;
}

void fields_free(fieldset *f)
{
    fields_clear(f);
    free(f->v);
    f->v = NULL;
    f->cap = 0;
}
