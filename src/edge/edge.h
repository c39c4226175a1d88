/*
 * edge: the visitor-facing role. Visitors connect over TLS (a certificate
 * chosen by SNI per hostname) or plain HTTP; each request is routed by its
 * Host to a proxied record of the SNI's zone and pulled from that record's
 * origin through a pool that belongs to exactly one way of connecting
 * (origin address, SNI, SSL mode, client certificate, CA bundle).
 *
 * The configuration lives in immutable, refcounted snapshots; a reload
 * builds a new one and each worker starts a new generation on it, while
 * connections finish on the generation they started in. The cache outlives
 * reloads.
 */
#ifndef PULLGATE_EDGE_EDGE_H
#define PULLGATE_EDGE_EDGE_H

#include <stdbool.h>

#include "conf/edge_conf.h"
#include "core/listener.h"
#include "core/worker.h"
#include "edge/edge_cache.h"
#include "proxy/admin.h"
#include "proxy/role_services.h"
#include "proxy/session.h"
#include "proxy/upstream.h"
#include "tls/edge_tls.h"

/* One way of connecting to an origin; records that connect the same way
 * share it. */
struct edge_pool_spec {
	const struct edge_record *rec; /* a representative record */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char name[200];                /* "origin.example:443 (strict, pull zone, sni ...)" */
};

struct edge_route {
	const struct edge_record *rec;
	size_t pool_index;
};

/* Why a visitor's handshake failed, for the metrics. */
#define EDGE_REFUSAL_CLASSES 4
extern const char *const edge_refusal_classes[EDGE_REFUSAL_CLASSES];

/* Zones counted separately in the metrics; more share the last slot. */
#define EDGE_ZONE_STATS_MAX 1024

struct edge_snapshot {
	int refs;                      /* atomic */
	uint16_t *zone_ids;            /* per zone: its slot in the server's zone registry */
	struct edge_conf *conf;        /* owned */
	struct edge_tls *tls;          /* a reference */
	struct proxy_limits limits;
	struct edge_pool_spec *specs;
	size_t spec_count;
	struct edge_route *routes;     /* sorted by record address */
	size_t route_count;
};

/* Loads path and builds everything a start or a reload needs. NULL on
 * failure, with the configuration's problems in errs or one message in err. */
struct edge_snapshot *edge_snapshot_load(const char *path, struct conf_errors *errs, char *err, size_t errlen);
void edge_snapshot_ref(struct edge_snapshot *snap);
void edge_snapshot_unref(struct edge_snapshot *snap);

struct edge_worker;
struct edge_gen;

/* What a pool's TLS callbacks need. */
struct edge_pool_arg {
	struct edge_gen *gen;
	const struct edge_record *rec;
};

/* One worker's sessions and origin pools under one snapshot. */
struct edge_gen {
	struct edge_worker *ew;
	struct edge_snapshot *snap;      /* a reference */
	struct proxy_worker pw;          /* TLS visitors */
	struct proxy_worker pw_plain;    /* plain-HTTP visitors */
	struct upstream_pool *pools;     /* one per spec */
	struct edge_pool_arg *pool_args;
	struct edge_gen *next;           /* in the worker's list of retired generations */
	struct task free_task;
};

struct edge_worker {
	struct edge_server *srv;
	struct worker worker;
	struct edge_gen *current;
	struct edge_gen *retired;
	struct proxy_stats stats;
	struct edge_cache_stats cstats;
	uint64_t (*zone_responses)[6];   /* [EDGE_ZONE_STATS_MAX] by status class */
	uint64_t refused[EDGE_REFUSAL_CLASSES]; /* visitor handshakes refused, by class */
	struct edge_cache_refresh *refreshes; /* background refreshes under way */
	struct listener *tls_listeners;
	struct listener *plain_listeners;
	bool stopping;
};

struct edge_server {
	const char *path;
	struct edge_snapshot *boot;      /* the listeners, the admin and the cache come from it */
	struct edge_snapshot *current;
	uint16_t https_port;             /* for redirects: the first TLS listener's port */
	struct edge_cache cache;
	struct edge_worker *workers;
	int worker_count;
	struct role_services svc;        /* admin, access log, expiry reminders */
	struct daemon *daemon;
	uint64_t reloads_ok, reloads_failed; /* control thread only */
	/* Zone names by metrics slot: slots are kept across reloads, so a
	 * zone's counts go on (control thread; read by the admin listener on
	 * the same thread). */
	char *zone_names[EDGE_ZONE_STATS_MAX];
	size_t zone_name_count;
};

/* Gives each of snap's zones its metrics slot (control thread). */
bool edge_zone_slots_assign(struct edge_server *srv, struct edge_snapshot *snap);

/* Per-connection edge state. */
struct edge_conn {
	struct edge_tls *tls;            /* NULL on plain connections */
	const struct edge_record *sni_record;
	const struct edge_record *record; /* the request in flight's record */
	bool tls_visitor;
	struct edge_cache_req *creq;     /* the request in flight's cache state */
};

extern const struct proxy_role edge_role;

static inline struct edge_gen *edge_gen_of(struct proxy_session *s)
{
	return s->pw->data;
}

int edge_main(int argc, char **argv);
/* `pullgate edge probe`: tries a candidate origin-pull certificate. */
int edge_probe_main(int argc, char **argv);
/* `pullgate check` for an edge section: 0 valid, 2 not (errors on stderr). */
int edge_check(const char *path, bool quiet);
/* Takes snap. */
int edge_server_run(const char *path, struct edge_snapshot *snap, int workers);

/* Routes, computed with each snapshot. */
int edge_routes_build(struct edge_snapshot *snap, char *err, size_t errlen);
void edge_routes_free(struct edge_snapshot *snap);
/* The pool index of a proxied record. */
size_t edge_route_pool(const struct edge_snapshot *snap, const struct edge_record *rec);

/* The admin listener's metrics and purge, and the expiry check (control thread). */
void edge_metrics_write(void *srv, struct metrics_text *m);
void edge_check_expiry(struct edge_server *srv);
long edge_admin_purge(void *srv, const char *param, const char *value);

/* Pool callbacks for TLS pulls. */
extern const struct upstream_tls_ops edge_origin_tls_ops;

#endif
