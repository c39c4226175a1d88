/* role_cli: see role_cli.h. */
#include "core/role_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"

static void role_usage(FILE *out, const char *role)
{
	fprintf(out, "usage: pullgate %s -c FILE [--workers N] [--log-level LEVEL]\n"
		     "  -c, --config FILE   the configuration (its %s: section)\n"
		     "  -w, --workers N     worker threads (default: %s.workers, else one per core)\n"
		     "  -l, --log-level L   debug | info | warn | error (default: %s.log_level)\n",
		role, role, role, role);
}

int role_cli_parse(int argc, char **argv, const char **path, int *workers)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "workers", required_argument, NULL, 'w' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *role = argv[0];
	*path = NULL;
	*workers = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:w:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*path = optarg;
			break;
		case 'w': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1024) {
				fprintf(stderr, "pullgate %s: --workers takes a number from 1 to 1024\n", role);
				return 2;
			}
			*workers = (int)n;
			break;
		}
		case 'l': {
			int level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "pullgate %s: unknown log level \"%s\"\n", role, optarg);
				return 2;
			}
			log_set_level((enum log_level)level);
			log_lock_level();
			break;
		}
		case 'h':
			role_usage(stdout, role);
			return 0;
		default:
			role_usage(stderr, role);
			return 2;
		}
	}
	if (!*path || optind != argc) {
		role_usage(stderr, role);
		return 2;
	}
	return -1;
}
