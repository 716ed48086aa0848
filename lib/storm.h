/* Storm control: a ceiling of alerts per minute per notifier (grouping.storm_per_minute). Alerts past
 * it are held back from that notifier and, when the minute ends, one summary alert says how many were
 * held, of which rules, and why. Nothing is dropped silently. Sits between the grouper and the sink;
 * the clock is passed in. */
#ifndef PCMON_STORM_H
#define PCMON_STORM_H

#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "grouper.h"

typedef struct storm storm;

/* out receives the alerts that pass (with `notify` narrowed to the notifiers still under the
 * ceiling) and the summaries. */
storm *storm_new(const pcmon_config *c, grouper_emit_fn out, void *userdata);
storm *storm_free(storm *s);
/* A grouper_emit_fn: userdata is the storm. Uses the clock of the last storm_tick. */
void storm_emit(void *userdata, const alert *a);
/* Advances the clock; ends minutes that are over (sending their summaries). */
void storm_tick(storm *s, uint64_t now);
uint64_t storm_next_deadline(const storm *s);
/* Alerts held back so far (cap counter for status and metrics). */
uint64_t storm_held(const storm *s);

#endif
