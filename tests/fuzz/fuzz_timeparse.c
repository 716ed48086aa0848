/* Timestamps at the start of log lines and durations in the config. ts_parse never reads past
 * len (the input is exactly its own heap block) and what ts_format prints parses back to the
 * same millisecond (times past the year 9999 print as its last millisecond); parse_duration and
 * format_duration round-trip to the second (or the millisecond below one second). */
#include "macro.h"
#include "timeparse.h"

#include "fuzz.h"

/* 9999-12-31T23:59:59.999999Z: ts_format prints four-digit years, later times as this one. */
#define TS_FORMAT_MAX UINT64_C(253402300799999999)

static void check_ts(const uint8_t *data, size_t size)
{
    uint64_t us = 0, back = 0;
    size_t n = ts_parse((const char *)data, size, &us);
    FUZZ_ASSERT(n <= size);
    if (n == 0)
        return;
    char buf[64];
    ts_format(us, buf, sizeof buf);
    FUZZ_ASSERT(ts_parse(buf, strlen(buf), &back) == strlen(buf));
    if (us > TS_FORMAT_MAX)
        us = TS_FORMAT_MAX;
    FUZZ_ASSERT(back == us - us % USEC_PER_MSEC);
}

static void check_duration(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    uint64_t us = 0, back = 0;
    if (parse_duration(s, &us) == 0 && us != USEC_INFINITY) {
        char buf[64];
        format_duration(us, buf, sizeof buf);
        FUZZ_ASSERT(parse_duration(buf, &back) == 0);
        FUZZ_ASSERT(back == (us < USEC_PER_SEC ? us - us % USEC_PER_MSEC : us - us % USEC_PER_SEC));
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_ts(data, size);
    check_duration(data, size);
    return 0;
}
