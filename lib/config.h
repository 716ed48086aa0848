/* The configuration: /etc/pcmon.yaml (or the embedded default, conf/pcmon.yaml) parsed into
 * plain structs. Loading parses into a new config and validates all of it; a caller swaps it in
 * only when the load succeeded, so a failed reload changes nothing. The schema is documented in
 * docs/pcmon.yaml.5.md. Durations are in microseconds. */
#ifndef PCMON_CONFIG_H
#define PCMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"

enum source_format { SOURCE_TEXT, SOURCE_JSON };

typedef struct source_cfg {
    char *name;
    char *path;
    enum source_format format;
    bool start_at_beginning;   /* start_at: beginning|end (first start only) */
    int line, col;             /* where it was defined, for messages */
} source_cfg;

enum rule_kind {
    RULE_EVENT,     /* each match is an occurrence; groups close after quiet */
    RULE_STATE,     /* match fires, resolve clears; one alert per episode */
    RULE_FLATLINE,  /* fires when its sources produce no matching line for `silence` */
    RULE_CONTEXT,   /* remembers its named groups for later matches on the same source and key */
};

/* One condition of a JSON rule: the value at a dotted path ("detail.failure-type") must equal one
 * of values (a YAML scalar or list). */
typedef struct json_cond {
    char *path;
    char **values;
    size_t nvalues;
} json_cond;

/* A field taken from a JSON event: name <- value at path (a string, number or list). */
typedef struct json_field {
    char *name;
    char *path;
} json_field;

typedef struct rule_cfg {
    char *id;
    enum rule_kind kind;
    bool ignore;               /* drop the line: noise that must never alert */
    char **sources;            /* names of source_cfg; NULL/0 means every source */
    size_t nsources;
    char **match;              /* PCRE2 patterns on the line, any of them matches: YAML `match:` is a
                                * scalar or a list of scalars (optional for JSON rules) */
    size_t nmatch;
    char *resolve;             /* state rules: PCRE2 that clears the state */
    char *resolve_changed;     /* state rules: resolve only when this field's value differs from the
                                * firing match's (e.g. a heartbeat timestamp that moved on) */
    char *pending;             /* state rules: PCRE2 for "a clear was requested" */
    uint64_t pending_timeout;  /* ... a message if not cleared within this */
    json_cond *json;           /* JSON rules: all must hold */
    size_t njson;
    json_field *json_fields;
    size_t njson_fields;
    fieldset set;              /* constant fields added to every match ("set:") */
    char *severity;            /* critical | warning | info */
    char **group_by;
    size_t ngroup_by;
    uint64_t group_wait, group_interval, repeat_interval;  /* USEC_INFINITY = default */
    uint64_t silence;          /* flatline rules */
    char *context_key;         /* context rules: field that keys the context ("pid") */
    char **context_for;        /* context rules: ids of the rules that receive it (YAML `for:`); 0 = all */
    size_t ncontext_for;
    uint64_t context_ttl;
    char *title, *text;        /* templates with {field} placeholders; NULL = built-in */
    char **notify;             /* notifier names; NULL/0 means every notifier */
    size_t nnotify;
    int line, col;
} rule_cfg;

enum notifier_type { NOTIFY_FILE, NOTIFY_STDOUT, NOTIFY_SLACK, NOTIFY_SMTP, NOTIFY_ALERTMANAGER, NOTIFY_SNS };

typedef struct notifier_cfg {
    char *name;
    enum notifier_type type;
    char *path;                /* file */
    char *url, *url_file;      /* slack, alertmanager (url may be a list joined by spaces) */
    char **urls;               /* alertmanager HA peers */
    size_t nurls;
    char *from, **to;          /* smtp */
    size_t nto;
    char *username, *password_file;
    char *topic_arn, *region, *endpoint, *imds_endpoint;   /* sns */
    char *ca_file;
    bool insecure_skip_verify;
    uint64_t timeout;
    uint64_t retry_base, retry_max;   /* delivery: first retry delay, cap of the exponential backoff */
    int line, col;
} notifier_cfg;

typedef struct grouping_cfg {
    uint64_t group_wait_event, group_wait_state;
    uint64_t group_interval, repeat_interval;
    unsigned max_lines;         /* contributing lines kept per alert (design.md: 1000) */
    unsigned max_groups;        /* open groups at most; past it the oldest closes (counted) */
    unsigned storm_per_minute;  /* alerts per minute per notifier before a summary */
    uint64_t pending_timeout;
} grouping_cfg;

/* The delivery spool (<state_dir>/spool): past a cap the oldest alerts are dropped, counted and
 * reported in one summary alert. */
typedef struct spool_cfg {
    size_t max_bytes;
    unsigned max_alerts;
    uint64_t max_age;
} spool_cfg;

/* Metrics for the Prometheus node_exporter textfile collector; path NULL = off. */
typedef struct metrics_cfg {
    char *path;
    uint64_t interval;
} metrics_cfg;

typedef struct pcmon_config {
    char *file;                 /* path it was loaded from, "<embedded>" for the default */
    char *state_dir;
    char *cluster, *region;     /* "" means discover (events, dna.json, cfnconfig) */
    size_t max_line;            /* tailer line cap, bytes */
    uint64_t partial_flush;     /* flush a partial last line after this idle time */
    source_cfg *sources;
    size_t nsources;
    rule_cfg *rules;
    size_t nrules;
    notifier_cfg *notifiers;
    size_t nnotifiers;
    grouping_cfg grouping;
    spool_cfg spool;
    metrics_cfg metrics;
} pcmon_config;

/* One problem found while loading: FILE:LINE:COL: message. */
typedef struct config_error {
    char *file;
    int line, col;
    char *msg;
} config_error;

typedef struct config_errors {
    config_error *v;
    size_t n, cap;
} config_errors;

/* Loads and validates YAML text (name is used in messages). Returns a new config, or NULL with
 * every problem appended to errs (several errors are reported in one run). Rules' regexes are
 * compiled by rules_compile(), which appends its errors the same way. */
pcmon_config *config_load_buffer(const char *name, const char *text, size_t len, config_errors *errs);
/* Reads path and calls config_load_buffer. An unreadable file is one error. */
pcmon_config *config_load_file(const char *path, config_errors *errs);
/* The embedded default (conf/pcmon.yaml compiled in). */
pcmon_config *config_load_default(config_errors *errs);

/* Secret files (config_secrets.c, docs/security.md): every url_file and password_file, and the
 * configuration file itself when it holds a secret inline. Each one whose mode lets other users
 * read it (o+r) or replace it (o+w, g+w) is appended to insecure (FILE:LINE:COL of the notifier,
 * naming the file, its mode, owner and the fix) and counted in the result. Secret files that
 * cannot be stat'ed and notifiers with insecure_skip_verify on are appended to notes. Either list
 * may be NULL. Returns how many files are insecure. */
size_t config_check_secrets(const pcmon_config *c, config_errors *insecure, config_errors *notes);
/* "world-readable", "group-writable and ..." for a secret file's mode, or NULL when it is safe.
 * Caller frees. */
char *config_secret_mode_problem(unsigned mode);

const source_cfg *config_source(const pcmon_config *c, const char *name);
const notifier_cfg *config_notifier(const pcmon_config *c, const char *name);

/* Appends "file:line:col: message" (printf format). */
void config_error_add(config_errors *e, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void config_errors_free(config_errors *e);

/* Frees everything; accepts NULL, returns NULL. */
pcmon_config *config_free(pcmon_config *c);

extern const char pcmon_default_config[];
extern const size_t pcmon_default_config_len;

#endif
