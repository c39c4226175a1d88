/* role_cli: the command line both roles take:
 *   pullgate ROLE -c FILE [--workers N] [--log-level LEVEL] */
#ifndef PULLGATE_CORE_ROLE_CLI_H
#define PULLGATE_CORE_ROLE_CLI_H

/* Parses argv (argv[0] is the role's name). Returns -1 to go on with *path
 * and *workers (0: not given) set and the log level applied, or an exit
 * status: 0 after --help, 2 after a usage error (both printed). */
int role_cli_parse(int argc, char **argv, const char **path, int *workers);

#endif
