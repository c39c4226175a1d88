/* guard_main: `pullgate guard` and `pullgate check` for the guard section. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "guard/guard.h"

static void guard_usage(FILE *out)
{
	fprintf(out, "usage: pullgate guard -c FILE [--workers N] [--log-level LEVEL]\n"
		     "  -c, --config FILE   the configuration (its guard: section)\n"
		     "  -w, --workers N     worker threads (default: guard.workers, else one per core)\n"
		     "  -l, --log-level L   debug | info | warn | error (default: guard.log_level)\n");
}

static void print_errors(struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		fprintf(stderr, "%s\n", errs->msgs[i]);
}

/* Loads and checks everything a start would: the file and the TLS set. */
static struct guard_conf *guard_load_checked(const char *path, struct guard_tls **set_out)
{
	struct conf_errors errs = { 0 };
	struct guard_conf *conf = guard_conf_load(path, &errs);
	if (!conf) {
		print_errors(&errs);
		conf_errors_free(&errs);
		return NULL;
	}
	conf_errors_free(&errs);
	int level = log_level_parse(conf->log_level ? conf->log_level : "info");
	if (level >= 0 && log_get_level() == LOG_INFO)
		log_set_level((enum log_level)level);
	if (set_out) {
		char err[512] = "";
		*set_out = guard_tls_build(conf, err, sizeof err);
		if (!*set_out) {
			fprintf(stderr, "%s: %s\n", path, err);
			guard_conf_free(conf);
			return NULL;
		}
	}
	return conf;
}

int guard_check(const char *path, bool quiet)
{
	struct guard_tls *set = NULL;
	struct guard_conf *conf = guard_load_checked(path, &set);
	if (!conf)
		return 2;
	guard_tls_unref(set);
	guard_conf_free(conf);
	if (!quiet)
		printf("configuration ok: %s\n", path);
	return 0;
}

int guard_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "workers", required_argument, NULL, 'w' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL;
	int workers = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:w:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'w': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1024) {
				fprintf(stderr, "pullgate guard: --workers takes a number from 1 to 1024\n");
				return 2;
			}
			workers = (int)n;
			break;
		}
		case 'l': {
			int level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "pullgate guard: unknown log level \"%s\"\n", optarg);
				return 2;
			}
			log_set_level((enum log_level)level);
			break;
		}
		case 'h':
			guard_usage(stdout);
			return 0;
		default:
			guard_usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		guard_usage(stderr);
		return 2;
	}
	struct guard_conf *conf = guard_load_checked(path, NULL);
	if (!conf)
		return 2;
	int status = guard_server_run(conf, workers);
	guard_conf_free(conf);
	return status;
}
