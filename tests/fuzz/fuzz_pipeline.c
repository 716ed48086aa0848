/* The whole replay path, as `pcmon replay` runs it: recorded files read line by line (cut at
 * max_line, merged by timestamp), timestamps of text and JSON events, the shipped rules, derived
 * fields, the grouper and its templates. Every alert must survive alert_to_json ->
 * alert_from_json unchanged, the grouper must account for every match, and its saved state must
 * restore to the same state.
 * Input: byte 0 picks max_line (32 + 64 * b); the rest is up to MAX_FILES files separated by NUL
 * bytes, the first byte of each picking its source (modulo the number of sources). */
#include <sys/mman.h>
#include <unistd.h>

#include "alert.h"
#include "grouper.h"
#include "pipeline.h"
#include "replay.h"

#include "fuzz.h"

#define MAX_FILES 6

static void check_alert(void *userdata, const alert *a)
{
    uint64_t *alerts = userdata;
    char *json = alert_to_json(a);
    alert b = {0};
    int r = alert_from_json(json, strlen(json), &b);
    if (r != 0)
        fprintf(stderr, "alert_from_json refuses what alert_to_json wrote: %s\n", json);
    FUZZ_ASSERT(r == 0);
    char *again = alert_to_json(&b);
    FUZZ_ASSERT(strcmp(json, again) == 0);
    FUZZ_ASSERT(a->rule && a->title && a->text && a->first_seen <= a->last_seen);
    free(alert_format_text(a, false));
    alert_clear(&b);
    free(again);
    free(json);
    (*alerts)++;
}

/* The grouper's state saved, restored into a new grouper and saved again reads the same. */
static void check_state(const pcmon_config *c, grouper *g)
{
    uint64_t alerts = 0;
    char *saved = grouper_save(g);
    grouper *g2 = grouper_new(c, check_alert, &alerts);
    FUZZ_ASSERT(grouper_restore(g2, saved, strlen(saved)) == 0);
    char *again = grouper_save(g2);
    FUZZ_ASSERT(strcmp(saved, again) == 0);
    FUZZ_ASSERT(grouper_open_groups(g2) == grouper_open_groups(g));
    grouper_free(g2);
    free(again);
    free(saved);
}

/* Each file becomes a memfd, opened by replay through /proc/self/fd like any recorded file. */
static size_t make_inputs(const pcmon_config *c, const uint8_t *data, size_t size, int *fds,
                          char paths[][64], replay_input *in)
{
    size_t n = 0, i = 0;
    while (i < size && n < MAX_FILES) {
        const uint8_t *nul = memchr(data + i, '\0', size - i);
        size_t end = nul ? (size_t)(nul - data) : size;
        fds[n] = memfd_create("fuzz-log", MFD_CLOEXEC);
        FUZZ_ASSERT(fds[n] >= 0);
        if (end > i + 1)
            FUZZ_ASSERT(write(fds[n], data + i + 1, end - i - 1) == (ssize_t)(end - i - 1));
        snprintf(paths[n], sizeof paths[n], "/proc/self/fd/%d", fds[n]);
        in[n] = (replay_input){ .src = data[i] % c->nsources, .open = paths[n], .shown = paths[n] };
        n++;
        i = end + 1;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_default *d = fuzz_default_get();
    fuzz_default_reset(d);
    size_t max_line = 32 + 64 * (size_t)data[0];
    int fds[MAX_FILES];
    char paths[MAX_FILES][64];
    replay_input in[MAX_FILES];
    size_t n = make_inputs(d->c, data + 1, size - 1, fds, paths, in);

    uint64_t alerts = 0;
    grouper *g = grouper_new(d->c, check_alert, &alerts);
    pipeline *p = pipeline_new(d->c, d->r, g);
    replay_stats st;
    FUZZ_ASSERT(replay_run(p, g, in, n, max_line, &st) == 0);
    FUZZ_ASSERT(st.files_missing == 0 && pipeline_get_stats(p)->lines == st.lines);
    const grouper_stats *gs = grouper_get_stats(g);
    FUZZ_ASSERT(gs->closed_count + grouper_open_count(g) == gs->matches);
    FUZZ_ASSERT(gs->alerts == alerts);
    check_state(d->c, g);

    pipeline_free(p);
    grouper_free(g);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    return 0;
}
