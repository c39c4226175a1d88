/*
 * edge_cache_response: the response side of the edge cache — storing a
 * response while it streams to the visitor, a 304's update of the stored
 * one, stale-if-error, and invalidation after unsafe methods.
 */
#include <stdlib.h>
#include <string.h>

#include "cache/cache_key.h"
#include "cache/cache_response.h"
#include "core/hostname.h"
#include "core/log.h"
#include "core/metrics.h"
#include "edge/edge.h"
#include "edge/edge_cache_int.h"

static struct edge_cache_req *req_of(struct proxy_session *s)
{
	struct edge_conn *ec = s->role_data;
	return ec ? ec->creq : NULL;
}

/* Invalidates a URI of the same host (RFC 9111 4.4): the target, and
 * Location / Content-Location when they point at this host. */
static void invalidate_uri(struct edge_cache_req *cr, struct slice uri, const char *scheme)
{
	char key[CACHE_KEY_MAX];
	size_t len = 0;
	if (uri.len && uri.ptr[0] == '/') {
		len = cache_key_primary(key, sizeof key, scheme, slice_from_cstr(cr->host), uri, false);
	} else {
		const char *p = memchr(uri.ptr, ':', uri.len);
		if (!p || (size_t)(uri.ptr + uri.len - p) < 3 || p[1] != '/' || p[2] != '/')
			return;
		const char *auth = p + 3, *end = uri.ptr + uri.len;
		const char *slash = memchr(auth, '/', (size_t)(end - auth));
		struct slice host = hostname_from_host_header(slice_make(auth, (size_t)((slash ? slash : end) - auth)));
		if (!slice_eq_nocase(host, slice_from_cstr(cr->host)))
			return; /* another host's URIs are not ours to drop */
		len = cache_key_primary(key, sizeof key, scheme, slice_from_cstr(cr->host),
					slash ? slice_make(slash, (size_t)(end - slash)) : SLICE_LIT("/"), false);
	}
	if (len)
		cache_store_remove_primary(cr->cache->store, key, len);
}

static void invalidate(struct proxy_session *s, struct edge_cache_req *cr)
{
	cache_store_remove_primary(cr->cache->store, cr->key, cr->primary_len);
	const struct http_response *r = s->resp;
	const char *names[] = { "location", "content-location" };
	for (size_t i = 0; i < 2; i++) {
		const struct http_header *h = http_find_header(r->headers, r->header_count, names[i]);
		if (h)
			invalidate_uri(cr, h->value, s->scheme);
	}
}

static void tee_into_object(void *arg, const char *p, size_t n)
{
	struct edge_cache_req *cr = arg;
	if (!cr->fill_ok || !cr->filling)
		return;
	if (cr->filling->body_len + n > cr->fill_limit || !cache_object_append(cr->filling, p, n)) {
		cr->fill_ok = false; /* too large to store: it still streams */
		return;
	}
	cr->filling->body_len += n;
}

/* Sets up the copy of a storable response; the key gains the variant part
 * when the response varies. */
