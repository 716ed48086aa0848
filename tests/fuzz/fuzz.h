/* Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): the embedded default config with its
 * rules compiled once per process, and an invariant check that aborts, which libFuzzer reports as
 * a crash and saves the input for. Inputs are never NUL-terminated: copy before using str*(). */
#ifndef PCMON_FUZZ_H
#define PCMON_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rules.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                    \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* The input as a C string (stops at an embedded NUL, as every str*() caller would). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

typedef struct fuzz_default {
    pcmon_config *c;
    rules *r;
    char *cluster, *region;   /* as loaded: the grouper overwrites them when it learns a cluster */
} fuzz_default;

/* The shipped conf/pcmon.yaml, loaded and compiled once; aborts if it does not load. */
static inline fuzz_default *fuzz_default_get(void)
{
    static fuzz_default d;
    if (!d.c) {
        config_errors errs = {0};
        d.c = config_load_default(&errs);
        d.r = d.c ? rules_compile(d.c, &errs) : NULL;
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "default config %d:%d: %s\n", errs.v[i].line, errs.v[i].col, errs.v[i].msg);
        FUZZ_ASSERT(d.c && d.r);
        config_errors_free(&errs);
        d.cluster = d.c->cluster ? xstrdup(d.c->cluster) : NULL;
        d.region = d.c->region ? xstrdup(d.c->region) : NULL;
    }
    return &d;
}

/* Undoes what one input may have changed in the shared config and rules, so every input runs
 * from the same state (libFuzzer needs reproducible inputs). */
static inline void fuzz_default_reset(fuzz_default *d)
{
    free(d->c->cluster);
    free(d->c->region);
    d->c->cluster = d->cluster ? xstrdup(d->cluster) : NULL;
    d->c->region = d->region ? xstrdup(d->region) : NULL;
    rules_reset_context(d->r);
}

#endif
