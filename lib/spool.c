/* The durable delivery spool (see spool.h). Files are small JSON documents written with
 * write_file_atomic (temp + fsync + rename + fsync of the directory), so a crash leaves either
 * the old file, the new one, or a temp file that load removes. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "macro.h"
#include "util.h"

/* An entry file is the alert (capped at 1000 lines by the grouper) plus routes: far below this. */
#define SPOOL_FILE_MAX ((size_t)16 << 20)
/* How many dropped rules a summary names. */
#define DROP_RULES_MAX 5

struct spool {
    char *dir;
    int lock_fd;
    bool readonly;
    spool_limits lim;
    spool_entry **v;
    size_t n, cap;
    uint64_t next_seq;
    uint64_t corrupt, dropped, write_errors;
    spool_drops drops;
    size_t ndrop_rules;
    strbuf drop_rules;
};

static const char *const route_states[] = { "pending", "done", "dead" };

static char *entry_path(const spool *s, uint64_t seq)
{
    return xasprintf("%s/%016llu.json", s->dir, (unsigned long long)seq);
}

static void entry_free(spool_entry *e)
{
    if (!e)
        return;
    alert_clear(&e->a);
    for (size_t i = 0; i < e->nroutes; i++) {
        free(e->routes[i].notifier);
        free(e->routes[i].error);
    }
    free(e->routes);
    free(e);
}

static json_object *entry_to_json(const spool_entry *e)
{
    _cleanup_free_ char *aj = alert_to_json(&e->a);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "seq", json_object_new_int64((int64_t)e->seq));
    json_object_object_add(o, "enqueued", json_object_new_int64((int64_t)e->enqueued));
    if (e->keep)
        json_object_object_add(o, "keep", json_object_new_boolean(1));
    json_object_object_add(o, "alert", json_tokener_parse(aj));
    json_object *routes = json_object_new_array();
    for (size_t i = 0; i < e->nroutes; i++) {
        const spool_route *r = &e->routes[i];
        json_object *ro = json_object_new_object();
        json_object_object_add(ro, "notifier", json_object_new_string(r->notifier));
        json_object_object_add(ro, "state", json_object_new_string(route_states[r->state]));
        json_object_object_add(ro, "attempts", json_object_new_int64(r->attempts));
        json_object_object_add(ro, "next_attempt", json_object_new_int64((int64_t)r->next_attempt));
        if (r->error)
            json_object_object_add(ro, "error", json_object_new_string(r->error));
        json_object_array_add(routes, ro);
    }
    json_object_object_add(o, "routes", routes);
    return o;
}

static int route_from_json(json_object *ro, spool_route *r)
{
    json_object *name, *state, *att, *err;
    if (!json_object_object_get_ex(ro, "notifier", &name) || !json_object_is_type(name, json_type_string) ||
        !json_object_object_get_ex(ro, "state", &state) || !json_object_is_type(state, json_type_string))
        return -EINVAL;
    int st = -1;
    for (int k = 0; k < (int)ELEMENTSOF(route_states); k++)
        if (str_eq(json_object_get_string(state), route_states[k]))
            st = k;
    if (st < 0)
        return -EINVAL;
    r->notifier = xstrdup(json_object_get_string(name));
    r->state = (enum route_state)st;
    if (json_object_object_get_ex(ro, "attempts", &att) && json_object_is_type(att, json_type_int))
        r->attempts = (unsigned)json_object_get_int64(att);
    if (json_object_object_get_ex(ro, "error", &err) && json_object_is_type(err, json_type_string))
        r->error = xstrdup(json_object_get_string(err));
    r->next_attempt = 0;   /* pending alerts are resent at once after a restart */
    return 0;
}

static int entry_from_json(const char *text, size_t len, spool_entry *e)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    bool complete = json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    json_object *seq, *enq, *a, *routes, *keep;
    int r = -EINVAL;
    if (!o || !complete || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "seq", &seq) || !json_object_is_type(seq, json_type_int) ||
        !json_object_object_get_ex(o, "alert", &a) || !json_object_is_type(a, json_type_object) ||
        !json_object_object_get_ex(o, "routes", &routes) || !json_object_is_type(routes, json_type_array))
        goto out;
    e->seq = (uint64_t)json_object_get_int64(seq);
    if (json_object_object_get_ex(o, "enqueued", &enq) && json_object_is_type(enq, json_type_int))
        e->enqueued = (uint64_t)json_object_get_int64(enq);
    e->keep = json_object_object_get_ex(o, "keep", &keep) && json_object_get_boolean(keep);
    const char *aj = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
    if (alert_from_json(aj, strlen(aj), &e->a) < 0)
        goto out;
    e->nroutes = json_object_array_length(routes);
    e->routes = xcalloc(e->nroutes ? e->nroutes : 1, sizeof *e->routes);
    for (size_t i = 0; i < e->nroutes; i++)
        if (route_from_json(json_object_array_get_idx(routes, i), &e->routes[i]) < 0 ||
            spool_route_of(e, e->routes[i].notifier) != &e->routes[i])   /* a second route to one notifier */
            goto out;
    r = 0;
