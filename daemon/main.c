/* pcmon: ParallelCluster head-node log monitor. main only dispatches (style.md: main is thin). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "macro.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "run", cmd_run, "run [-c FILE] [-v]            follow the logs and send alerts (the service)" },
    { "check-config", cmd_check_config, "check-config [-c FILE]        validate a configuration" },
    { "replay", cmd_replay, "replay [-c FILE] [--root DIR] [--json] [--send] [FILE|SOURCE=PATH...]" },
    { "test-notify", cmd_test_notify, "test-notify [-c FILE] [NOTIFIER...]   send a marked test alert" },
    { "status", cmd_status, "status [-c FILE] [--json]     offsets, spool, open groups, last alerts" },
    { "version", cmd_version, "version                       version and library versions" },
};

static int usage(FILE *f)
{
    fputs("usage: pcmon COMMAND [OPTIONS]\n\ncommands:\n", f);
    for (size_t i = 0; i < ELEMENTSOF(commands); i++)
        fprintf(f, "  pcmon %s\n", commands[i].help);
    fputs("\nExit codes: 0 ok, 1 bad config or input, 2 usage, 3 runtime failure.\n", f);
    return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
        return usage(stdout);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < ELEMENTSOF(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "pcmon: unknown command \"%s\"\n", argv[1]);
    return usage(stderr);
}
