/* guard_main: `pullgate guard` and `pullgate check` for the guard section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/role_cli.h"
#include "guard/guard.h"

/* Loads and checks everything a start would: the file, the backend and the
 * TLS set. Problems go to stderr. */
static struct guard_snapshot *guard_load_checked(const char *path)
{
	struct conf_errors errs = { 0 };
	char err[512] = "";
	struct guard_snapshot *snap = guard_snapshot_load(path, &errs, err, sizeof err);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (!snap && err[0])
		fprintf(stderr, "%s\n", err);
	return snap;
}

int guard_check(const char *path, bool quiet)
{
	struct guard_snapshot *snap = guard_load_checked(path);
	if (!snap)
		return 2;
	guard_snapshot_unref(snap);
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
	struct guard_snapshot *snap = guard_load_checked(path);
	if (!snap)
		return 2;
	return guard_server_run(path, snap, workers);
}
