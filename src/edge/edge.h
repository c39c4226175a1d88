/*
 * edge: the visitor-facing role. Visitors connect over TLS (a certificate
 * chosen by SNI per hostname) or plain HTTP; each request is routed by its
 * Host to a proxied record of the SNI's zone and pulled from that record's
 * origin through a pool that belongs to exactly one way of connecting
 * (origin address, SNI, SSL mode, client certificate, CA bundle).
 */
#ifndef PULLGATE_EDGE_EDGE_H
#define PULLGATE_EDGE_EDGE_H

#include <stdbool.h>

#include "conf/edge_conf.h"
#include "edge/edge_cache.h"
#include "core/listener.h"
#include "core/worker.h"
#include "proxy/admin.h"
#include "proxy/session.h"
#include "proxy/upstream.h"
#include "tls/edge_tls.h"

/* One way of connecting to an origin; records that connect the same way
 * share it. */
struct edge_pool_spec {
	const struct edge_record *rec; /* a representative record */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char name[200];                /* "origin.example:443 (sni ..., strict, cert zone example.com)" */
};

struct edge_route {
	const struct edge_record *rec;
	size_t pool_index;
};

struct edge_server;

/* What a worker's TLS pool callbacks need. */
struct edge_pool_arg {
	struct edge_worker *ew;
	const struct edge_record *rec;
};

struct edge_worker {
	struct edge_server *srv;
	struct worker worker;
	struct proxy_worker pw;          /* TLS visitors */
	struct proxy_worker pw_plain;    /* plain-HTTP visitors */
	struct upstream_pool *pools;     /* one per spec */
	struct edge_pool_arg *pool_args;
	struct listener *tls_listeners;
	struct listener *plain_listeners;
	struct edge_tls *tls;            /* the set new connections start with (a ref) */
	bool stopping;
	struct edge_cache_stats cstats;
	struct edge_cache_refresh *refreshes; /* background refreshes under way */
};

struct edge_server {
	const struct edge_conf *conf;
	struct proxy_limits limits;
	struct edge_pool_spec *specs;
	size_t spec_count;
	struct edge_route *routes;       /* sorted by record address */
	size_t route_count;
	uint16_t https_port;             /* for redirects: the first TLS listener's port */
	struct edge_tls *tls;
	struct edge_cache cache;
	struct edge_worker *workers;
	int worker_count;
	struct admin_server admin;
	struct timer expiry_timer;           /* re-checks client certificate expiry */
	struct loop *control_loop;
	uint64_t reloads_ok, reloads_failed; /* control thread only */
};

/* Per-connection edge state. */
struct edge_conn {
	struct edge_tls *tls;            /* NULL on plain connections */
	const struct edge_record *sni_record;
	const struct edge_record *record; /* the request in flight's record */
	bool tls_visitor;
	struct edge_cache_req *creq;     /* the request in flight's cache state */
};

extern const struct proxy_role edge_role;

int edge_main(int argc, char **argv);
/* `pullgate check` for an edge section: 0 valid, 2 not (errors on stderr). */
int edge_check(const char *path, bool quiet);
int edge_server_run(const struct edge_conf *conf, int workers);

/* Routes: computed once at start. */
int edge_routes_build(struct edge_server *srv, char *err, size_t errlen);
void edge_routes_free(struct edge_server *srv);
/* The pool index of a proxied record. */
size_t edge_route_pool(const struct edge_server *srv, const struct edge_record *rec);
/* The admin listener's metrics, and the expiry check (control thread). */
void edge_metrics_write(void *srv, struct metrics_text *m);
void edge_check_expiry(struct edge_server *srv);
long edge_admin_purge(void *srv, const char *param, const char *value);

/* Pool callbacks for TLS pulls. */
extern const struct upstream_tls_ops edge_origin_tls_ops;

#endif
