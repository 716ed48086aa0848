/* Which files hold secrets, and whether other users can read or replace them (docs/security.md,
 * "Secret files"). A file holds a secret when it is a notifier's url_file or password_file, or
 * when it is the configuration itself and carries one inline (a Slack `url`, a `user:password@`
 * in a URL). Such a file is insecure when its mode grants other users read (o+r: the secret
 * leaks) or write (o+w, g+w: the secret can be replaced, and alerts redirected or silenced).
 * Group read stays allowed: the daemon reads its secrets through group pcmon. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "util.h"

char *config_secret_mode_problem(unsigned mode)
{
    const char *what[3];
    size_t n = 0;
    if (mode & S_IROTH)
        what[n++] = "world-readable";
    if (mode & S_IWOTH)
        what[n++] = "world-writable";
    if (mode & S_IWGRP)
        what[n++] = "group-writable";
    if (n == 0)
        return NULL;
    return xasprintf("%s%s%s%s%s", what[0], n > 1 ? (n > 2 ? ", " : " and ") : "", n > 1 ? what[1] : "",
                     n > 2 ? " and " : "", n > 2 ? what[2] : "");
}

/* True when url carries user info (user:password@host): that part is a credential. */
static bool url_has_userinfo(const char *url)
{
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p)
        return false;
    p += 3;
    size_t host = strcspn(p, "/?#");
    return memchr(p, '@', host) != NULL;
}

/* What notifier n holds inline in the configuration file, for a message; NULL when nothing. */
static const char *inline_secret(const notifier_cfg *n)
{
    switch (n->type) {
    case NOTIFY_SLACK:
        return n->url && !n->url_file ? "the Slack webhook URL in \"url\"" : NULL;
    case NOTIFY_SMTP:
        return url_has_userinfo(n->url) ? "user:password@ in the SMTP \"url\"" : NULL;
    case NOTIFY_ALERTMANAGER:
        for (size_t i = 0; i < n->nurls; i++)
            if (url_has_userinfo(n->urls[i]))
                return "user:password@ in an Alertmanager URL";
        return NULL;
    default:
        return NULL;
    }
}

static void owner_text(const struct stat *st, char *buf, size_t len)
{
    const struct passwd *pw = getpwuid(st->st_uid);
    const struct group *gr = getgrgid(st->st_gid);
    char u[24], g[24];
    snprintf(u, sizeof u, "%u", (unsigned)st->st_uid);
    snprintf(g, sizeof g, "%u", (unsigned)st->st_gid);
    snprintf(buf, len, "%s:%s", pw ? pw->pw_name : u, gr ? gr->gr_name : g);
}

/* Checks one secret file; what says what it holds. Insecure modes go to insecure, a file that
 * cannot be checked to notes. Returns 1 when insecure. */
static int check_file(const pcmon_config *c, const notifier_cfg *n, const char *path, const char *what,
                      bool inline_cfg, config_errors *insecure, config_errors *notes)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (notes && !inline_cfg)
            config_error_add(notes, c->file, n->line, n->col, "notifiers[%s]: cannot check %s %s: %s (this "
                             "notifier will be unavailable)", n->name, what, path, strerror(errno));
        return 0;
    }
    _cleanup_free_ char *problem = config_secret_mode_problem((unsigned)st.st_mode);
    if (!problem)
        return 0;
    char owner[80];
    owner_text(&st, owner, sizeof owner);
    if (insecure)
        config_error_add(insecure, c->file, n->line, n->col, "notifiers[%s]: %s %s holds a secret and is %s (mode "
                         "%04o, owner %s); fix: chmod 0640 %s && chown root:pcmon %s%s", n->name, what, path,
                         problem, (unsigned)(st.st_mode & 07777), owner, path, path,
                         inline_cfg ? ", or move the secret to url_file/password_file" : "");
    return 1;
}

/* A path already checked (one file may serve several notifiers): reported once. */
static bool seen_path(const char **seen, size_t *n, const char *path)
{
    for (size_t i = 0; i < *n; i++)
        if (str_eq(seen[i], path))
            return true;
    seen[(*n)++] = path;
    return false;
}

size_t config_check_secrets(const pcmon_config *c, config_errors *insecure, config_errors *notes)
{
    size_t bad = 0, nseen = 0;
    bool cfg_done = false;
    const char **seen = xcalloc(2 * c->nnotifiers + 1, sizeof *seen);
    bool real_file = c->file && !str_eq(c->file, "<embedded>");
    for (size_t i = 0; i < c->nnotifiers; i++) {
        const notifier_cfg *n = &c->notifiers[i];
        const char *inl = inline_secret(n);
        if (inl && real_file && !cfg_done) {
            cfg_done = true;
            _cleanup_free_ char *what = xasprintf("the configuration (%s)", inl);
            bad += (size_t)check_file(c, n, c->file, what, true, insecure, notes);
        }
        if (n->url_file && !seen_path(seen, &nseen, n->url_file))
            bad += (size_t)check_file(c, n, n->url_file, "url_file", false, insecure, notes);
        if (n->password_file && !seen_path(seen, &nseen, n->password_file))
            bad += (size_t)check_file(c, n, n->password_file, "password_file", false, insecure, notes);
        if (n->insecure_skip_verify && notes)
            config_error_add(notes, c->file, n->line, n->col, "notifiers[%s]: insecure_skip_verify is on: TLS "
                             "certificates are NOT verified; anyone on the network path can read the secret and "
                             "forge the server's answers (meant for tests only)", n->name);
    }
    free(seen);
    return bad;
}
