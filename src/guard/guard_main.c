/* guard_main: `pullgate guard` and `pullgate check` for the guard section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/role_cli.h"
#include "guard/guard.h"

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
	const char *path;
	int workers;
	int status = role_cli_parse(argc, argv, &path, &workers);
	if (status >= 0)
		return status;
	struct guard_conf *conf = guard_load_checked(path, NULL);
	if (!conf)
		return 2;
	status = guard_server_run(conf, workers);
	guard_conf_free(conf);
	return status;
}
