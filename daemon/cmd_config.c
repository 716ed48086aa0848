/* check-config, version, and the config loading every command shares. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <yaml.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cli.h"
#include "log.h"
#include "rules.h"
#include "util.h"

void cli_print_errors(const config_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", e->v[i].file, e->v[i].line, e->v[i].col, e->v[i].msg);
}

static bool curl_has_protocol(const curl_version_info_data *cv, const char *proto)
{
    for (const char *const *p = cv->protocols; p && *p; p++)
        if (str_eq(*p, proto))
            return true;
    return false;
}

/* What this libcurl cannot do for the configured notifiers: EL9 and AL2023 cloud images ship
 * libcurl-minimal (no SMTP), EL8's 7.61 has no SigV4 (SNS needs 7.75, reliable from 7.86). */
static void check_libcurl(const pcmon_config *c, config_errors *errs)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    for (size_t i = 0; i < c->nnotifiers; i++) {
        const notifier_cfg *n = &c->notifiers[i];
        bool tls = n->url && str_startswith(n->url, "smtps:");
        if (n->type == NOTIFY_SMTP && !curl_has_protocol(cv, tls ? "smtps" : "smtp"))
            config_error_add(errs, c->file, n->line, n->col,
                             "notifiers[%s]: this libcurl (%s) cannot send email (no %s); on EL9/AL2023 run "
                             "`dnf swap libcurl-minimal libcurl-full`", n->name, cv->version, tls ? "smtps" : "smtp");
        if (n->type == NOTIFY_SNS && cv->version_num < 0x074b00)
            config_error_add(errs, c->file, n->line, n->col,
                             "notifiers[%s]: SNS unavailable: libcurl %s has no SigV4 signing (needs 7.75, "
                             "7.86 or newer recommended)", n->name, cv->version);
    }
}

pcmon_config *cli_load_config(const char *path, bool *embedded)
{
    config_errors errs = {0};
    pcmon_config *c;
    struct stat st;
    *embedded = false;
    if (!path && stat(DEFAULT_CONFIG, &st) < 0 && errno == ENOENT) {
        *embedded = true;
        c = config_load_default(&errs);
    } else
        c = config_load_file(path ? path : DEFAULT_CONFIG, &errs);
    if (c) {
        /* Compiling the rules is the rest of validation: bad regexes are config errors too. */
        rules *r = rules_compile(c, &errs);
        check_libcurl(c, &errs);
        if (!r || errs.n)
            c = config_free(c);
        rules_free(r);
    }
    cli_print_errors(&errs);
    config_errors_free(&errs);
    return c;
}

size_t cli_check_secrets(const pcmon_config *c, bool refuse)
{
    config_errors bad = {0}, notes = {0};
    size_t n = config_check_secrets(c, &bad, refuse ? NULL : &notes);
    for (size_t i = 0; i < bad.n; i++) {
        if (refuse)
            log_error("%s:%d:%d: %s", bad.v[i].file, bad.v[i].line, bad.v[i].col, bad.v[i].msg);
        else
            fprintf(stderr, "%s:%d:%d: warning: %s (pcmon run and reload refuse this file)\n", bad.v[i].file,
                    bad.v[i].line, bad.v[i].col, bad.v[i].msg);
    }
    for (size_t i = 0; i < notes.n; i++)
        fprintf(stderr, "%s:%d:%d: warning: %s\n", notes.v[i].file, notes.v[i].line, notes.v[i].col, notes.v[i].msg);
    config_errors_free(&bad);
    config_errors_free(&notes);
    return n;
}

/* Parses "-c FILE" for commands that take nothing else. Returns 0, or EXIT_USAGE. */
static int parse_c_only(int argc, char **argv, const char **path)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' }, { 0 } };
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (o != 'c')
            return EXIT_USAGE;
        *path = optarg;
    }
    return optind == argc ? 0 : EXIT_USAGE;
}

int cmd_check_config(int argc, char **argv)
{
    const char *path = NULL;
    bool embedded;
    if (parse_c_only(argc, argv, &path) != 0) {
        fputs("usage: pcmon check-config [-c FILE]\n", stderr);
        return EXIT_USAGE;
    }
    pcmon_config *c = cli_load_config(path, &embedded);
    if (!c)
        return EXIT_BAD_INPUT;
    /* Warnings only: the file is valid; `pcmon run` is the one that refuses an insecure secret. */
    size_t insecure = cli_check_secrets(c, false);
    printf("%s: ok: %zu sources, %zu rules, %zu notifiers%s\n", c->file, c->nsources, c->nrules, c->nnotifiers,
           c->nnotifiers == 0 ? " (alerts go to standard output)" : "");
    if (insecure)
        printf("%s: WARNING: %zu secret file(s) readable or writable by other users (see stderr); pcmon run "
               "refuses to start with them\n", c->file, insecure);
    config_free(c);
    return EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    char pcre[64] = "";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("pcmon %s\n", PCMON_VERSION);
    printf("libcurl %s, json-c %s, libyaml %s, pcre2 %s, libsystemd %s (build)\n", cv->version, json_c_version(),
           yaml_get_version_string(), pcre, PCMON_LIBSYSTEMD_VERSION);
    return EXIT_OK;
}
