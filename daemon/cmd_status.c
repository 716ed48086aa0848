/* pcmon status: what the daemon has on disk, read without disturbing it (it may be running):
 * offsets per source, spool depth and the oldest undelivered alert, open groups, the last alert
 * per rule, permanent delivery failures. A table for people, --json for scripts. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "macro.h"
#include "spool.h"
#include "offsets.h"
#include "timeparse.h"
#include "util.h"

#define STATE_MAX (16 * 1024 * 1024)

static json_object *read_json(const char *dir, const char *name)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file(path, STATE_MAX, &text, &len) < 0)
        return NULL;
    return json_tokener_parse(text);
}

static json_object *sources_json(const pcmon_config *c)
{
    json_object *out = json_object_new_array();
    _cleanup_free_ char *path = xasprintf("%s/offsets.json", c->state_dir);
    offset_table t = {0};
    int r = offsets_load(path, &t);
    for (size_t i = 0; i < c->nsources; i++) {
        const offset_entry *e = r == 0 ? offsets_find(&t, c->sources[i].name) : NULL;
        json_object *o = json_object_new_object();
        struct stat st;
        bool exists = stat(c->sources[i].path, &st) == 0;
        bool known = e && e->has_cur;
        json_object_object_add(o, "source", json_object_new_string(c->sources[i].name));
        json_object_object_add(o, "path", json_object_new_string(c->sources[i].path));
        json_object_object_add(o, "exists", json_object_new_boolean(exists));
        json_object_object_add(o, "known", json_object_new_boolean(known));
        json_object_object_add(o, "inode", json_object_new_int64(known ? (int64_t)e->cur.ino : 0));
        json_object_object_add(o, "offset", json_object_new_int64(known ? (int64_t)e->cur.offset : 0));
        json_object_object_add(o, "line", json_object_new_int64(known ? (int64_t)e->cur.lineno : 0));
        json_object_object_add(o, "draining", json_object_new_int64(e ? (int64_t)e->ndrain : 0));
        int64_t lag = known && exists && (uint64_t)st.st_ino == e->cur.ino && (uint64_t)st.st_size > e->cur.offset
                          ? (int64_t)((uint64_t)st.st_size - e->cur.offset) : 0;
        json_object_object_add(o, "lag_bytes", json_object_new_int64(lag));
        json_object_array_add(out, o);
    }
    offsets_clear(&t);
    return out;
}

static void add_time(json_object *o, const char *k, uint64_t usec)
{
    char buf[40];
    json_object_object_add(o, k, usec ? json_object_new_string(ts_format(usec, buf, sizeof buf)) : NULL);
}

static json_object *spool_json(const pcmon_config *c)
{
    json_object *o = json_object_new_object(), *dead = json_object_new_array();
    _cleanup_free_ char *dir = xasprintf("%s/spool", c->state_dir);
    spool_limits lim = {0};
    spool *sp = NULL;
    int r = spool_open(dir, &lim, SPOOL_READONLY, &sp);
    if (r < 0) {
        json_object_object_add(o, "error", json_object_new_string(strerror(-r)));
        json_object_put(dead);
        return o;
    }
    spool_stats st;
    spool_get_stats(sp, &st);
    json_object_object_add(o, "depth", json_object_new_int64((int64_t)st.depth));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
    add_time(o, "oldest_undelivered", st.oldest);
    json_object_object_add(o, "dropped", json_object_new_int64((int64_t)st.dropped));
    json_object_object_add(o, "corrupt", json_object_new_int64((int64_t)st.corrupt));
    for (size_t i = 0; i < spool_count(sp); i++) {
        spool_entry *e = spool_nth(sp, i);
        for (size_t k = 0; k < e->nroutes; k++) {
            if (e->routes[k].state != ROUTE_DEAD)
                continue;
            json_object *d = json_object_new_object();
            json_object_object_add(d, "notifier", json_object_new_string(e->routes[k].notifier));
            json_object_object_add(d, "rule", json_object_new_string(e->a.rule ? e->a.rule : ""));
            add_time(d, "enqueued", e->enqueued);
            json_object_object_add(d, "reason", json_object_new_string(e->routes[k].error ? e->routes[k].error : ""));
            json_object_array_add(dead, d);
        }
    }
    json_object_object_add(o, "dead", dead);
    spool_free(sp);
    return o;
}

/* Open groups and the last alert per rule, from the grouper's saved state. */
static void groups_json(const pcmon_config *c, json_object *root)
{
    json_object *state = read_json(c->state_dir, "groups.json"), *groups = NULL;
    json_object *open = json_object_new_array();
    if (state && json_object_object_get_ex(state, "groups", &groups) && json_object_is_type(groups, json_type_array))
        for (size_t i = 0; i < json_object_array_length(groups); i++) {
            json_object *g = json_object_array_get_idx(groups, i), *v, *x = json_object_new_object();
            static const char *const keys[] = { "rule", "labels", "count", "firing" };
            for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                if (json_object_object_get_ex(g, keys[k], &v))
                    json_object_object_add(x, keys[k], json_object_get(v));
            if (json_object_object_get_ex(g, "first_seen", &v))
                add_time(x, "first_seen", (uint64_t)json_object_get_int64(v));
            if (json_object_object_get_ex(g, "last_seen", &v))
                add_time(x, "last_seen", (uint64_t)json_object_get_int64(v));
            json_object_array_add(open, x);
        }
    json_object_object_add(root, "open_groups", open);
    json_object *last = read_json(c->state_dir, "last_alerts.json");
    json_object_object_add(root, "last_alert_per_rule", last ? last : json_object_new_object());
    json_object_put(state);
}

