/*
 * guard: the origin-side role. A guard_server owns the configuration, the
 * current TLS set and the workers; each worker accepts on its own
 * SO_REUSEPORT sockets and runs proxy sessions with the guard's hooks.
 */
#ifndef PULLGATE_GUARD_GUARD_H
#define PULLGATE_GUARD_GUARD_H

#include <stdbool.h>

#include "conf/guard_conf.h"
#include "core/listener.h"
#include "core/worker.h"
#include "proxy/admin.h"
#include "proxy/session.h"
#include "proxy/upstream.h"
#include "tls/guard_tls.h"

struct guard_server;

/* The refusal classes of guard_tls_describe_failure, for the metrics. */
#define GUARD_REFUSAL_CLASSES 8
extern const char *const guard_refusal_classes[GUARD_REFUSAL_CLASSES];

struct guard_worker {
	struct guard_server *srv;
	struct worker worker;
	struct proxy_worker pw;
	struct upstream_pool pool;
	struct listener *tls_listeners;
	struct listener *plain_listeners;
	struct guard_tls *tls;       /* the set new connections start with (a ref) */
	unsigned plain_active;
	bool stopping;
	uint64_t refused[GUARD_REFUSAL_CLASSES]; /* handshakes refused, by class */
};

struct guard_server {
	const struct guard_conf *conf;
	struct proxy_limits limits;
	struct sockaddr_storage backend_addr;
	socklen_t backend_len;
	struct guard_tls *tls;       /* the current set (a ref) */
	struct guard_worker *workers;
	int worker_count;
	struct admin_server admin;
	uint64_t reloads_ok, reloads_failed; /* control thread only */
};

/* Per-connection guard state: the TLS set it started with, and its identity
 * header block. */
struct guard_conn {
	struct guard_tls *tls;
	char *identity;
	size_t identity_len;
};

extern const struct proxy_role guard_role;

int guard_main(int argc, char **argv);
/* `pullgate check`: 0 when valid, 2 otherwise (errors on stderr). */
int guard_check(const char *path, bool quiet);

/* Runs the server until SIGTERM/SIGINT; returns the exit status. */
int guard_server_run(const struct guard_conf *conf, int workers);

/* The admin listener's metrics (control thread). */
void guard_metrics_write(void *srv, struct metrics_text *m);

/* The plain-HTTP side door: close, or redirect to https; never proxies. */
void guard_plain_accept(struct listener *l, int fd, const struct sockaddr_storage *peer);
void guard_plain_drain(struct guard_worker *gw);

#endif
