/* Where replay's time goes, stage by stage: loads the first 256 KiB of every configured source
 * below a root (cache-resident, as replay's read buffer is), then times each stage over those
 * lines, best of many passes so that the numbers hold on a busy machine: the line timestamp and
 * the whole rule evaluation (prefilter, JSON, PCRE2, context).
 * Usage: stagebench [-c CONFIG] ROOT [PASSES]. Prints per source: lines, bytes, ns per line for
 * each stage, and the rules' cost per byte. Built by `make bench`; not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "pipeline.h"
#include "rules.h"
#include "timeparse.h"
#include "util.h"

#define SAMPLE (256 * 1024)

typedef struct corpus {
    char *data;
    size_t len;
    const char **line;
    size_t *llen;
    size_t n;
} corpus;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int load(const char *path, corpus *c)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    c->data = xmalloc(SAMPLE);
    c->len = fread(c->data, 1, SAMPLE, f);
    fclose(f);
    while (c->len > 0 && c->data[c->len - 1] != '\n')   /* whole lines only */
        c->len--;
    size_t cap = 0;
    for (char *p = c->data, *end = c->data + c->len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        c->line = xgrow(c->line, &cap, c->n + 1, sizeof *c->line);
        c->llen = xrealloc(c->llen, cap * sizeof *c->llen);
        c->line[c->n] = p;
        c->llen[c->n++] = n;
        p += n + 1;
    }
    return 0;
}

/* Best time of `passes` runs of one stage over the corpus, in ns per line. */
typedef void (*stage_fn)(void *ud, size_t src, const char *line, size_t len);

static double best(stage_fn fn, void *ud, size_t src, const corpus *c, int passes)
{
    uint64_t min = UINT64_MAX;
    for (int p = 0; p < passes; p++) {
        uint64_t t0 = mono_ns();
        for (size_t i = 0; i < c->n; i++)
            fn(ud, src, c->line[i], c->llen[i]);
        uint64_t t = mono_ns() - t0;
        min = t < min ? t : min;
    }
    return c->n ? (double)min / (double)c->n : 0;
}

static volatile uint64_t sink;

static void st_timestamp(void *ud, size_t src, const char *line, size_t len)
{
    sink += pipeline_timestamp(ud, src, line, len);
}

static void st_rules(void *ud, size_t src, const char *line, size_t len)
{
    static match m, clears[8];
    size_t n;
    sink += rules_eval_line(ud, src, line, len, 0, &m, clears, 8, &n) + n;
}

int main(int argc, char **argv)
{
    const char *cfgpath = NULL;
    int a = 1;
    if (argc > 2 && strcmp(argv[1], "-c") == 0) {
        cfgpath = argv[2];
        a = 3;
    }
    if (a >= argc) {
        fputs("usage: stagebench [-c CONFIG] ROOT [PASSES]\n", stderr);
        return 2;
    }
    const char *root = argv[a];
    int passes = a + 1 < argc ? atoi(argv[a + 1]) : 50;
    config_errors errs = {0};
    pcmon_config *c = cfgpath ? config_load_file(cfgpath, &errs) : config_load_default(&errs);
    rules *r = c ? rules_compile(c, &errs) : NULL;
    if (!r) {
        fputs("stagebench: bad config\n", stderr);
        return 1;
    }
    grouper *g = grouper_new(c, NULL, NULL);
    pipeline *p = pipeline_new(c, r, g);
    printf("%-28s %7s %8s %9s %9s %11s\n", "source", "lines", "bytes", "ts ns", "rules ns", "rules GB/s");
    for (size_t s = 0; s < c->nsources; s++) {
        corpus co;
        char *path = xasprintf("%s/%s", root, c->sources[s].path + (c->sources[s].path[0] == '/'));
        if (load(path, &co) == 0 && co.n > 0) {
            double ts = best(st_timestamp, p, s, &co, passes), ru = best(st_rules, r, s, &co, passes);
            printf("%-28s %7zu %8zu %9.1f %9.1f %11.2f\n", c->sources[s].name, co.n, co.len, ts, ru,
                   (double)co.len / co.n / ru);
        }
        free(path);
        free(co.data);
        free(co.line);
        free(co.llen);
    }
    pipeline_free(p);
    grouper_free(g);
    rules_free(r);
    config_free(c);
    config_errors_free(&errs);
    return 0;
}
