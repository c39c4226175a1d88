/*
 * role_services: what a running role offers on its control thread, the same
 * for the guard and the edge — the admin listener (metrics, health, reload,
 * purge), the access log and its reopening, and the twice-daily certificate
 * expiry reminder. A role fills one in and names it as its daemon's
 * `services`; the role_services_* daemon hooks then do the rest.
 */
#ifndef PULLGATE_PROXY_ROLE_SERVICES_H
#define PULLGATE_PROXY_ROLE_SERVICES_H

#include <stdbool.h>

#include "conf/conf_error.h"
#include "conf/conf_types.h"
#include "core/daemon.h"
#include "proxy/access_log.h"
#include "proxy/admin.h"

struct role_services {
	const char *role;                 /* "guard", "edge" */
	const struct conf_addr *admin_addr; /* NULL: no admin listener */
	struct admin_server admin;        /* its callbacks set by the role */
	struct access_log *access_log;    /* NULL: off */
	void (*expiry_check)(void *arg);  /* the reminder; NULL: none */
	void *expiry_arg;
	struct loop *loop;
	struct timer expiry_timer;
};

/* Opens the access log when conf enables it: 0, or -1 after logging why. */
int role_services_open_log(struct role_services *rs, const struct access_log_conf *conf);
void role_services_close(struct role_services *rs);

/* Reports a refused reload: every reason logged ("reload (WHY): ...") and,
 * when msg is given, written there line by line (for `pullgate reload`).
 * Frees errs. Returns -1. */
int role_reload_refused(const char *why, struct conf_errors *errs, const char *err, char *msg, size_t cap);

/* Daemon hooks; d->services points at the role's role_services. */
int role_services_control_start(struct daemon *d, struct loop *loop);
void role_services_control_stop(struct daemon *d);
void role_services_on_drain(struct daemon *d);
void role_services_reopen_logs(struct daemon *d);

#endif
