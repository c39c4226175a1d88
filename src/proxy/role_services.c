/* role_services: see role_services.h. */
#include "proxy/role_services.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/net.h"

#define EXPIRY_CHECK_MS (12u * 3600u * 1000u)

int role_services_open_log(struct role_services *rs, const struct access_log_conf *conf)
{
	char err[256];
	if (!conf->enabled)
		return 0;
	rs->access_log = access_log_open(conf, err, sizeof err);
	if (!rs->access_log) {
		log_error("access log: %s", err);
		return -1;
	}
	return 0;
}

void role_services_close(struct role_services *rs)
{
	access_log_close(rs->access_log);
	rs->access_log = NULL;
}

static void expiry_tick(struct timer *t)
{
	struct role_services *rs = t->data;
	rs->expiry_check(rs->expiry_arg);
	timer_arm(rs->loop, &rs->expiry_timer, EXPIRY_CHECK_MS);
}

int role_services_control_start(struct daemon *d, struct loop *loop)
{
	struct role_services *rs = d->services;
	rs->loop = loop;
	/* Building a snapshot warns at start and on reloads; a long-running
	 * process is reminded twice a day. */
	if (rs->expiry_check) {
		timer_init(&rs->expiry_timer, expiry_tick, rs);
		timer_arm(loop, &rs->expiry_timer, EXPIRY_CHECK_MS);
	}
	const struct conf_addr *a = rs->admin_addr;
	if (!a)
		return 0;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	if (a->is_unix || net_resolve(a->host, a->port, &ss, &len, err, sizeof err) < 0 ||
	    admin_start(&rs->admin, loop, &ss, len, err, sizeof err) < 0) {
		log_error("%s.admin %s: %s", rs->role, a->text, a->is_unix ? "must be host:port" : err);
		return -1;
	}
	log_info("admin listening on %s (/metrics, /health, /reload%s)", a->text, rs->admin.purge ? ", /purge" : "");
	return 0;
}

void role_services_control_stop(struct daemon *d)
{
	struct role_services *rs = d->services;
	if (rs->loop && rs->expiry_check)
		timer_disarm(rs->loop, &rs->expiry_timer);
	admin_stop(&rs->admin);
}

void role_services_on_drain(struct daemon *d)
{
	((struct role_services *)d->services)->admin.draining = true;
}

void role_services_reopen_logs(struct daemon *d)
{
	struct role_services *rs = d->services;
	char err[256];
	if (!rs->access_log)
		return;
	if (access_log_reopen(rs->access_log, err, sizeof err) < 0)
		log_error("SIGUSR1: cannot reopen the access log: %s", err);
	else
		log_info("SIGUSR1: reopened the access log");
}

static void reasons_add(char *msg, size_t cap, const char *line)
{
	if (!msg)
		return;
	size_t len = strlen(msg);
	snprintf(msg + len, cap - len, "%s\n", line);
}

int role_reload_refused(const char *why, struct conf_errors *errs, const char *err, char *msg, size_t cap)
{
	for (size_t i = 0; i < errs->count; i++) {
		log_error("reload (%s): %s", why, errs->msgs[i]);
		reasons_add(msg, cap, errs->msgs[i]);
	}
	if (err && err[0]) {
		log_error("reload (%s): %s", why, err);
		reasons_add(msg, cap, err);
	}
	log_error("reload (%s) refused: the running configuration keeps serving", why);
	reasons_add(msg, cap, "refused: the running configuration keeps serving");
	conf_errors_free(errs);
	return -1;
}
