/* edge_main: `pullgate edge` and the edge part of `pullgate check`. */
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/role_cli.h"
#include "edge/edge.h"

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
	const char *path;
	int workers;
	int status = role_cli_parse(argc, argv, &path, &workers);
	if (status >= 0)
		return status;
	struct edge_conf *conf = edge_load_checked(path, false);
	if (!conf)
		return 2;
	status = edge_server_run(conf, workers);
	edge_conf_free(conf);
	return status;
}
