#include "metrics.h"

#include <json-c/json.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "notify.h"
#include "util.h"

/* Label values are quoted; backslash, quote and newline are escaped (text format 0.0.4). */
static void label(strbuf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            strbuf_addc(b, '\\');
        if (*v == '\n') {
            strbuf_adds(b, "\\n");
            continue;
        }
        strbuf_addc(b, *v);
    }
}

static void header(strbuf *b, const char *name, const char *type, const char *help)
{
    strbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(strbuf *b, const char *name, const char *lname, const char *lvalue, unsigned long long v)
{
    strbuf_adds(b, name);
    if (lname) {
        strbuf_addf(b, "{%s=\"", lname);
        label(b, lvalue);
        strbuf_adds(b, "\"}");
    }
    strbuf_addf(b, " %llu\n", v);
}

static void source_metrics(daemon_t *d, strbuf *b)
{
    tailer_source_status st[d->c->nsources + 1];
    size_t n = tailer_status(d->t, st, d->c->nsources);
    header(b, "pcmon_lines_read_total", "counter", "Log lines read, per source.");
    for (size_t i = 0; i < n; i++)
        sample(b, "pcmon_lines_read_total", "source", d->c->sources[i].name, st[i].lines);
    header(b, "pcmon_lines_cut_total", "counter", "Lines longer than tailer.max_line (cap hit).");
    for (size_t i = 0; i < n; i++)
        sample(b, "pcmon_lines_cut_total", "source", d->c->sources[i].name, st[i].cut_lines);
    header(b, "pcmon_rotations_total", "counter", "Rotations and truncations followed, per source.");
    for (size_t i = 0; i < n; i++)
        sample(b, "pcmon_rotations_total", "source", d->c->sources[i].name, st[i].rotations + st[i].truncations);
    header(b, "pcmon_source_gaps_total", "counter", "Data that could not be recovered (copytruncate gaps).");
    for (size_t i = 0; i < n; i++)
        sample(b, "pcmon_source_gaps_total", "source", d->c->sources[i].name, st[i].gaps);
}

static void rule_metrics(daemon_t *d, strbuf *b)
{
    const rules_stats *rs = rules_get_stats(d->r);
    header(b, "pcmon_matches_total", "counter", "Lines matched, per rule.");
    for (size_t i = 0; i < d->c->nrules; i++)
        sample(b, "pcmon_matches_total", "rule", d->c->rules[i].id, rs->matches[i]);
    header(b, "pcmon_alerts_total", "counter", "Alerts sent (firing and resolved), per rule.");
    if (d->alerts_by_rule) {
        json_object_object_foreach(d->alerts_by_rule, rule, count)
            sample(b, "pcmon_alerts_total", "rule", rule, (unsigned long long)json_object_get_int64(count));
    }
    header(b, "pcmon_malformed_lines_total", "counter", "Lines skipped: JSON that did not parse, regex limits.");
    sample(b, "pcmon_malformed_lines_total", "reason", "json", rs->json_errors);
    sample(b, "pcmon_malformed_lines_total", "reason", "match_limit", rs->match_errors);
    const grouper_stats *gs = grouper_get_stats(d->g);
    header(b, "pcmon_open_groups", "gauge", "Alert groups open now.");
    sample(b, "pcmon_open_groups", NULL, NULL, grouper_open_groups(d->g));
    header(b, "pcmon_caps_hit_total", "counter", "Times a bound was hit, per cap.");
    sample(b, "pcmon_caps_hit_total", "cap", "groups", gs->groups_evicted);
    sample(b, "pcmon_caps_hit_total", "cap", "lines_per_alert", gs->lines_dropped);
    sample(b, "pcmon_caps_hit_total", "cap", "storm", storm_held(d->sm));
}

static void delivery_metrics(daemon_t *d, strbuf *b, uint64_t now)
{
    size_t n = 0;
    const struct notify_stat *ns = sink_stats(d->sk, &n);
    header(b, "pcmon_deliveries_total", "counter", "Deliveries per notifier and outcome.");
    for (size_t i = 0; i < n; i++) {
        const struct { const char *result; uint64_t v; } r[] = {
            { "ok", ns[i].ok }, { "failed", ns[i].failed }, { "dead", ns[i].dead } };
        for (size_t k = 0; k < ELEMENTSOF(r); k++) {
            strbuf_adds(b, "pcmon_deliveries_total{notifier=\"");
            label(b, ns[i].name);
            strbuf_addf(b, "\",result=\"%s\"} %llu\n", r[k].result, (unsigned long long)r[k].v);
        }
    }
    uint64_t oldest = 0;
    header(b, "pcmon_spool_depth", "gauge", "Alerts waiting in the spool for a notifier.");
    sample(b, "pcmon_spool_depth", NULL, NULL, sink_spool_depth(d->sk, &oldest));
    header(b, "pcmon_spool_oldest_age_seconds", "gauge", "Age of the oldest undelivered alert.");
    sample(b, "pcmon_spool_oldest_age_seconds", NULL, NULL, oldest && now > oldest ? (now - oldest) / USEC_PER_SEC : 0);
}

char *metrics_render(daemon_t *d, uint64_t now)
{
    strbuf b = {0};
    source_metrics(d, &b);
    rule_metrics(d, &b);
    delivery_metrics(d, &b, now);
    header(&b, "pcmon_config_reloads_total", "counter", "SIGHUP reloads, by result.");
    sample(&b, "pcmon_config_reloads_total", "result", "ok", d->reloads_ok);
    sample(&b, "pcmon_config_reloads_total", "result", "failed", d->reloads_failed);
    header(&b, "pcmon_last_write_timestamp_seconds", "gauge", "When pcmon wrote this file.");
    sample(&b, "pcmon_last_write_timestamp_seconds", NULL, NULL, now / USEC_PER_SEC);
    return strbuf_take(&b);
}

uint64_t metrics_step(daemon_t *d, uint64_t now)
{
    if (!d->c->metrics.path)
        return USEC_INFINITY;
    if (now >= d->metrics_due) {
        _cleanup_free_ char *text = metrics_render(d, now);
        int r = write_file_atomic(d->c->metrics.path, text, strlen(text), 0644);
        if (r < 0 && !d->metrics_failed)
            log_error("cannot write metrics to %s: %s", d->c->metrics.path, strerror(-r));
        d->metrics_failed = r < 0;
        d->metrics_due = now + d->c->metrics.interval;
    }
    return d->metrics_due;
}
