/*
 * edge_cache_refresh: the background refresh of stale-while-revalidate — a
 * pull with no visitor attached. It sends the visitor's request again with
 * the stored response's validators, and stores what comes back: a 304's
 * updated headers, or a new storable response. Anything else leaves the
 * store as it was. One per key at a time (it leads the key's fill).
 */
#include <stdlib.h>
#include <string.h>

#include "cache/cache_response.h"
#include "core/log.h"
#include "core/metrics.h"
#include "edge/edge.h"
#include "edge/edge_cache_int.h"

#define REFRESH_BUF (32 * 1024)

struct edge_cache_refresh {
	struct edge_worker *ew;
	struct proxy_worker *pw;   /* its generation: kept alive while the refresh runs */
	struct edge_cache *cache;
	struct upstream_pool *pool;
	struct upstream_conn *up;
	struct cache_fill *fill;
	struct cache_object *stale;
	struct cache_object *filling;
	struct buf out, in, sink;
	struct http_response resp;
	bool head_done;
	struct body_pump pump;
	bool keep_set_cookie;
	int64_t request_time;
	struct task free_task;
	struct edge_cache_refresh *prev, *next;
	bool done;
};

static void refresh_free(struct task *t)
{
	struct edge_cache_refresh *r = t->data;
	buf_free(&r->out);
	buf_free(&r->in);
	buf_free(&r->sink);
	free(r);
}

static void refresh_end(struct edge_cache_refresh *r, bool stored, bool reusable)
{
	if (r->done)
		return;
	r->done = true;
	struct edge_worker *ew = r->ew;
	if (r->up) {
		upstream_release(r->up, reusable);
		r->up = NULL;
	}
	if (r->filling) {
		if (stored && cache_store_insert(r->cache->store, r->filling))
			METRIC_INC(ew->cstats.stored);
		cache_object_unref(r->filling);
		r->filling = NULL;
	}
	cache_object_unref(r->stale);
	cache_fill_finish(r->cache->fills, r->fill);
	struct proxy_worker *pw = r->pw;
	if (--pw->active == 0 && (pw->draining || pw->retired) && pw->on_idle)
		pw->on_idle(pw);
	if (r->prev)
		r->prev->next = r->next;
	else
		ew->refreshes = r->next;
	if (r->next)
		r->next->prev = r->prev;
	task_defer(ew->worker.loop, &r->free_task);
}

void edge_cache_refresh_abort_all(struct edge_worker *ew)
{
	while (ew->refreshes)
		refresh_end(ew->refreshes, false, false);
}

static void tee(void *arg, const char *p, size_t n)
{
	struct edge_cache_refresh *r = arg;
	if (!r->filling)
		return;
	if (r->filling->body_len + n > r->cache->conf->max_object || !cache_object_append(r->filling, p, n)) {
		cache_object_unref(r->filling);
		r->filling = NULL;
		return;
	}
	r->filling->body_len += n;
}

/* The response head: 304 updates, a storable response is copied, the rest
 * ends the refresh. Returns false when the refresh ended. */
static bool on_head(struct edge_cache_refresh *r, int64_t now)
{
	if (r->resp.status == 304) {
		struct cache_object *fresh = cache_response_merge_304(r->stale, &r->resp, r->request_time, now);
		if (fresh) {
			cache_store_insert(r->cache->store, fresh);
			cache_object_unref(fresh);
			METRIC_INC(r->ew->cstats.revalidated);
		}
		refresh_end(r, false, r->resp.keep_alive);
		return false;
	}
	struct cache_response_info info;
	cache_response_info_parse(r->resp.status, r->resp.headers, r->resp.header_count, &info);
	struct cache_control none = { 0 };
	if (info.has_vary || cache_storable(HTTP_METHOD_GET, &none, false, &info, r->keep_set_cookie) != CACHE_STORABLE ||
	    (r->resp.body == HTTP_BODY_LENGTH && r->resp.content_length > r->cache->conf->max_object)) {
		refresh_end(r, false, false);
		return false;
	}
	r->filling = cache_response_object(r->stale->key, r->stale->key_len, r->stale->host, &r->resp,
					   r->keep_set_cookie, r->request_time, now,
					   r->resp.body == HTTP_BODY_LENGTH ? (size_t)r->resp.content_length : 0);
	body_pump_init(&r->pump, r->resp.body, r->resp.content_length, false);
	r->pump.tee = tee;
	r->pump.tee_arg = r;
	return true;
}

