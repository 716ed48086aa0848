/* The command line (design.md "Command line"): one function per command. */
#ifndef PCMON_CLI_H
#define PCMON_CLI_H

#include "config.h"

/* Exit codes, a contract for scripts. */
enum { EXIT_OK = 0, EXIT_BAD_INPUT = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

#define DEFAULT_CONFIG "/etc/pcmon.yaml"

int cmd_run(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_test_notify(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Loads -c FILE, or /etc/pcmon.yaml, or (when that is absent and no -c was given) the embedded
 * default; prints every error as FILE:LINE:COL: message on stderr. *embedded tells which. */
pcmon_config *cli_load_config(const char *path, bool *embedded);
void cli_print_errors(const config_errors *e);
/* Checks the secret files of c (config_check_secrets). refuse: logs each insecure file as an error
 * (run, reload: the caller refuses the config); else prints every finding as a warning on stderr
 * (check-config). Returns how many secret files are insecure. */
size_t cli_check_secrets(const pcmon_config *c, bool refuse);

#endif
