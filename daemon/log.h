/* The daemon's log: structured journald entries under systemd (JOURNAL_STREAM set), plain
 * "pcmon: level: message" lines on stderr otherwise. Never pass a secret. */
#ifndef PCMON_LOG_H
#define PCMON_LOG_H

#include <syslog.h>

void log_init(int verbose);
/* Extra journald fields as "NAME=value" strings, NULL-terminated; may be NULL. */
void log_fields(int prio, const char *const *fields, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_error(...) log_fields(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_fields(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...) log_fields(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...) log_fields(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_fields(LOG_DEBUG, NULL, __VA_ARGS__)

#endif
