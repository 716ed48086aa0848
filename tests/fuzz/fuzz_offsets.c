/* The tailer's state file (<state_dir>/offsets.json), read at start: any bytes are refused
 * (-EINVAL, the table left empty) or loaded; a loaded table writes out, reads back and writes out
 * again to the same text, with every source found by its name and no head longer than hashed. */
#include <errno.h>

#include "offsets.h"

#include "fuzz.h"

static void check_table(const offset_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const offset_entry *e = &t->v[i];
        FUZZ_ASSERT(e->name && e->path && offsets_find(t, e->name) == e);
        FUZZ_ASSERT(!e->has_cur || e->cur.head_len <= OFFSETS_HEAD_MAX);
        for (size_t k = 0; k < e->ndrain; k++)
            FUZZ_ASSERT(e->drain[k].head_len <= OFFSETS_HEAD_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    offset_table t = {0}, back = {0};
    int r = offsets_from_json((const char *)data, size, &t);
    FUZZ_ASSERT(r == 0 || r == -EINVAL);
    if (r < 0) {
        FUZZ_ASSERT(t.n == 0);
        offsets_clear(&t);
        return 0;
    }
    check_table(&t);
    char *json = offsets_to_json(&t);
    r = offsets_from_json(json, strlen(json), &back);
    if (r != 0)
        fprintf(stderr, "offsets_from_json refuses what offsets_to_json wrote: %s\n", json);
    FUZZ_ASSERT(r == 0 && back.n == t.n);
    char *again = offsets_to_json(&back);
    if (strcmp(json, again) != 0)
        fprintf(stderr, "first:  %s\nsecond: %s\n", json, again);
    FUZZ_ASSERT(strcmp(json, again) == 0);
    free(again);
    free(json);
    offsets_clear(&back);
    offsets_clear(&t);
    return 0;
}
