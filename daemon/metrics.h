/* Metrics for the Prometheus node_exporter textfile collector (the monitoring these clusters
 * already run): written atomically every metrics.interval to metrics.path when configured. */
#ifndef PCMON_METRICS_H
#define PCMON_METRICS_H

#include <stdint.h>

#include "daemon.h"

/* Renders every metric in the Prometheus text format. Caller frees. */
char *metrics_render(daemon_t *d, uint64_t now);
/* Writes the file when it is due; returns the next time it is due (USEC_INFINITY when off). */
uint64_t metrics_step(daemon_t *d, uint64_t now);

#endif
