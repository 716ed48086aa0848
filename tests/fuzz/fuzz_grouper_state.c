/* The grouper's state file (<state_dir>/grouper.json), read at start: any bytes are refused
 * (-EINVAL, nothing changes) or restored; a restored state saves, restores and saves again to
 * the same text, and the restored groups run their timers to the end, each alert round-tripping
 * through alert_to_json -> alert_from_json. */
#include <errno.h>

#include "alert.h"
#include "grouper.h"

#include "fuzz.h"

/* Timer steps run after a restore; each moves the clock to the next deadline. */
#define STEPS_MAX 64

static void check_alert(void *userdata, const alert *a)
{
    char *json = alert_to_json(a);
    alert b = {0};
    int r = alert_from_json(json, strlen(json), &b);
    if (r != 0)
        fprintf(stderr, "alert_from_json refuses what alert_to_json wrote: %s\n", json);
    FUZZ_ASSERT(r == 0);
    char *again = alert_to_json(&b);
    FUZZ_ASSERT(strcmp(json, again) == 0);
    alert_clear(&b);
    free(again);
    free(json);
}

static void run_timers(grouper *g)
{
    for (int i = 0; i < STEPS_MAX; i++) {
        uint64_t t = grouper_next_deadline(g);
        if (t == UINT64_MAX)
            break;
        grouper_tick(g, t);
    }
    grouper_flush(g, UINT64_MAX - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_default *d = fuzz_default_get();
    fuzz_default_reset(d);
    grouper *g = grouper_new(d->c, check_alert, NULL);
    char *before = grouper_save(g);
    int r = grouper_restore(g, (const char *)data, size);
    FUZZ_ASSERT(r == 0 || r == -EINVAL);
    char *saved = grouper_save(g);
    if (r < 0) {
        FUZZ_ASSERT(strcmp(before, saved) == 0);
    } else {
        grouper *g2 = grouper_new(d->c, check_alert, NULL);
        FUZZ_ASSERT(grouper_restore(g2, saved, strlen(saved)) == 0);
        char *again = grouper_save(g2);
        if (strcmp(saved, again) != 0)
            fprintf(stderr, "first:  %s\nsecond: %s\n", saved, again);
        FUZZ_ASSERT(strcmp(saved, again) == 0);
        free(again);
        grouper_free(g2);
        run_timers(g);
    }
    free(saved);
    free(before);
    grouper_free(g);
    return 0;
}
