/*
 * edge_cache: see edge_cache.h. The request side: the key, the lookup, the
 * decision (RFC 9111), collapsing; the response side: storing what may be
 * stored while it streams, 304 updates, stale-if-error, invalidation.
 */
#include "edge/edge_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache_key.h"
#include "cache/cache_policy.h"
#include "cache/cache_response.h"
#include "core/hostname.h"
#include "core/log.h"
#include "core/metrics.h"
#include "edge/edge.h"
#include "edge/edge_cache_int.h"

int edge_cache_init(struct edge_cache *c, const struct edge_cache_conf *conf)
{
	c->conf = conf;
	c->store = NULL;
	c->fills = NULL;
	if (!conf->size)
		return 0;
	/* Up to 16 shards (less lock sharing), but never so many that one
	 * shard's share could not hold an object of max_object. */
	unsigned shards = 16;
	while (shards > 1 && conf->size / shards < 2 * conf->max_object)
		shards /= 2;
	c->store = cache_store_new(conf->size, shards);
	c->fills = cache_fills_new(64);
	return c->store && c->fills ? 0 : -1;
}

void edge_cache_destroy(struct edge_cache *c)
{
	cache_store_free(c->store);
	cache_fills_free(c->fills);
	c->store = NULL;
	c->fills = NULL;
}

int64_t edge_cache_now(void)
{
	return (int64_t)time(NULL);
}

void edge_cache_req_free(struct edge_cache_req *cr)
{
	if (!cr)
		return;
	if (cr->waiter)
		cr->waiter->owner = NULL; /* the fill's wake frees it */
	if (cr->fill)
		cache_fill_finish(cr->cache->fills, cr->fill);
	if (cr->stale)
		cache_object_unref(cr->stale);
	if (cr->filling)
		cache_object_unref(cr->filling);
	buf_free(&cr->key_block);
	free(cr->req_head);
	free(cr);
}

static void waiter_wake(struct cache_waiter *w)
{
	struct proxy_session *s = w->owner;
	if (s) {
		struct edge_conn *ec = s->role_data;
		if (ec && ec->creq && ec->creq->waiter == w) {
			ec->creq->waiter = NULL;
			ec->creq->woken = true;
		}
		proxy_session_resume(s);
	}
	free(w);
}

/* Copies the request head: the response side needs its headers (Vary,
 * conditionals, Range) after the session has moved past them. */
static bool keep_request_head(struct edge_cache_req *cr, struct proxy_session *s, size_t head_len)
{
	free(cr->req_head);
	cr->req_head = malloc(head_len);
	if (!cr->req_head)
		return false;
	memcpy(cr->req_head, buf_rd(&s->cin), head_len);
	cr->req_head_len = head_len;
	return true;
}

bool edge_cache_req_headers(struct edge_cache_req *cr, struct http_request *out)
{
	static const struct http_limits lim = { 64 * 1024, 256 * 1024, HTTP_MAX_HEADERS };
	return cr->req_head && http_parse_request(cr->req_head, cr->req_head_len, &lim, out) > 0;
}

static bool method_invalidates(enum http_method m)
{
	return m == HTTP_METHOD_POST || m == HTTP_METHOD_PUT || m == HTTP_METHOD_DELETE ||
	       m == HTTP_METHOD_PATCH;
}

/* Looks up the stored response for the request: the primary key, then the
 * variant when the primary holds a Vary placeholder. Sets cr->key_len. */
static struct cache_object *lookup(struct edge_cache_req *cr, const struct http_request *req, bool *vary_miss)
{
	struct cache_store *store = cr->cache->store;
	*vary_miss = false;
	struct cache_object *obj = cache_store_lookup(store, cr->key, cr->primary_len);
	if (!obj || !obj->meta.is_vary_spec)
		return obj;
	/* The variant extends the primary key in place. */
	size_t len = cache_key_add_vary(cr->key, CACHE_KEY_MAX, cr->primary_len, obj->meta.vary, req->headers,
					req->header_count);
	cache_object_unref(obj);
	if (!len)
		return NULL;
	cr->key_len = len;
	obj = cache_store_lookup(store, cr->key, len);
	*vary_miss = obj == NULL;
	return obj;
}

static void set_status(struct edge_cache_req *cr, const char *fwd, const char *cf)
{
	cr->fwd = fwd;
	cr->cf = cf;
}

