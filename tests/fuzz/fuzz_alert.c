/* The alert object as the spool stores it: alert_from_json accepts or refuses any bytes (leaving
 * the alert untouched when it refuses), and what it accepts round-trips through alert_to_json
 * stably; the terminal rendering and alert_copy take whatever it accepted. */
#include "alert.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    alert a = {0}, b = {0}, copy = {0};
    alert untouched = { .rule = (char *)"sentinel" };
    alert probe = untouched;
    if (alert_from_json((const char *)data, size, &probe) < 0) {
        FUZZ_ASSERT(memcmp(&probe, &untouched, sizeof probe) == 0);
        return 0;
    }
    a = probe;
    FUZZ_ASSERT(a.rule != NULL);
    char *json = alert_to_json(&a);
    FUZZ_ASSERT(alert_from_json(json, strlen(json), &b) == 0);
    char *again = alert_to_json(&b);
    if (strcmp(json, again) != 0)
        fprintf(stderr, "first:  %s\nsecond: %s\n", json, again);
    FUZZ_ASSERT(strcmp(json, again) == 0);

    alert_copy(&copy, &a);
    char *copied = alert_to_json(&copy);
    FUZZ_ASSERT(strcmp(json, copied) == 0);
    free(alert_format_text(&a, true));
    free(alert_format_text(&a, false));

    free(copied);
    free(again);
    free(json);
    alert_clear(&copy);
    alert_clear(&b);
    alert_clear(&a);
    return 0;
}
