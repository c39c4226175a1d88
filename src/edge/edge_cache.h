/*
 * edge_cache: the edge's shared cache in the request path. Hits are served
 * from the store without touching the origin; misses for one key collapse
 * into one pull that fills the store while it streams to the first visitor;
 * stale responses are revalidated with conditional requests, served while
 * a background refresh runs (stale-while-revalidate), or served when the
 * origin fails (stale-if-error). Cache-Status (RFC 9211) says what happened.
 */
#ifndef PULLGATE_EDGE_EDGE_CACHE_H
#define PULLGATE_EDGE_EDGE_CACHE_H

#include <stdint.h>

#include "cache/cache_fill.h"
#include "cache/cache_store.h"
#include "conf/edge_conf.h"
#include "proxy/session.h"

/* Per-worker counters (METRIC_INC by the worker). */
struct edge_cache_stats {
	uint64_t hits, misses, stale_served, revalidated, stored, bypass, collapsed;
	uint64_t bytes_served;
};

struct edge_cache {
	const struct edge_cache_conf *conf;
	struct cache_store *store;
	struct cache_fills *fills;
};

struct edge_cache_req;

/* NULL cache when conf->size is 0. */
int edge_cache_init(struct edge_cache *c, const struct edge_cache_conf *conf);
void edge_cache_destroy(struct edge_cache *c);

/* The session hooks (see proxy_role). */
int edge_cache_request(struct proxy_session *s, const struct http_request *req, size_t head_len);
int edge_cache_response(struct proxy_session *s);
bool edge_cache_response_headers(struct proxy_session *s, struct buf *out);
void edge_cache_response_done(struct proxy_session *s, bool complete);
bool edge_cache_upstream_failed(struct proxy_session *s, enum upstream_error err);
/* Releases a connection's cache state (on close, or after each request). */
void edge_cache_req_free(struct edge_cache_req *cr);

/* Purges, for the admin listener: by URL ("https://host/path"), by host, all. */
size_t edge_cache_purge_url(struct edge_cache *c, const char *url);
size_t edge_cache_purge_host(struct edge_cache *c, const char *host);
size_t edge_cache_purge_all(struct edge_cache *c);

/* Starts a background refresh of a stale object (stale-while-revalidate);
 * takes the leadership of fill. */
void edge_cache_refresh_start(struct proxy_session *s, struct cache_object *stale, struct cache_fill *fill,
			      const struct http_request *req);
struct edge_worker;
/* Ends every refresh of a worker (drain, stop). */
void edge_cache_refresh_abort_all(struct edge_worker *ew);

#endif
