/* pcmon replay: recorded logs through the daemon's own pipeline, log time as the clock. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "cli.h"
#include "grouper.h"
#include "macro.h"
#include "pipeline.h"
#include "replay.h"
#include "rules.h"
#include "sink.h"
#include "storm.h"
#include "util.h"

typedef struct replay_opts {
    const char *config, *root;
    bool json, send, matches;
    char **files;
    size_t nfiles;
} replay_opts;

static int parse_opts(int argc, char **argv, replay_opts *o)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "root", required_argument, NULL, 'r' },
        { "json", no_argument, NULL, 'j' },         { "send", no_argument, NULL, 's' },
        { "matches", no_argument, NULL, 'm' },      { 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'r': o->root = optarg; break;
        case 'j': o->json = true; break;
        case 's': o->send = true; break;
        case 'm': o->matches = true; break;
        default: return EXIT_USAGE;
        }
    }
    o->files = argv + optind;
    o->nfiles = (size_t)(argc - optind);
    if (!o->root && o->nfiles == 0)
        return EXIT_USAGE;
    return 0;
}

static const char *basename_of(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* SOURCE=PATH, or a PATH whose file name is a configured source's file name. */
static int resolve_file(const pcmon_config *c, const char *arg, replay_input *in)
{
    const char *eq = strchr(arg, '=');
    for (size_t s = 0; s < c->nsources; s++) {
        size_t nl = strlen(c->sources[s].name);
        bool named = eq && (size_t)(eq - arg) == nl && strncmp(arg, c->sources[s].name, nl) == 0;
        if (named || (!eq && str_eq(basename_of(c->sources[s].path), basename_of(arg)))) {
            in->src = s;
            in->open = in->shown = named ? eq + 1 : arg;
            return 0;
        }
    }
    fprintf(stderr, "pcmon: replay: cannot tell which source \"%s\" is; name it as SOURCE=PATH "
                    "(sources: see check-config)\n", arg);
    return -1;
}

static size_t build_inputs(const pcmon_config *c, const replay_opts *o, replay_input *in, char **owned)
{
    size_t n = 0;
    if (o->root)
        for (size_t s = 0; s < c->nsources; s++) {
            const char *rel = c->sources[s].path + (c->sources[s].path[0] == '/');
            owned[n] = xasprintf("%s/%s", o->root, rel);
            in[n] = (replay_input){ .src = s, .open = owned[n], .shown = rel };
            n++;
        }
    for (size_t i = 0; i < o->nfiles; i++)
        if (resolve_file(c, o->files[i], &in[n]) == 0)
            n++;
        else
            return SIZE_MAX;
    return n;
}

static const char *what_name(enum match_what w)
{
    static const char *const names[] = { "none", "ignore", "fire", "resolve", "pending", "context" };
    return names[w];
}

typedef struct match_printer {
    const pcmon_config *c;
} match_printer;

static void print_match(void *ud, size_t rule, enum match_what what, const char *lineref)
{
    const match_printer *mp = ud;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "rule", json_object_new_string(mp->c->rules[rule].id));
    json_object_object_add(o, "what", json_object_new_string(what_name(what)));
    json_object_object_add(o, "line", json_object_new_string(lineref));
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

/* In replay the log is the clock: an alert is decided at its last line's time. */
static void replay_emit(void *userdata, const alert *a)
{
    storm *sm = userdata;
    storm_tick(sm, a->last_seen);
    storm_emit(sm, a);
}

static int replay(pcmon_config *c, const replay_opts *o)
{
    replay_input in[c->nsources + o->nfiles + 1];
    char *owned[c->nsources + 1];
    memset(owned, 0, sizeof owned);
    size_t n = build_inputs(c, o, in, owned);
    int ret = EXIT_BAD_INPUT;
    if (n != SIZE_MAX) {
        config_errors errs = {0};
        rules *r = rules_compile(c, &errs);
        enum sink_mode mode = o->matches ? SINK_NULL : o->send ? SINK_DELIVER : o->json ? SINK_JSON : SINK_TEXT;
        sink *sk = sink_new(c, mode, isatty(STDOUT_FILENO));
        if (!sk) {
            rules_free(r);
            config_errors_free(&errs);
            goto out;
        }
        storm *sm = storm_new(c, sink_emit, sk);
        grouper *g = grouper_new(c, replay_emit, sm);
        pipeline *p = pipeline_new(c, r, g);
        match_printer mp = { c };
        if (o->matches)
            pipeline_set_match_fn(p, print_match, &mp);
        replay_stats st;
        int e = replay_run(p, g, in, n, c->max_line, &st);
        storm_tick(sm, USEC_INFINITY);   /* end every minute: pending storm summaries go out */
        ret = e < 0 ? EXIT_BAD_INPUT : sink_finish(sk, 60 * USEC_PER_SEC) < 0 ? EXIT_RUNTIME : EXIT_OK;
        if (e < 0)
            fprintf(stderr, "pcmon: replay: read failed: %s\n", strerror(-e));
        pipeline_free(p);
        grouper_free(g);
        storm_free(sm);
        sink_free(sk);
        rules_free(r);
        config_errors_free(&errs);
    }
out:
    for (size_t i = 0; i < c->nsources; i++)
        free(owned[i]);
    return ret;
}

int cmd_replay(int argc, char **argv)
{
    replay_opts o = {0};
    bool embedded;
    if (parse_opts(argc, argv, &o) != 0) {
        fputs("usage: pcmon replay [-c FILE] [--root DIR] [--json] [--send] [--matches] [FILE|SOURCE=PATH...]\n",
              stderr);
        return EXIT_USAGE;
    }
    pcmon_config *c = cli_load_config(o.config, &embedded);
    if (!c)
        return EXIT_BAD_INPUT;
    int ret = replay(c, &o);
    config_free(c);
    return ret;
}
