#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "util.h"

static int max_prio = LOG_INFO;
static bool journal;

void log_init(int verbose)
{
    max_prio = verbose ? LOG_DEBUG : LOG_INFO;
    /* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
    journal = getenv("JOURNAL_STREAM") != NULL;
}

static const char *prio_name(int prio)
{
    static const char *const names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
    return prio >= 0 && prio <= LOG_DEBUG ? names[prio] : "info";
}

static void to_journal(int prio, const char *const *fields, const char *msg)
{
    struct iovec iov[16];
    char *owned[16];
    size_t n = 0;
    owned[n] = xasprintf("MESSAGE=%s", msg);
    iov[n].iov_base = owned[n], iov[n].iov_len = strlen(owned[n]), n++;
    owned[n] = xasprintf("PRIORITY=%d", prio);
    iov[n].iov_base = owned[n], iov[n].iov_len = strlen(owned[n]), n++;
    owned[n] = xstrdup("SYSLOG_IDENTIFIER=pcmon");
    iov[n].iov_base = owned[n], iov[n].iov_len = strlen(owned[n]), n++;
    for (size_t i = 0; fields && fields[i] && n < 16; i++) {
        owned[n] = xstrdup(fields[i]);
        iov[n].iov_base = owned[n], iov[n].iov_len = strlen(owned[n]), n++;
    }
    sd_journal_sendv(iov, (int)n);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
}

/* Messages quote log text (alert titles, file names): a CR or LF in it must not start a forged
 * line of pcmon's log. Control bytes are written as \n, \r, \t or \xNN; one message, one line. */
static char *one_line(const char *msg)
{
    strbuf b = {0};
    strbuf_adds(&b, "");
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f)
            strbuf_addc(&b, (char)*p);
        else if (*p == '\n' || *p == '\r' || *p == '\t')
            strbuf_addf(&b, "\\%c", *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
        else
            strbuf_addf(&b, "\\x%02x", *p);
    }
    return strbuf_take(&b);
}

void log_fields(int prio, const char *const *fields, const char *fmt, ...)
{
    if (prio > max_prio)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    char *line = one_line(msg);
    free(msg);
    msg = line;
    if (journal)
        to_journal(prio, fields, msg);
    else
        fprintf(stderr, "pcmon: %s: %s\n", prio_name(prio), msg);
    free(msg);
}