static void start_fill(struct proxy_session *s, struct edge_cache_req *cr, const struct cache_response_info *info,
		       int64_t now)
{
	const struct edge_cache_conf *conf = cr->cache->conf;
	const struct edge_record *rec = ((struct edge_conn *)s->role_data)->record;
	const struct http_response *r = s->resp;
	if (r->body == HTTP_BODY_LENGTH && r->content_length > conf->max_object) {
		cr->detail = "too-large";
		return;
	}
	char *key = cr->key;
	size_t key_len = cr->primary_len;
	char vary[CACHE_VARY_MAX] = "";
	char *vkey = NULL;
	if (info->has_vary) {
		static __thread struct http_request req;
		if (!cache_vary_names(r->headers, r->header_count, vary, sizeof vary) ||
		    !edge_cache_req_headers(cr, &req) || !(vkey = malloc(CACHE_KEY_MAX)))
			return;
		memcpy(vkey, cr->key, cr->primary_len);
		key_len = cache_key_add_vary(vkey, CACHE_KEY_MAX, cr->primary_len, vary, req.headers, req.header_count);
		if (!key_len) {
			free(vkey);
			return;
		}
		key = vkey;
	}
	size_t hint = r->body == HTTP_BODY_LENGTH ? (size_t)r->content_length : 0;
	cr->filling = cache_response_object(key, key_len, cr->host, r, rec->zone->cache.store_set_cookie,
					    cr->request_time, now, hint);
	if (cr->filling && info->has_vary) {
		struct cache_object *spec = cache_vary_spec_object(cr->key, cr->primary_len, cr->host, vary,
								   &cr->filling->meta);
		if (spec) {
			cache_store_insert(cr->cache->store, spec);
			cache_object_unref(spec);
		}
	}
	free(vkey);
	if (!cr->filling)
		return;
	cr->fill_ok = true;
	cr->fill_limit = conf->max_object;
	s->tee = tee_into_object;
	s->tee_arg = cr;
}

/* stale-if-error: answers from the stale stored response when its window
 * (or the request's) allows. PROXY_SERVED, or 0 when it may not. */
static int serve_stale_on_error(struct proxy_session *s, struct edge_cache_req *cr)
{
	static __thread struct http_request req;
	struct edge_worker *ew = edge_gen_of(s)->ew;
	if (!cr->stale || !edge_cache_req_headers(cr, &req))
		return 0;
	int64_t now = edge_cache_now();
	struct cache_stored st = {
		.cc = &cr->stale->meta.cc,
		.lifetime = cr->stale->meta.lifetime,
		.age = cache_current_age(cr->stale->meta.initial_age, cr->stale->meta.response_time, now),
	};
	if (!cache_stale_if_error_ok(&cr->req_cc, &st))
		return 0;
	struct cache_object *stale = cr->stale;
	cr->stale = NULL;
	cr->cf = "STALE";
	cr->detail = "stale-if-error";
	METRIC_INC(ew->cstats.stale_served);
	return edge_cache_serve(s, cr, stale, &req, now, true);
}

int edge_cache_response(struct proxy_session *s)
{
	struct edge_cache_req *cr = req_of(s);
	struct edge_worker *ew = edge_gen_of(s)->ew;
	if (!cr)
		return 0;
	const struct http_response *r = s->resp;
	int64_t now = edge_cache_now();
	cr->fwd_status = r->status;
	if (cr->invalidate) {
		if (r->status >= 200 && r->status < 400)
			invalidate(s, cr);
		return 0;
	}
	if (!cr->lookup)
		return 0;
	static __thread struct http_request req;
	if (cr->stale && r->status == 304 && cr->conditional) {
		/* Still valid: update the stored headers, answer from it. */
		struct cache_object *fresh = cache_response_merge_304(cr->stale, r, cr->request_time, now);
		struct cache_object *use = fresh ? fresh : cr->stale;
		if (fresh) {
			cache_store_insert(cr->cache->store, fresh);
			cache_object_unref(cr->stale);
		}
		cr->stale = NULL;
		cr->cf = "REVALIDATED";
		cr->detail = NULL;
		METRIC_INC(ew->cstats.revalidated);
		if (!edge_cache_req_headers(cr, &req)) {
			cache_object_unref(use);
			return 0;
		}
		return edge_cache_serve(s, cr, use, &req, now, false);
	}
	if (cr->stale && r->status >= 500 && serve_stale_on_error(s, cr) == PROXY_SERVED)
		return PROXY_SERVED;
	if (cr->method != HTTP_METHOD_GET)
		return 0; /* a HEAD's answer is not stored */
	struct cache_response_info info;
	cache_response_info_parse(r->status, r->headers, r->header_count, &info);
	const struct edge_record *rec = ((struct edge_conn *)s->role_data)->record;
	enum cache_store_verdict v = cache_storable(cr->method, &cr->req_cc, cr->has_authorization, &info,
						    rec->zone->cache.store_set_cookie);
	if (v != CACHE_STORABLE) {
		cr->detail = cache_store_verdict_name(v);
		cr->cf = "DYNAMIC";
		if (cache_verdict_from_response(v, &info))
			cache_fill_mark_uncacheable(cr->cache->fills, cr->key, cr->key_len, now);
		return 0;
	}
	cache_fill_clear_uncacheable(cr->cache->fills, cr->key, cr->key_len);
	start_fill(s, cr, &info, now);
	cr->stored = cr->filling != NULL;
	return 0;
}

