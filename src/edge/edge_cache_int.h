/* edge_cache_int: the per-request cache state shared by edge_cache*.c. */
#ifndef PULLGATE_EDGE_EDGE_CACHE_INT_H
#define PULLGATE_EDGE_EDGE_CACHE_INT_H

#include "cache/cache_policy.h"
#include "core/buf.h"
#include "edge/edge_cache.h"

struct edge_cache_req {
	struct edge_cache *cache;
	uint64_t request_no;       /* the session's request it belongs to */
	struct buf key_block;      /* CACHE_KEY_MAX bytes, from the worker's buffer cache */
	char *key;                 /* key_block's bytes: primary, or primary + "\0" + variant */
	size_t key_len;
	size_t primary_len;
	char host[256];            /* lowercase, no port */
	enum http_method method;
	struct cache_control req_cc;
	bool has_authorization;
	bool lookup;               /* a GET/HEAD that went through the cache */
	bool invalidate;           /* an unsafe method: invalidate on success */
	bool waited;               /* already parked once: pull without collapsing */
	bool woken;                /* its fill ended while it was parked */
	int64_t request_time;
	char *req_head;            /* a copy of the request head, owned */
	size_t req_head_len;
	struct cache_waiter *waiter;  /* parked on another pull (its fill frees it) */
	struct cache_fill *fill;      /* this pull leads a fill */
	struct cache_object *stale;   /* the stored response being revalidated */
	bool conditional;             /* our validators went to the origin */
	struct cache_object *filling; /* the copy being stored */
	bool fill_ok;
	uint64_t fill_limit;
	const char *fwd;           /* Cache-Status fwd=, NULL for a hit */
	int fwd_status;            /* the origin's status, for fwd-status= */
	const char *cf;            /* CF-Cache-Status */
	bool stored;
	const char *detail;        /* Cache-Status detail= */
};

int64_t edge_cache_now(void);
/* Parses the kept request head again. */
bool edge_cache_req_headers(struct edge_cache_req *cr, struct http_request *out);
/* Answers from obj (takes the reference): 304 to a matching conditional,
 * HEAD, a single range (206/416), else the whole response. hit: served
 * without a pull (else Cache-Status tells the pull, as after a 304).
 * PROXY_SERVED. */
int edge_cache_serve(struct proxy_session *s, struct edge_cache_req *cr, struct cache_object *obj,
		     const struct http_request *req, int64_t now, bool hit);
/* A small error from the cache itself (504 for only-if-cached). */
int edge_cache_serve_error(struct proxy_session *s, struct edge_cache_req *cr, int status);
/* Cache-Status (and CF-Cache-Status) lines for cr into out. */
bool edge_cache_status_headers(struct edge_cache_req *cr, struct buf *out, int64_t ttl, bool hit);
/* The session's role hooks that touch the forwarded request. */
bool edge_cache_add_headers(struct proxy_session *s, struct buf *out);
bool edge_cache_drop_header(struct proxy_session *s, struct slice name);

#endif