int edge_cache_request(struct proxy_session *s, const struct http_request *req, size_t head_len)
{
	struct edge_conn *ec = s->role_data;
	struct edge_worker *ew = edge_gen_of(s)->ew;
	struct edge_cache *cache = &ew->srv->cache;
	const struct edge_record *rec = ec->record;
	/* A parked request comes back here once (woken, or its wait timed
	 * out): it then pulls without collapsing again. */
	bool waited = ec->creq && (ec->creq->waiter || ec->creq->woken);
	edge_cache_req_free(ec->creq);
	ec->creq = NULL;
	if (!cache->store || !rec || !rec->zone->cache.enabled)
		return 0;
	struct edge_cache_req *cr = calloc(1, sizeof *cr);
	if (!cr)
		return 0;
	ec->creq = cr;
	cr->cache = cache;
	cr->request_no = s->requests;
	cr->waited = waited;
	cr->method = req->method;
	cr->request_time = edge_cache_now();
	cache_control_parse(req->headers, req->header_count, true, &cr->req_cc);
	cr->has_authorization = http_find_header(req->headers, req->header_count, "authorization") != NULL;
	struct slice host = hostname_from_host_header(req->host);
	if (host.len >= sizeof cr->host)
		return 0;
	for (size_t i = 0; i < host.len; i++)
		cr->host[i] = (char)((host.ptr[i] >= 'A' && host.ptr[i] <= 'Z') ? host.ptr[i] + 32 : host.ptr[i]);
	cr->host[host.len] = '\0';
	/* A key buffer for every request: one the worker keeps, not a fresh
	 * 4 KiB allocation each time. */
	if (!buf_ensure(&cr->key_block, CACHE_KEY_MAX))
		return 0;
	cr->key = cr->key_block.data;
	cr->primary_len = cache_key_primary(cr->key, CACHE_KEY_MAX, s->scheme,
					    slice_from_cstr(cr->host), req->target, rec->zone->cache.ignore_query);
	cr->key_len = cr->primary_len;
	if (!cr->primary_len) {
		set_status(cr, "bypass", "BYPASS");
		return 0;
	}
	if (method_invalidates(req->method)) {
		cr->invalidate = true;
		set_status(cr, "method", "DYNAMIC");
		return 0;
	}
	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		set_status(cr, "method", "BYPASS");
		return 0;
	}
	cr->lookup = true;
	bool vary_miss;
	struct cache_object *obj = lookup(cr, req, &vary_miss);
	int64_t now = edge_cache_now();
	if (obj) {
		struct cache_stored st = {
			.cc = &obj->meta.cc,
			.lifetime = obj->meta.lifetime,
			.age = cache_current_age(obj->meta.initial_age, obj->meta.response_time, now),
		};
		enum cache_use use = cache_decide(&cr->req_cc, &st);
		if (use == CACHE_USE_FRESH || use == CACHE_USE_STALE_OK || use == CACHE_USE_STALE_REVALIDATE_BG) {
			if (use == CACHE_USE_STALE_REVALIDATE_BG) {
				struct cache_fill *fill;
				/* One refresh per key: whoever leads the fill refreshes. */
				if (cache_fill_try_lead(cache->fills, cr->key, cr->key_len, &fill))
					edge_cache_refresh_start(s, obj, fill, req);
				METRIC_INC(ew->cstats.stale_served);
				set_status(cr, NULL, "STALE");
			} else {
				set_status(cr, NULL, use == CACHE_USE_FRESH ? "HIT" : "STALE");
			}
			METRIC_INC(ew->cstats.hits);
			return edge_cache_serve(s, cr, obj, req, now, true);
		}
		/* Stale or the visitor insists: ask the origin, with our validators. */
		cr->stale = obj;
		cr->conditional = obj->meta.etag_len || obj->meta.last_modified >= 0;
		set_status(cr, "stale", "EXPIRED");
	} else {
		set_status(cr, vary_miss ? "vary-miss" : "uri-miss", "MISS");
	}
	if (cr->req_cc.only_if_cached) {
		/* Stored, but not usable without the origin: only-if-cached
		 * wants no pull (RFC 9111 5.2.1.7). */
		cache_object_unref(obj);
		cr->stale = NULL;
		return edge_cache_serve_error(s, cr, 504);
	}
	if (cr->req_cc.no_cache && !obj)
		set_status(cr, "request", "MISS");
	METRIC_INC(ew->cstats.misses);
	if (!keep_request_head(cr, s, head_len))
		return 0;
	/* Collapse concurrent misses for this key into one pull. */
	if (!obj && !cr->waited) {
		struct cache_waiter *w = calloc(1, sizeof *w);
		if (!w)
			return 0;
		w->worker = &ew->worker;
		w->owner = s;
		w->wake = waiter_wake;
		struct cache_fill *fill;
		enum cache_fill_role role = cache_fill_join(cache->fills, cr->key, cr->key_len, now, w, &fill);
		if (role == CACHE_FILL_WAITER) {
			cr->waiter = w;
			cr->waited = true;
			METRIC_INC(ew->cstats.collapsed);
			return PROXY_WAIT;
		}
		free(w);
		cr->fill = fill; /* NULL when the key is marked uncacheable */
	}
	return 0;
}

/* The validators we add to a revalidation; the visitor's own are dropped
 * (edge_cache_drop_header) because we answer them from the result. */
bool edge_cache_add_headers(struct proxy_session *s, struct buf *out)
{
	struct edge_conn *ec = s->role_data;
	struct edge_cache_req *cr = ec ? ec->creq : NULL;
	if (!cr || !cr->stale || !cr->conditional)
		return true;
	const struct cache_object *o = cr->stale;
	bool ok = true;
	if (o->meta.etag_len)
		ok = buf_append_str(out, "If-None-Match: ") &&
		     buf_append(out, o->data + o->meta.etag_off, o->meta.etag_len) && buf_append(out, "\r\n", 2);
	if (ok && o->meta.last_modified >= 0) {
		char date[32];
		ok = buf_printf(out, "If-Modified-Since: %s\r\n", http_date_format(o->meta.last_modified, date));
	}
	return ok;
}

bool edge_cache_drop_header(struct proxy_session *s, struct slice name)
{
	struct edge_conn *ec = s->role_data;
	struct edge_cache_req *cr = ec ? ec->creq : NULL;
	/* A lookup that forwards owns the conditionals: the stored response,
	 * not the visitor's copy, is what the origin validates; and a range is
	 * cut from the whole response we fetch to store. */
	if (!cr || !cr->lookup)
		return false;
	return slice_eq_cstr_nocase(name, "if-none-match") || slice_eq_cstr_nocase(name, "if-modified-since") ||
	       slice_eq_cstr_nocase(name, "range") || slice_eq_cstr_nocase(name, "if-range");
}
