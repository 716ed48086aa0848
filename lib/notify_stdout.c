/* stdout notifier: the terminal rendering of alert.c (the default when no notifier is
 * configured, and what `pcmon run` in a terminal shows). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "notify_backend.h"

static int stdout_init(notifier *n, char **err)
{
    n->target = xstrdup("stdout");
    return 0;
}

static notify_result stdout_deliver(notifier *n, const alert *a, uint64_t now)
{
    _cleanup_free_ char *text = alert_format_text(a, isatty(STDOUT_FILENO));
    clearerr(stdout);
    fputs(text, stdout);
    fputs("\n\n", stdout);
    if (fflush(stdout) != 0 || ferror(stdout))
        return nr_retry(0, "stdout: %s", strerror(errno));
    return nr_ok();
}

const notify_backend notify_stdout_backend = {
    .type = "stdout",
    .init = stdout_init,
    .deliver = stdout_deliver,
};