out:
    json_object_put(o);
    return r;
}

static bool entry_has(const spool_entry *e, enum route_state st)
{
    for (size_t i = 0; i < e->nroutes; i++)
        if (e->routes[i].state == st)
            return true;
    return false;
}

static int cmp_entry(const void *x, const void *y)
{
    const spool_entry *a = *(spool_entry *const *)x, *b = *(spool_entry *const *)y;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sets a file that cannot be parsed aside, so it is counted once and can be inspected. */
static void set_aside(spool *s, const char *path)
{
    s->corrupt++;
    if (s->readonly)
        return;
    _cleanup_free_ char *to = xasprintf("%s.corrupt", path);
    if (rename(path, to) < 0)
        unlink(path);
}

static void load_one(spool *s, const char *name)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", s->dir, name);
    if (strstr(name, ".tmp.")) {   /* a write_file_atomic temp: the put never returned */
        s->corrupt++;
        if (!s->readonly)
            unlink(path);
        return;
    }
    size_t len = strlen(name);
    if (len != 21 || strspn(name, "0123456789") != 16 || strcmp(name + 16, ".json") != 0)
        return;
    _cleanup_free_ char *text = NULL;
    size_t n;
    spool_entry *e = xcalloc(1, sizeof *e);
    if (read_file(path, SPOOL_FILE_MAX, &text, &n) < 0 || entry_from_json(text, n, e) < 0 ||
        e->seq != strtoull(name, NULL, 10) || e->nroutes == 0) {
        entry_free(e);
        set_aside(s, path);
        return;
    }
    e->size = n;
    e->durable = true;
    s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof *s->v);
    s->v[s->n++] = e;
    if (e->seq >= s->next_seq)
        s->next_seq = e->seq + 1;
}

static int load(spool *s)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return -errno;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            load_one(s, de->d_name);
    closedir(d);
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_entry);
    return 0;
}

int spool_open(const char *dir, const spool_limits *lim, unsigned flags, spool **out)
{
    spool *s = xcalloc(1, sizeof *s);
    s->lock_fd = -1;
    s->next_seq = 1;
    s->readonly = flags & SPOOL_READONLY;
    if (lim)
        s->lim = *lim;
    if (dir) {
        s->dir = xstrdup(dir);
        struct stat st;
        if (!s->readonly && mkdir(dir, 0700) < 0 && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
            int r = errno == 0 ? -ENOTDIR : -errno;
            spool_free(s);
            return r;
        }
        /* The lock is on the directory itself, so a read-only spool can still be opened (and its
         * alerts delivered); puts then fail and say so. */
        if (!s->readonly) {
            s->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                int r = s->lock_fd < 0 ? -errno : errno == EWOULDBLOCK ? -EBUSY : -errno;
                spool_free(s);
                return r;
            }
        }
        int r = load(s);
        if (r < 0) {
            spool_free(s);
            return r;
        }
    }
    *out = s;
    return 0;
}

spool *spool_free(spool *s)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        entry_free(s->v[i]);
    free(s->v);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->dir);
    free(s->drops.rules);
    strbuf_free(&s->drop_rules);
    free(s);
    return NULL;
}

static void unlink_entry(spool *s, const spool_entry *e)
{
    if (!s->dir || s->readonly || !e->durable)
        return;
    _cleanup_free_ char *p = entry_path(s, e->seq);
    unlink(p);
}

/* Removes the i-th entry: its file and its memory. */
static void remove_at(spool *s, size_t i)
{
    unlink_entry(s, s->v[i]);
    entry_free(s->v[i]);
    memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof *s->v);
    s->n--;
}

static void count_drop(spool *s, const spool_entry *e)
{
    s->dropped++;
    if (s->drops.count++ == 0)
        s->drops.first_enqueued = e->enqueued;
    s->drops.last_enqueued = e->enqueued;
    if (s->ndrop_rules < DROP_RULES_MAX && e->a.rule && !strstr(s->drop_rules.s ? s->drop_rules.s : "", e->a.rule)) {
        strbuf_addf(&s->drop_rules, "%s%s", s->ndrop_rules ? ", " : "", e->a.rule);
        s->ndrop_rules++;
    }
}

static size_t total_bytes(const spool *s)
{
    size_t b = 0;
    for (size_t i = 0; i < s->n; i++)
        b += s->v[i]->size;
    return b;
}

