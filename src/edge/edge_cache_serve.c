/* edge_cache_serve: writing a stored response to a visitor — with its Age,
 * Cache-Status, and the visitor's conditionals, HEAD and Range applied. */
#include <stdio.h>
#include <string.h>

#include "cache/cache_response.h"
#include "core/metrics.h"
#include "edge/edge.h"
#include "edge/edge_cache_int.h"

/* The fields a 304 repeats (RFC 9110 15.4.5). */
/* If-Range (RFC 9110 13.1.5): the Range counts only when the validator
 * matches — an entity-tag strongly, a date exactly. */
static bool if_range_allows(const struct http_request *req, const struct cache_object *obj)
{
	const struct http_header *ir = http_find_header(req->headers, req->header_count, "if-range");
	if (!ir)
		return true;
	struct slice v = ir->value;
	if (v.len && v.ptr[0] == '"') {
		struct slice etag = slice_make(obj->data + obj->meta.etag_off, obj->meta.etag_len);
		return etag.len && etag.ptr[0] == '"' && slice_eq(v, etag);
	}
	if (v.len >= 2 && v.ptr[0] == 'W' && v.ptr[1] == '/')
		return false; /* weak validators never allow a range */
	int64_t date = http_date_parse(v);
	return date >= 0 && obj->meta.last_modified >= 0 && date == obj->meta.last_modified;
}

static bool kept_in_304(struct slice name)
{
	static const char *const names[] = { "cache-control", "content-location", "date", "etag",
					     "expires", "vary", "last-modified" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (slice_eq_cstr_nocase(name, names[i]))
			return true;
	return false;
}

bool edge_cache_status_headers(struct edge_cache_req *cr, struct buf *out, int64_t ttl, bool hit)
{
	const struct edge_cache_conf *conf = cr->cache->conf;
	bool ok = buf_append_str(out, "Cache-Status: ") && buf_append_str(out, conf->name);
	if (hit)
		ok = ok && buf_append_str(out, "; hit");
	else if (cr->fwd)
		ok = ok && buf_append_str(out, "; fwd=") && buf_append_str(out, cr->fwd);
	if (ok && !hit && cr->fwd_status)
		ok = buf_append_str(out, "; fwd-status=") && buf_append_i64(out, cr->fwd_status);
	if (ok && cr->stored)
		ok = buf_append_str(out, "; stored");
	if (ok && (hit || cr->stored || cr->fwd_status == 304))
		ok = buf_append_str(out, "; ttl=") && buf_append_i64(out, ttl);
	if (ok && cr->detail)
		ok = buf_append_str(out, "; detail=") && buf_append_str(out, cr->detail);
	ok = ok && buf_append(out, "\r\n", 2);
	if (ok && conf->cf_cache_status && cr->cf)
		ok = buf_append_field_str(out, "CF-Cache-Status", cr->cf);
	return ok;
}

static void release_object(void *arg)
{
	cache_object_unref(arg);
}

int edge_cache_serve(struct proxy_session *s, struct edge_cache_req *cr, struct cache_object *obj,
		     const struct http_request *req, int64_t now, bool hit)
{
	struct edge_worker *ew = edge_gen_of(s)->ew;
	static __thread struct http_response head;
	if (!cache_object_parse_head(obj, &head)) {
		cache_object_unref(obj);
		return edge_cache_serve_error(s, cr, 502);
	}
	int64_t age = cache_current_age(obj->meta.initial_age, obj->meta.response_time, now);
	int64_t ttl = obj->meta.lifetime - age;
	uint64_t len = obj->body_len, first = 0, last = len ? len - 1 : 0;
	int status = obj->meta.status;
	struct slice etag = slice_make(obj->data + obj->meta.etag_off, obj->meta.etag_len);
	bool get_or_head = req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD;
	if (get_or_head && status == 200 &&
	    cache_not_modified(req->headers, req->header_count, etag, obj->meta.last_modified)) {
		status = 304;
	} else if (req->method == HTTP_METHOD_GET && status == 200 && if_range_allows(req, obj)) {
		int r = cache_parse_range(req->headers, req->header_count, len, &first, &last);
		if (r > 0)
			status = 206;
		else if (r < 0)
			status = 416;
	}
	struct buf *out = &s->cout;
	bool ok;
	if (status == obj->meta.status) {
		/* The stored status line and headers, without the blank line. */
		ok = buf_append(out, obj->data, obj->head_len - 2);
	} else {
		ok = buf_printf(out, "HTTP/1.1 %d %s\r\n", status, http_status_reason(status));
		for (size_t i = 0; ok && i < head.header_count; i++) {
			const struct http_header *h = &head.headers[i];
			if (status == 304 && !kept_in_304(h->name))
				continue;
			ok = buf_append_field(out, h->name.ptr, h->name.len, h->value.ptr, h->value.len);
		}
	}
	uint64_t body = 0;
	if (ok && status == 206) {
		body = last - first + 1;
		ok = buf_printf(out, "Content-Range: bytes %llu-%llu/%llu\r\nContent-Length: %llu\r\n",
				(unsigned long long)first, (unsigned long long)last, (unsigned long long)len,
				(unsigned long long)body);
	} else if (ok && status == 416) {
		ok = buf_printf(out, "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n", (unsigned long long)len);
	} else if (ok && status != 304 && status != 204) {
		body = len;
		ok = buf_append_field_u64(out, "Content-Length", len);
	}
	/* The stored head may say it already (it is sent as stored). */
	if (ok && status == 200 && obj->meta.status == 200 &&
	    !http_find_header(head.headers, head.header_count, "accept-ranges"))
		ok = buf_append_str(out, "Accept-Ranges: bytes\r\n");
	ok = ok && buf_append_field_u64(out, "Age", age < 0 ? 0 : (uint64_t)age);
	ok = ok && edge_cache_status_headers(cr, out, ttl, hit);
	if (ok && s->close_after)
		ok = buf_append_str(out, "Connection: close\r\n");
	else if (ok && s->minor_version == 0)
		ok = buf_append_str(out, "Connection: keep-alive\r\n");
	ok = ok && buf_append(out, "\r\n", 2);
	if (!ok) {
		cache_object_unref(obj);
		return edge_cache_serve_error(s, cr, 502);
	}
	s->status = status;
	proxy_session_count_status(s, status);
	if (req->method == HTTP_METHOD_HEAD || status == 304 || status == 416 || body == 0) {
		cache_object_unref(obj);
		return PROXY_SERVED;
	}
	METRIC_ADD(ew->cstats.bytes_served, body);
	proxy_session_serve(s, obj->data + obj->head_len + first, (size_t)body, release_object, obj);
	return PROXY_SERVED;
}

int edge_cache_serve_error(struct proxy_session *s, struct edge_cache_req *cr, int status)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", status, http_status_reason(status));
	struct buf *out = &s->cout;
	bool ok = buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n", status,
			     http_status_reason(status), n) &&
		  edge_cache_status_headers(cr, out, 0, false) && buf_append_str(out, "Connection: close\r\n\r\n") &&
		  (s->method == HTTP_METHOD_HEAD || buf_append(out, body, (size_t)n));
	s->close_after = true;
	s->status = status;
	proxy_session_count_status(s, status);
	return ok ? PROXY_SERVED : 0;
}
