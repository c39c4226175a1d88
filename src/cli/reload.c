/* reload: see reload.h. Exit 0 when every role reloaded, 1 when one refused
 * or could not be reached, 2 for a usage or configuration error. */
#include "cli/reload.h"

#include <stdio.h>
#include <string.h>

#include "conf/conf_present.h"
#include "conf/edge_conf.h"
#include "conf/guard_conf.h"
#include "core/net.h"
#include "proxy/admin.h"

/* Sends POST /reload to admin; prints the outcome. 0, 1 or 2. */
static int ask(const char *role, const char *file, const struct conf_addr *admin, bool has_admin)
{
	if (!has_admin) {
		fprintf(stderr,
			"pullgate reload: %s: the %s has no admin listener (set %s.admin), so it cannot be asked; "
			"send it SIGHUP instead (systemctl reload pullgate-%s)\n",
			file, role, role, role);
		return 1;
	}
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	if (admin->is_unix || net_resolve(admin->host, admin->port, &ss, &len, err, sizeof err) < 0) {
		fprintf(stderr, "pullgate reload: %s: %s.admin %s: %s\n", file, role, admin->text,
			admin->is_unix ? "must be host:port" : err);
		return 2;
	}
	char body[8192];
	int status = admin_request(&ss, len, "POST", "/reload", body, sizeof body);
	if (status == 200) {
		printf("%s reloaded (%s)\n", role, admin->text);
		return 0;
	}
	if (status < 0)
		fprintf(stderr, "pullgate reload: the %s at %s did not answer: %s\n", role, admin->text, body);
	else
		fprintf(stderr, "pullgate reload: the %s refused the new configuration:\n%s", role, body);
	return 1;
}

int reload_main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "-c") != 0 && strcmp(argv[1], "--config") != 0)) {
		fprintf(stderr, "usage: pullgate reload -c FILE\n");
		return 2;
	}
	const char *path = argv[2];
	bool guard = false, edge = false;
	struct conf_errors errs = { 0 };
	int status = 0;
	if (!conf_sections_present(path, &guard, &edge, &errs) || (!guard && !edge)) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		if (!errs.count)
			fprintf(stderr, "%s:1: no guard or edge section\n", path);
		conf_errors_free(&errs);
		return 2;
	}
	/* The running process validates everything again (certificates,
	 * keys, files) and answers with its reasons; this first pass catches
	 * what the file alone says. */
	if (guard) {
		struct guard_conf *g = guard_conf_load(path, &errs);
		if (g) {
			int r = ask("guard", path, &g->admin, g->has_admin);
			status = r > status ? r : status;
			guard_conf_free(g);
		}
	}
	if (edge) {
		struct edge_conf *e = edge_conf_load(path, &errs);
		if (e) {
			int r = ask("edge", path, &e->admin, e->has_admin);
			status = r > status ? r : status;
			edge_conf_free(e);
		}
	}
	for (size_t i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	if (errs.count)
		status = 2;
	conf_errors_free(&errs);
	return status;
}