static void refresh_run(struct edge_cache_refresh *r)
{
	static const struct http_limits lim = { 8192, 32 * 1024, HTTP_MAX_HEADERS };
	struct upstream_conn *up = r->up;
	if (up->connecting) {
		int c = upstream_conn_check_connect(up);
		if (c <= 0) {
			if (c < 0)
				refresh_end(r, false, false);
			return;
		}
		up->t.readable = true;
	}
	if (up->handshaking) {
		enum upstream_error err;
		char detail[160];
		int h = upstream_conn_handshake(up, &err, detail, sizeof detail);
		if (h <= 0) {
			if (h < 0)
				refresh_end(r, false, false);
			return;
		}
	}
	while (buf_len(&r->out) && transport_can_write(&up->t)) {
		ssize_t n = transport_write(&up->t, buf_rd(&r->out), buf_len(&r->out));
		if (n == TRANSPORT_AGAIN)
			break;
		if (n < 0) {
			refresh_end(r, false, false);
			return;
		}
		buf_consume(&r->out, (size_t)n);
		if (!buf_len(&r->out))
			timer_arm(r->ew->worker.loop, &up->timer, r->pw->limits->response_ms);
	}
	for (;;) {
		while (buf_space(&r->in) && !up->t.eof && transport_can_read(&up->t)) {
			buf_compact(&r->in);
			ssize_t n = transport_read(&up->t, buf_wr(&r->in), buf_tail(&r->in));
			if (n == TRANSPORT_AGAIN)
				break;
			if (n < 0) {
				refresh_end(r, false, false);
				return;
			}
			buf_commit(&r->in, (size_t)n);
			if (n == 0)
				break;
		}
		if (!r->head_done) {
			int h = http_parse_response(buf_rd(&r->in), buf_len(&r->in), &lim, HTTP_METHOD_GET, &r->resp);
			if (h == HTTP_INCOMPLETE && !up->t.eof && buf_space(&r->in))
				return;
			if (h <= 0) {
				refresh_end(r, false, false);
				return;
			}
			if (r->resp.status < 200) {
				buf_consume(&r->in, (size_t)h);
				continue;
			}
			timer_disarm(r->ew->worker.loop, &up->timer);
			r->head_done = true;
			bool go_on = on_head(r, edge_cache_now());
			if (!go_on)
				return;
			buf_consume(&r->in, (size_t)h);
		}
		buf_reset(&r->sink);
		int m = body_pump_run(&r->pump, &r->in, &r->sink, up->t.eof);
		if (m < 0) {
			refresh_end(r, false, false);
			return;
		}
		if (r->pump.done) {
			refresh_end(r, r->filling != NULL, r->resp.keep_alive && r->resp.body != HTTP_BODY_CLOSE &&
							       !buf_len(&r->in));
			return;
		}
		if (m == 0 && (up->t.eof || !transport_can_read(&up->t)))
			return;
	}
}

static void refresh_on_io(struct upstream_conn *c, unsigned events)
{
	transport_note_events(&c->t, events);
	refresh_run(c->owner);
}

static void refresh_on_timeout(struct upstream_conn *c)
{
	refresh_end(c->owner, false, false);
}

static const struct upstream_owner_ops refresh_ops = {
	.on_io = refresh_on_io,
	.on_timeout = refresh_on_timeout,
};

/* The refresh's request: the visitor's request line and end-to-end headers,
 * with the stored response's validators instead of the visitor's. */
static bool build_request(struct edge_cache_refresh *r, struct proxy_session *s, const struct http_request *req)
{
	struct buf *out = &r->out;
	const struct cache_object *o = r->stale;
	bool ok = buf_printf(out, "GET %.*s HTTP/1.1\r\nHost: %.*s\r\n", (int)req->target.len, req->target.ptr,
			     (int)req->host.len, req->host.ptr);
	for (size_t i = 0; ok && i < req->header_count; i++) {
		const struct http_header *h = &req->headers[i];
		struct slice n = h->name;
		if (http_header_is_hop_by_hop(n, req->headers, req->header_count) || slice_eq_cstr_nocase(n, "host") ||
		    slice_eq_cstr_nocase(n, "if-none-match") || slice_eq_cstr_nocase(n, "if-modified-since") ||
		    slice_eq_cstr_nocase(n, "range") || slice_eq_cstr_nocase(n, "if-range") ||
		    slice_eq_cstr_nocase(n, "cache-control") || slice_eq_cstr_nocase(n, "pragma") ||
		    slice_eq_cstr_nocase(n, "content-length"))
			continue;
		ok = buf_append(out, n.ptr, n.len) && buf_append(out, ": ", 2) &&
		     buf_append(out, h->value.ptr, h->value.len) && buf_append(out, "\r\n", 2);
	}
	if (ok && o->meta.etag_len)
		ok = buf_append_str(out, "If-None-Match: ") && buf_append(out, o->data + o->meta.etag_off, o->meta.etag_len) &&
		     buf_append(out, "\r\n", 2);
	if (ok && o->meta.last_modified >= 0) {
		char date[32];
		ok = buf_printf(out, "If-Modified-Since: %s\r\n", http_date_format(o->meta.last_modified, date));
	}
	return ok && buf_printf(out, "Via: 1.1 pullgate\r\nX-Forwarded-For: %s\r\n\r\n", s->peer_ip);
}

void edge_cache_refresh_start(struct proxy_session *s, struct cache_object *stale, struct cache_fill *fill,
			      const struct http_request *req)
{
	struct edge_worker *ew = edge_gen_of(s)->ew;
	struct edge_cache *cache = &ew->srv->cache;
	struct edge_cache_refresh *r = calloc(1, sizeof *r);
	if (!r || !buf_ensure(&r->out, 16 * 1024) || !buf_ensure(&r->in, REFRESH_BUF) ||
	    !buf_ensure(&r->sink, REFRESH_BUF + 64)) {
		if (r) {
			buf_free(&r->out);
			buf_free(&r->in);
			free(r);
		}
		cache_fill_finish(cache->fills, fill);
		return;
	}
	r->ew = ew;
	r->pw = s->pw;
	r->pw->active++; /* counted like a session, so the generation waits for it */
	r->cache = cache;
	r->pool = s->pool;
	r->fill = fill;
	cache_object_ref(stale);
	r->stale = stale;
	r->request_time = edge_cache_now();
	r->keep_set_cookie = ((struct edge_conn *)s->role_data)->record->zone->cache.store_set_cookie;
	task_init(&r->free_task, refresh_free, r);
	r->next = ew->refreshes;
	if (ew->refreshes)
		ew->refreshes->prev = r;
	ew->refreshes = r;
	if (!build_request(r, s, req) || !(r->up = upstream_pool_acquire(r->pool, &refresh_ops, r))) {
		refresh_end(r, false, false);
		return;
	}
	r->up->t.readable = r->up->t.writable = !r->up->connecting;
	refresh_run(r);
}
