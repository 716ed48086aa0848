/* pcmon test-notify: a clearly marked test alert through each named (default: every) notifier. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "macro.h"
#include "sink.h"

/* Each notifier gets its request timeout; this bounds the whole run. */
#define TEST_BOUND (30 * USEC_PER_SEC)

int cmd_test_notify(int argc, char **argv)
{
    static const struct option opts[] = { { "config", required_argument, NULL, 'c' }, { 0 } };
    const char *path = NULL;
    bool embedded;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (o != 'c') {
            fputs("usage: pcmon test-notify [-c FILE] [NOTIFIER...]\n", stderr);
            return EXIT_USAGE;
        }
        path = optarg;
    }
    log_init(0);
    pcmon_config *c = cli_load_config(path, &embedded);
    if (!c)
        return EXIT_BAD_INPUT;
    /* An admin testing by hand: the same warnings as check-config, and the test still goes out. */
    cli_check_secrets(c, false);
    if (c->nnotifiers == 0) {
        printf("no notifiers configured in %s: alerts are printed on standard output\n", c->file);
        config_free(c);
        return EXIT_OK;
    }
    sink *s = sink_new(c, SINK_TEST, false);
    int r = s ? sink_test(s, argv + optind, (size_t)(argc - optind), TEST_BOUND) : -1;
    sink_free(s);
    config_free(c);
    return r == 0 ? EXIT_OK : r == -ENOENT ? EXIT_USAGE : EXIT_RUNTIME;
}
