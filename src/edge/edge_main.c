/* edge_main: `pullgate edge` and the edge part of `pullgate check`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/role_cli.h"
#include "edge/edge.h"

/* Loads and checks everything a start would: the file, the routes and the
 * TLS set (every certificate, key and origin-pull certificate check).
 * Problems go to stderr. */
static struct edge_snapshot *edge_load_checked(const char *path)
{
	struct conf_errors errs = { 0 };
	char err[512] = "";
	struct edge_snapshot *snap = edge_snapshot_load(path, &errs, err, sizeof err);
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (!snap && err[0])
		fprintf(stderr, "%s\n", err);
	return snap;
}

int edge_check(const char *path, bool quiet)
{
	struct edge_snapshot *snap = edge_load_checked(path);
	if (!snap)
		return 2;
	edge_snapshot_unref(snap);
	if (!quiet)
		printf("configuration ok: %s (edge)\n", path);
	return 0;
}

int edge_main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "probe") == 0)
		return edge_probe_main(argc - 1, argv + 1);
	const char *path;
	int workers;
	int status = role_cli_parse(argc, argv, &path, &workers);
	if (status >= 0)
		return status;
	struct edge_snapshot *snap = edge_load_checked(path);
	if (!snap)
		return 2;
	return edge_server_run(path, snap, workers);
}
