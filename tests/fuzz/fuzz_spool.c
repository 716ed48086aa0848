/* The spool reader at start: a spool directory holding corrupt or half-written entry files (what
 * a crash or a full disk leaves behind). spool_open must load every good file, count every bad
 * one exactly once (it is set aside, so the next open neither loads nor counts it again), give
 * the entries in sequence order, and every loaded alert must round-trip through its JSON.
 * Input: up to MAX_FILES file contents separated by NUL bytes; file i is named as the entry of
 * sequence number i + 1. The directory is under /dev/shm (or TMPDIR) and emptied per input. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

#include "fuzz.h"

#define MAX_FILES 4

static const char *work_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(dir, sizeof dir, "%s/pcmon-fuzz-spool.XXXXXX", base);
        FUZZ_ASSERT(mkdtemp(dir) != NULL);
    }
    return dir;
}

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    FUZZ_ASSERT(d != NULL);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            char *p = xasprintf("%s/%s", dir, de->d_name);
            unlink(p);
            free(p);
        }
    closedir(d);
}

static size_t write_files(const char *dir, const uint8_t *data, size_t size)
{
    size_t n = 0, i = 0;
    while (i <= size && n < MAX_FILES && size > 0) {
        const uint8_t *nul = i < size ? memchr(data + i, '\0', size - i) : NULL;
        size_t end = nul ? (size_t)(nul - data) : size;
        char *p = xasprintf("%s/%016llu.json", dir, (unsigned long long)n + 1);
        FUZZ_ASSERT(write_file_atomic(p, data + i, end - i, 0600) == 0);
        free(p);
        n++;
        i = end + 1;
    }
    return n;
}

static void check_entry(spool *s, spool_entry *e, uint64_t prev_seq)
{
    FUZZ_ASSERT(e->seq > prev_seq && e->nroutes > 0 && e->durable);
    FUZZ_ASSERT(spool_get(s, e->seq) == e);
    for (size_t r = 0; r < e->nroutes; r++) {
        FUZZ_ASSERT(e->routes[r].notifier && e->routes[r].state <= ROUTE_DEAD);
        FUZZ_ASSERT(spool_route_of(e, e->routes[r].notifier) != NULL);
        if (e->routes[r].state == ROUTE_PENDING)
            FUZZ_ASSERT(spool_next(s, e->routes[r].notifier) != NULL);
    }
    char *json = alert_to_json(&e->a);
    alert b = {0};
    int r = alert_from_json(json, strlen(json), &b);
    if (r != 0)
        fprintf(stderr, "alert_from_json refuses what alert_to_json wrote: %s\n", json);
    FUZZ_ASSERT(r == 0);
    alert_clear(&b);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = work_dir();
    empty_dir(dir);
    size_t nfiles = write_files(dir, data, size);

    spool *s = NULL;
    spool_stats st;
    FUZZ_ASSERT(spool_open(dir, NULL, SPOOL_READONLY, &s) == 0);
    size_t loaded = spool_count(s);
    spool_get_stats(s, &st);
    FUZZ_ASSERT(loaded + st.corrupt == nfiles);
    spool_free(s);

    FUZZ_ASSERT(spool_open(dir, NULL, 0, &s) == 0);
    FUZZ_ASSERT(spool_count(s) == loaded);
    uint64_t prev = 0;
    for (size_t i = 0; i < spool_count(s); i++) {
        spool_entry *e = spool_nth(s, i);
        check_entry(s, e, prev);
        prev = e->seq;
    }
    spool_get_stats(s, &st);
    FUZZ_ASSERT(st.depth + st.dead <= loaded && st.corrupt == nfiles - loaded);
    size_t purged = spool_purge_dead(s);
    FUZZ_ASSERT(spool_count(s) == loaded - purged);
    spool_free(s);

    /* Bad files were set aside and purged entries removed: a second start sees only the rest. */
    FUZZ_ASSERT(spool_open(dir, NULL, 0, &s) == 0);
    spool_get_stats(s, &st);
    FUZZ_ASSERT(spool_count(s) == loaded - purged && st.corrupt == 0);
    spool_free(s);
    return 0;
}
