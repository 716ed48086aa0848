/* What a notifier backend (notify_<type>.c) plugs into the engine (notify.c): a table of
 * functions per type. A backend builds transfers (curl easy handles with their request body)
 * for an alert, and classifies what came back; the engine runs them, schedules and retries.
 * Pure payload builders are exported too, for their unit tests. */
#ifndef PCMON_NOTIFY_BACKEND_H
#define PCMON_NOTIFY_BACKEND_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "util.h"

/* A response body is read up to this much (Slack's "ok", an SNS XML reply, IMDS JSON). */
#define XFER_RESP_MAX ((size_t)64 << 10)

typedef struct notify_job notify_job;

typedef struct notify_xfer {
    notify_job *job;
    CURL *easy;
    struct curl_slist *headers;
    strbuf req;                /* request body (POSTFIELDS or upload) */
    size_t req_off;
    strbuf resp;               /* response body, capped at XFER_RESP_MAX */
    long status;               /* HTTP status or SMTP reply code */
    CURLcode code;
    uint64_t retry_after;      /* usec, from Retry-After; 0 = none */
    int tag;                   /* backend's own meaning (which step) */
    char errbuf[CURL_ERROR_SIZE];
    bool done;
} notify_xfer;

enum notify_verdict { NV_OK, NV_RETRY, NV_DEAD, NV_CONTINUE };

typedef struct notify_result {
    enum notify_verdict v;
    uint64_t retry_after;      /* NV_RETRY: usec to wait (0 = the backoff) */
    char *reason;              /* owned; NULL on NV_OK */
} notify_result;

typedef struct notifier notifier;

/* One attempt to deliver one alert: one or more transfers (Alertmanager peers, IMDS steps). */
struct notify_job {
    notifier *n;
    uint64_t seq;
    notify_xfer **x;
    size_t nx, cap;
};

typedef struct notify_backend {
    const char *type;
    uint64_t min_interval;     /* pacing between two sends of one notifier */
    /* Reads secrets, checks versions, sets n->priv/target/secrets. 0, or -errno with *err set. */
    int (*init)(notifier *n, char **err);
    void (*done)(notifier *n);
    /* Local backends: deliver at once. */
    notify_result (*deliver)(notifier *n, const alert *a, uint64_t now);
    /* Network backends: add transfers to j. 0, or -errno with *err (a dead reason). */
    int (*start)(notifier *n, notify_job *j, const alert *a, uint64_t now, char **err);
    /* Every transfer of j is done: NV_CONTINUE after adding new transfers (the old ones are
     * freed by the engine), or the verdict. */
    notify_result (*finish)(notifier *n, notify_job *j, const alert *a, uint64_t now);
} notify_backend;

#define NOTIFIER_SECRETS 4

struct notifier {
    const notifier_cfg *cfg;
    const notify_backend *be;
    void *priv;
    char *target;              /* what messages may show: scheme://host[:port] or a path */
    char *secrets[NOTIFIER_SECRETS];   /* scrubbed from every message */
    const char *hostname;
    unsigned long curl_version;
    uint64_t rand_state;       /* for Message-IDs */
};

/* A transfer with pcmon's common options: URL, timeouts from cfg (connect and total), TLS
 * verification (ca_file; insecure_skip_verify), protocols limited to what url's scheme needs, no
 * redirects, response capture, Retry-After. Added to j. */
notify_xfer *notify_xfer_new(notify_job *j, const char *url);
/* Sends x->req as the body of a POST. */
void notify_xfer_post(notify_xfer *x, const char *content_type);
/* Sends x->req as an upload (SMTP DATA). */
void notify_xfer_upload(notify_xfer *x);
void notify_xfer_header(notify_xfer *x, const char *header);
/* Frees every transfer of j (the engine has removed them from the multi handle). */
void notify_job_clear(notify_job *j);

notify_result nr_ok(void);
notify_result nr_retry(uint64_t after, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
notify_result nr_dead(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The usual reading of a transfer that failed below HTTP (connect, TLS, timeout): retry. */
notify_result nr_from_curl(const notify_xfer *x);

/* scheme://host[:port] of url, without user info, path or query. Caller frees. */
char *url_redact(const char *url);
/* A copy of s with every occurrence of each non-empty secret replaced by "…". Caller frees. */
char *redact_secrets(const char *s, char *const *secrets, size_t n);
/* Reads a secret from a file: first line, surrounding whitespace trimmed. 0 or -errno. */
int read_secret(const char *path, char **out);
/* The first n bytes of s as printable text for a message (controls dropped). Caller frees. */
char *printable(const char *s, size_t n);
/* A pseudo-random 64-bit number (splitmix64). */
uint64_t notify_rand(uint64_t *state);

extern const notify_backend notify_file_backend, notify_stdout_backend, notify_slack_backend, notify_smtp_backend,
    notify_alertmanager_backend, notify_sns_backend;

/* Payload builders (pure; unit-tested). */
/* Slack Block Kit message for a, within Slack's limits. Caller frees. */
char *slack_payload(const alert *a);
/* Escapes & < > for Slack mrkdwn, appending at most cap bytes (cut on a UTF-8 boundary, never inside
 * an entity). Returns how many bytes of s were consumed. */
size_t slack_escape(strbuf *b, const char *s, size_t len, size_t cap);
/* RFC 5322 message with CRLF line ends. Caller frees. */
char *smtp_message(const alert *a, const char *from, char *const *to, size_t nto, const char *hostname,
                   uint64_t now, uint64_t rnd);
/* The value of an RFC 5322 header field: controls (CR, LF, ...) dropped, non-ASCII as RFC 2047
 * encoded-words. Appends to b. */
void smtp_header_value(strbuf *b, const char *s);
/* Alertmanager v2 POST /api/v2/alerts body (a JSON array with one alert). Caller frees. */
char *alertmanager_payload(const alert *a, const char *cluster, uint64_t now);
/* SNS Publish form body. Caller frees. */
char *sns_publish_body(const alert *a, const char *topic_arn);
/* The region of an ARN ("arn:aws:sns:REGION:ACCOUNT:NAME"), or NULL. Caller frees. */
char *sns_region_of(const char *arn);
/* Exponential backoff with equal jitter: the attempts-th retry waits base * 2^(attempts-1),
 * capped at max, of which a random half. */
uint64_t notify_backoff(uint64_t base, uint64_t max, unsigned attempts, uint64_t *rand_state);

#endif
