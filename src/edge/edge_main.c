/* edge_main: `pullgate edge` and the edge part of `pullgate check`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "edge/edge.h"

static void edge_usage(FILE *out)
{
	fprintf(out, "usage: pullgate edge -c FILE [--workers N] [--log-level LEVEL]\n"
		     "  -c, --config FILE   the configuration (its edge: section)\n"
		     "  -w, --workers N     worker threads (default: edge.workers, else one per core)\n"
		     "  -l, --log-level L   debug | info | warn | error (default: edge.log_level)\n");
}

/* Loads and checks everything a start would: the file, the routes and the
 * TLS set (every certificate, key and origin-pull certificate check). */
static struct edge_conf *edge_load_checked(const char *path, bool build_tls)
{
	struct conf_errors errs = { 0 };
	struct edge_conf *conf = edge_conf_load(path, &errs);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (!conf)
		return NULL;
	int level = log_level_parse(conf->log_level ? conf->log_level : "info");
	if (level >= 0 && log_get_level() == LOG_INFO)
		log_set_level((enum log_level)level);
	if (build_tls) {
		char err[512] = "";
		struct edge_tls *set = edge_tls_build(conf, err, sizeof err);
		if (!set) {
			fprintf(stderr, "%s: %s\n", path, err);
			edge_conf_free(conf);
			return NULL;
		}
		edge_tls_unref(set);
	}
	return conf;
}

int edge_check(const char *path, bool quiet)
{
	struct edge_conf *conf = edge_load_checked(path, true);
	if (!conf)
		return 2;
	edge_conf_free(conf);
	if (!quiet)
		printf("configuration ok: %s (edge)\n", path);
	return 0;
}

int edge_main(int argc, char **argv)
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
				fprintf(stderr, "pullgate edge: --workers takes a number from 1 to 1024\n");
				return 2;
			}
			workers = (int)n;
			break;
		}
		case 'l': {
			int level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "pullgate edge: unknown log level \"%s\"\n", optarg);
				return 2;
			}
			log_set_level((enum log_level)level);
			break;
		}
		case 'h':
			edge_usage(stdout);
			return 0;
		default:
			edge_usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		edge_usage(stderr);
		return 2;
	}
	struct edge_conf *conf = edge_load_checked(path, false);
	if (!conf)
		return 2;
	int status = edge_server_run(conf, workers);
	edge_conf_free(conf);
	return status;
}