static void print_table(json_object *root)
{
    json_object *v, *srcs, *sp, *groups, *last;
    json_object_object_get_ex(root, "state_dir", &v);
    printf("state directory %s\n\nSOURCE                     INODE      OFFSET    LINE  LAG(bytes)  PATH\n",
           json_object_get_string(v));
    json_object_object_get_ex(root, "sources", &srcs);
    for (size_t i = 0; i < json_object_array_length(srcs); i++) {
        json_object *s = json_object_array_get_idx(srcs, i), *f[7];
        static const char *const k[] = { "source", "inode", "offset", "line", "lag_bytes", "path", "known" };
        for (size_t j = 0; j < 7; j++)
            json_object_object_get_ex(s, k[j], &f[j]);
        if (!json_object_get_boolean(f[6]))
            printf("%-26s %-10s %-9s %-5s %-11s %s\n", json_object_get_string(f[0]), "-", "-", "-", "-",
                   json_object_get_string(f[5]));
        else
            printf("%-26s %-10lld %-9lld %-5lld %-11lld %s\n", json_object_get_string(f[0]),
                   (long long)json_object_get_int64(f[1]), (long long)json_object_get_int64(f[2]),
                   (long long)json_object_get_int64(f[3]), (long long)json_object_get_int64(f[4]),
                   json_object_get_string(f[5]));
    }
    json_object_object_get_ex(root, "spool", &sp);
    printf("\nspool: %s\n", json_object_to_json_string_ext(sp, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_object_get_ex(root, "open_groups", &groups);
    printf("\nopen alert groups: %zu\n", json_object_array_length(groups));
    for (size_t i = 0; i < json_object_array_length(groups); i++)
        printf("  %s\n", json_object_to_json_string_ext(json_object_array_get_idx(groups, i), JSON_C_TO_STRING_PLAIN));
    json_object_object_get_ex(root, "last_alert_per_rule", &last);
    printf("\nlast alert per rule:\n");
    json_object_object_foreach(last, rule, when) printf("  %-28s %s\n", rule, json_object_get_string(when));
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' }, { 0 } };
    const char *path = NULL;
    bool json = false, embedded;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (o == 'c')
            path = optarg;
        else if (o == 'j')
            json = true;
        else {
            fputs("usage: pcmon status [-c FILE] [--json]\n", stderr);
            return EXIT_USAGE;
        }
    }
    pcmon_config *c = cli_load_config(path, &embedded);
    if (!c)
        return EXIT_BAD_INPUT;
    json_object *root = json_object_new_object();
    json_object_object_add(root, "state_dir", json_object_new_string(c->state_dir));
    json_object_object_add(root, "sources", sources_json(c));
    json_object_object_add(root, "spool", spool_json(c));
    groups_json(c, root);
    if (json)
        puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        print_table(root);
    json_object_put(root);
    config_free(c);
    return EXIT_OK;
}