/* Drops the oldest entries (but never one marked keep) until one more of size bytes fits under
 * the caps; when only kept entries are left, the new one goes in over the cap. */
static void make_room(spool *s, size_t size)
{
    size_t bytes = total_bytes(s), i = 0;
    while (i < s->n && ((s->lim.max_alerts && s->n + 1 > s->lim.max_alerts) ||
                        (s->lim.max_bytes && bytes + size > s->lim.max_bytes))) {
        if (s->v[i]->keep) {
            i++;
            continue;
        }
        bytes -= s->v[i]->size;
        count_drop(s, s->v[i]);
        remove_at(s, i);
    }
}

static int write_entry(spool *s, spool_entry *e)
{
    json_object *o = entry_to_json(e);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    size_t len = strlen(text);
    e->size = len;
    int r = 0;
    if (s->dir && !s->readonly) {
        _cleanup_free_ char *p = entry_path(s, e->seq);
        r = write_file_atomic(p, text, len, 0600);
        if (r < 0)
            s->write_errors++;
    }
    json_object_put(o);
    return r;
}

int spool_put(spool *s, const alert *a, char *const *notifiers, size_t n, uint64_t now, spool_entry **out)
{
    spool_entry *e = xcalloc(1, sizeof *e);
    e->seq = s->next_seq++;
    e->enqueued = now;
    alert_copy(&e->a, a);
    e->nroutes = n;
    e->routes = xcalloc(n ? n : 1, sizeof *e->routes);
    for (size_t i = 0; i < n; i++)
        e->routes[i].notifier = xstrdup(notifiers[i]);
    json_object *o = entry_to_json(e);
    size_t size = strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    make_room(s, size);
    int r = write_entry(s, e);
    e->durable = r == 0 && s->dir;
    s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof *s->v);
    s->v[s->n++] = e;
    if (out)
        *out = e;
    return r;
}

static size_t index_of(const spool *s, const spool_entry *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == e)
            return i;
    return SIZE_MAX;
}

int spool_save(spool *s, spool_entry *e)
{
    size_t i = index_of(s, e);
    if (i == SIZE_MAX)
        return -ENOENT;
    if (!entry_has(e, ROUTE_PENDING) && !entry_has(e, ROUTE_DEAD)) {
        remove_at(s, i);
        return 0;
    }
    if (!e->durable)
        return 0;
    return write_entry(s, e);
}

size_t spool_expire(spool *s, uint64_t now)
{
    size_t k = 0;
    for (size_t i = 0; s->lim.max_age && i < s->n && s->v[i]->enqueued + s->lim.max_age < now;) {
        if (s->v[i]->keep) {
            i++;
            continue;
        }
        count_drop(s, s->v[i]);
        remove_at(s, i);
        k++;
    }
    return k;
}

size_t spool_purge_dead(spool *s)
{
    size_t k = 0;
    for (size_t i = s->n; i-- > 0;)
        if (!entry_has(s->v[i], ROUTE_PENDING)) {
            remove_at(s, i);
            k++;
        }
    return k;
}

size_t spool_count(const spool *s)
{
    return s->n;
}

spool_entry *spool_nth(spool *s, size_t i)
{
    return i < s->n ? s->v[i] : NULL;
}

spool_entry *spool_get(spool *s, uint64_t seq)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid]->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->v[lo]->seq == seq ? s->v[lo] : NULL;
}

spool_route *spool_route_of(spool_entry *e, const char *notifier)
{
    for (size_t i = 0; i < e->nroutes; i++)
        if (str_eq(e->routes[i].notifier, notifier))
            return &e->routes[i];
    return NULL;
}

spool_entry *spool_next(spool *s, const char *notifier)
{
    for (size_t i = 0; i < s->n; i++) {
        spool_route *r = spool_route_of(s->v[i], notifier);
        if (r && r->state == ROUTE_PENDING)
            return s->v[i];
    }
    return NULL;
}

void spool_get_stats(const spool *s, spool_stats *st)
{
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < s->n; i++) {
        const spool_entry *e = s->v[i];
        st->bytes += e->size;
        if (entry_has(e, ROUTE_PENDING)) {
            if (st->depth++ == 0)
                st->oldest = e->enqueued;
        } else {
            st->dead++;
        }
    }
    st->corrupt = s->corrupt;
    st->dropped = s->dropped;
    st->write_errors = s->write_errors;
}

bool spool_take_dropped(spool *s, spool_drops *d)
{
    if (s->drops.count == 0)
        return false;
    *d = s->drops;
    d->rules = strbuf_take(&s->drop_rules);
    memset(&s->drops, 0, sizeof s->drops);
    s->ndrop_rules = 0;
    return true;
}

const char *spool_dir(const spool *s)
{
    return s->dir;
}
