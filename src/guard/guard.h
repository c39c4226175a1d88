/*
 * guard: the origin-side role. The configuration lives in immutable,
 * refcounted snapshots (the file as loaded, its TLS set, and what is derived
 * from them); a reload builds a new one and every worker starts a new
 * generation on it, while connections finish on the generation they started
 * in. Each worker accepts on its own SO_REUSEPORT sockets.
 */
#ifndef PULLGATE_GUARD_GUARD_H
#define PULLGATE_GUARD_GUARD_H

#include <stdbool.h>

#include "conf/guard_conf.h"
#include "core/listener.h"
#include "core/worker.h"
#include "proxy/admin.h"
#include "proxy/role_services.h"
#include "proxy/session.h"
#include "proxy/upstream.h"
#include "tls/guard_tls.h"

/* The refusal classes of guard_tls_describe_failure, for the metrics. */
#define GUARD_REFUSAL_CLASSES 8
extern const char *const guard_refusal_classes[GUARD_REFUSAL_CLASSES];

struct guard_snapshot {
	int refs;                      /* atomic */
	struct guard_conf *conf;       /* owned */
	struct guard_tls *tls;         /* a reference */
	struct proxy_limits limits;
	struct sockaddr_storage backend_addr;
	socklen_t backend_len;
};

/* Loads path and builds everything a start or a reload needs. NULL on
 * failure, with the configuration's problems in errs ("file:line: ...") or,
 * past those, one message in err. */
struct guard_snapshot *guard_snapshot_load(const char *path, struct conf_errors *errs, char *err,
					   size_t errlen);
void guard_snapshot_ref(struct guard_snapshot *snap);
void guard_snapshot_unref(struct guard_snapshot *snap);

struct guard_worker;

/* One worker's sessions and backend pool under one snapshot. */
struct guard_gen {
	struct guard_worker *gw;
	struct guard_snapshot *snap;   /* a reference */
	struct proxy_worker pw;
	struct upstream_pool pool;
	struct guard_gen *next;        /* in the worker's list of retired generations */
	struct task free_task;
};

struct guard_worker {
	struct guard_server *srv;
	struct worker worker;
	struct guard_gen *current;     /* new connections start here */
	struct guard_gen *retired;     /* older ones, until their last session ends */
	struct proxy_stats stats;
	struct listener *tls_listeners;
	struct listener *plain_listeners;
	unsigned plain_active;
	bool stopping;
	uint64_t refused[GUARD_REFUSAL_CLASSES]; /* handshakes refused, by class */
	uint64_t established[2]; /* handshakes completed: [0] by OpenSSL, [1] by our own */
};

struct guard_server {
	const char *path;
	struct guard_snapshot *boot;   /* the snapshot the listeners were made from */
	struct guard_snapshot *current;
	struct guard_worker *workers;
	int worker_count;
	struct role_services svc;      /* admin, access log, expiry reminders */
	struct daemon *daemon;
	uint64_t reloads_ok, reloads_failed; /* control thread only */
};

/* Per-connection guard state: the TLS set it started with, and its identity
 * header block. */
struct guard_conn {
	struct guard_tls *tls;
	struct guard_identity *identity; /* a reference; shared, never written */
	const struct guard_host *host;   /* the hosts entry the SNI matched, or NULL */
};

extern const struct proxy_role guard_role;

int guard_main(int argc, char **argv);
/* `pullgate check`: 0 when valid, 2 otherwise (errors on stderr). */
int guard_check(const char *path, bool quiet);

/* Runs the server until SIGTERM/SIGINT; returns the exit status. Takes snap. */
int guard_server_run(const char *path, struct guard_snapshot *snap, int workers);

/* The admin listener's metrics (control thread). */
void guard_metrics_write(void *srv, struct metrics_text *m);

/* The plain-HTTP side door: close, or redirect to https; never proxies. */
void guard_plain_accept(struct listener *l, int fd, const struct sockaddr_storage *peer);
void guard_plain_drain(struct guard_worker *gw);

/* Sessions open on a worker, over all its generations. */
unsigned guard_worker_sessions(const struct guard_worker *gw);

#endif
