/* file notifier: appends each alert as one JSON line (the object of design.md) to a file, the
 * audit trail that tools and tests read. One write(2) per line on an O_APPEND descriptor, so
 * concurrent readers never see half a line, and fdatasync before the spool lets go of it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "notify_backend.h"

static int file_init(notifier *n, char **err)
{
    n->target = xstrdup(n->cfg->path);
    return 0;
}

static notify_result file_deliver(notifier *n, const alert *a, uint64_t now)
{
    _cleanup_free_ char *json = alert_to_json(a);
    _cleanup_free_ char *line = xasprintf("%s\n", json);
    size_t len = strlen(line);
    _cleanup_close_ int fd = open(n->cfg->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return nr_retry(0, "%s: %s", n->cfg->path, strerror(errno));
    ssize_t w;
    do
        w = write(fd, line, len);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return nr_retry(0, "%s: %s", n->cfg->path, strerror(errno));
    if ((size_t)w != len) {   /* a full disk mid-line: end it, so the retried line starts clean */
        (void)!write(fd, "\n", 1);
        return nr_retry(0, "%s: short write (disk full?)", n->cfg->path);
    }
    if (fdatasync(fd) < 0 && errno != EINVAL)
        return nr_retry(0, "%s: %s", n->cfg->path, strerror(errno));
    return nr_ok();
}

const notify_backend notify_file_backend = {
    .type = "file",
    .init = file_init,
    .deliver = file_deliver,
};
