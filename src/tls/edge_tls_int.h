/*
 * edge_tls_int: the inside of an edge TLS set, shared by edge_tls.c (build
 * and lifetime), edge_tls_visitor.c (server contexts, SNI) and
 * edge_tls_origin.c (client contexts). Nothing else includes this.
 */
#ifndef PULLGATE_TLS_EDGE_TLS_INT_H
#define PULLGATE_TLS_EDGE_TLS_INT_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "tls/cert_inventory.h"
#include "tls/edge_tls.h"

/* One server context per distinct visitor certificate. */
struct edge_visitor_ctx {
	const char *certificate, *key; /* borrowed from the conf */
	SSL_CTX *ctx;
};

/* One client context per distinct way of making an origin SSL. cert is NULL
 * for unauthenticated pulls; ca is NULL outside strict mode and for the
 * system bundle. */
struct edge_origin_ctx {
	enum ssl_mode mode;
	const struct cert_files *cert;
	const char *ca;
	SSL_CTX *ctx;
};

struct edge_tls {
	atomic_int refs;
	const struct edge_conf *conf;  /* borrowed; outlives the set */
	size_t record_count;           /* over all zones */
	size_t *zone_base;             /* zone i's records start at zone_base[i] */

	SSL_CTX *visitor_initial;      /* no certificate; its SNI callback switches */
	struct edge_visitor_ctx *visitor;
	size_t visitor_count;
	SSL_CTX **record_visitor;      /* per record; NULL: DNS-only */

	struct edge_origin_ctx *origin;
	size_t origin_count;
	struct edge_origin_ctx **record_origin; /* per record; NULL: no TLS to the origin */

	struct cert_inventory inventory; /* visitor and client certificates, CA bundles */
};

/* True when rec is one of the set's conf's records (a record of another
 * configuration snapshot is not). */
bool edge_tls_owns_record(const struct edge_tls *set, const struct edge_record *rec);
/* A record's position in the per-record arrays; rec must be owned. */
size_t edge_tls_record_index(const struct edge_tls *set, const struct edge_record *rec);

/* Build and teardown of each half; build returns false with "file: what is
 * wrong" in err, free is safe on a half-built set. */
bool edge_tls_visitor_build(struct edge_tls *set, char *err, size_t errlen);
void edge_tls_visitor_free(struct edge_tls *set);
bool edge_tls_origin_build(struct edge_tls *set, char *err, size_t errlen);
void edge_tls_origin_free(struct edge_tls *set);

#endif
