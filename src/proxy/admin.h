/*
 * admin: the admin listener — Prometheus metrics (GET /metrics) and a health
 * check for load balancers (GET /health: 200, or 503 while draining), and
 * POST /reload for `pullgate reload`. It
 * runs on the daemon's control loop, never on a worker, so a scrape cannot
 * slow a request down. Off unless configured; bind it to loopback.
 */
#ifndef PULLGATE_PROXY_ADMIN_H
#define PULLGATE_PROXY_ADMIN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/listener.h"
#include "core/loop.h"
#include "core/metrics.h"

struct admin_conn;

struct admin_server {
	struct loop *loop;
	struct listener listener;
	void (*metrics)(void *arg, struct metrics_text *out);
	/* Optional (POST /purge?url=U | ?host=H | ?all): returns how many
	 * objects went, or -1 when the parameter is not understood. */
	long (*purge)(void *arg, const char *param, const char *value);
	/* Optional (POST /reload): reloads now; 0, or -1 with the reasons in
	 * msg ("file:line: ..." lines). */
	int (*reload)(void *arg, char *msg, size_t cap);
	void *arg;
	bool draining;
	struct admin_conn *conns;
};

/* Returns 0, or -1 with a message in err. */
int admin_start(struct admin_server *a, struct loop *loop, const struct sockaddr_storage *addr,
		socklen_t len, char *err, size_t errlen);
void admin_stop(struct admin_server *a);

/* A client for `pullgate reload`: sends METHOD PATH to an admin listener and
 * reads the answer's body into out. Returns the status, or -1 with the
 * reason in out. Blocking, with a timeout. */
int admin_request(const struct sockaddr_storage *addr, socklen_t len, const char *method, const char *path,
		  char *out, size_t cap);

#endif