bool edge_cache_response_headers(struct proxy_session *s, struct buf *out)
{
	struct edge_cache_req *cr = req_of(s);
	if (!cr || cr->request_no != s->requests || (!cr->lookup && !cr->invalidate))
		return true; /* not this request's: an error before the cache was asked */
	int64_t ttl = cr->filling ? cr->filling->meta.lifetime - cr->filling->meta.initial_age : 0;
	return edge_cache_status_headers(cr, out, ttl, false);
}

void edge_cache_response_done(struct proxy_session *s, bool complete)
{
	struct edge_cache_req *cr = req_of(s);
	struct edge_worker *ew = edge_gen_of(s)->ew;
	if (!cr)
		return;
	if (cr->filling) {
		bool whole = complete && cr->fill_ok &&
			     (s->resp_kind != HTTP_BODY_LENGTH || cr->filling->body_len == s->resp_length);
		if (whole && cache_store_insert(cr->cache->store, cr->filling))
			METRIC_INC(ew->cstats.stored);
		cache_object_unref(cr->filling);
		cr->filling = NULL;
	}
	if (cr->fill) {
		/* Waiters look again: a hit now, or a pull of their own. */
		cache_fill_finish(cr->cache->fills, cr->fill);
		cr->fill = NULL;
	}
	if (cr->stale) {
		cache_object_unref(cr->stale);
		cr->stale = NULL;
	}
}

bool edge_cache_upstream_failed(struct proxy_session *s, enum upstream_error err)
{
	struct edge_cache_req *cr = req_of(s);
	if (!cr)
		return false;
	bool served = serve_stale_on_error(s, cr) == PROXY_SERVED;
	if (cr->fill) {
		cache_fill_finish(cr->cache->fills, cr->fill);
		cr->fill = NULL;
	}
	return served;
}

/* --- purge --- */

size_t edge_cache_purge_url(struct edge_cache *c, const char *url)
{
	if (!c->store)
		return 0;
	/* "scheme://Host/path": the key is the URL with the host lowercased
	 * and any port dropped. */
	const char *p = strstr(url, "://");
	if (!p)
		return 0;
	const char *auth = p + 3;
	const char *slash = strchr(auth, '/');
	struct slice host = hostname_from_host_header(slice_make(auth, slash ? (size_t)(slash - auth) : strlen(auth)));
	char lower[256];
	if (host.len >= sizeof lower)
		return 0;
	for (size_t i = 0; i < host.len; i++)
		lower[i] = (char)((host.ptr[i] >= 'A' && host.ptr[i] <= 'Z') ? host.ptr[i] + 32 : host.ptr[i]);
	char scheme[8];
	size_t sl = (size_t)(p - url);
	if (sl >= sizeof scheme)
		return 0;
	memcpy(scheme, url, sl);
	scheme[sl] = '\0';
	char key[CACHE_KEY_MAX];
	size_t len = cache_key_primary(key, sizeof key, scheme, slice_make(lower, host.len),
				       slash ? slice_from_cstr(slash) : SLICE_LIT("/"), false);
	return len ? cache_store_remove_primary(c->store, key, len) : 0;
}

size_t edge_cache_purge_host(struct edge_cache *c, const char *host)
{
	return c->store ? cache_store_purge_host(c->store, host) : 0;
}

size_t edge_cache_purge_all(struct edge_cache *c)
{
	return c->store ? cache_store_purge_all(c->store) : 0;
}
