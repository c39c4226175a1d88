/* cache_response: see cache_response.h. */
#include "cache/cache_response.h"

#include <stdio.h>
#include <string.h>

#include "cache/cache_key.h"

static const struct http_limits stored_limits = { 8192, 64 * 1024, HTTP_MAX_HEADERS };

/* Headers a stored response never keeps: framing, hop-by-hop, and Age
 * (recomputed on every use). */
static bool header_not_stored(struct slice name, const struct http_header *all, size_t count,
			      bool keep_set_cookie)
{
	return http_header_is_hop_by_hop(name, all, count) || slice_eq_cstr_nocase(name, "content-length") ||
	       slice_eq_cstr_nocase(name, "age") ||
	       (!keep_set_cookie && slice_eq_cstr_nocase(name, "set-cookie"));
}

/* Appends head bytes; head_len always says how much head there is. */
static bool head_put(struct cache_object *obj, const void *p, size_t n)
{
	if (!cache_object_append(obj, p, n))
		return false;
	obj->head_len += n;
	return true;
}

static bool append_header(struct cache_object *obj, const struct http_header *h)
{
	if (slice_eq_cstr_nocase(h->name, "etag")) {
		obj->meta.etag_off = (uint32_t)(obj->head_len + h->name.len + 2);
		obj->meta.etag_len = (uint32_t)h->value.len;
	}
	return head_put(obj, h->name.ptr, h->name.len) && head_put(obj, ": ", 2) &&
	       head_put(obj, h->value.ptr, h->value.len) && head_put(obj, "\r\n", 2);
}

static bool append_status(struct cache_object *obj, int status, struct slice reason)
{
	char line[64];
	int n = snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
	const char *phrase = reason.len ? reason.ptr : http_status_reason(status);
	size_t plen = reason.len ? reason.len : strlen(phrase);
	return head_put(obj, line, (size_t)n) && head_put(obj, phrase, plen) && head_put(obj, "\r\n", 2);
}

static void set_meta(struct cache_object *obj, int status, const struct http_header *headers, size_t count,
		     int64_t request_time, int64_t response_time)
{
	struct cache_response_info info;
	cache_response_info_parse(status, headers, count, &info);
	struct cache_meta *m = &obj->meta;
	m->status = status;
	m->request_time = request_time;
	m->response_time = response_time;
	m->lifetime = cache_freshness_lifetime(&info, response_time, &m->heuristic);
	m->initial_age = cache_initial_age(&info, request_time, response_time);
	m->cc = info.cc;
	m->last_modified = info.last_modified;
	cache_vary_names(headers, count, m->vary, sizeof m->vary);
}

struct cache_object *cache_response_object(const char *key, size_t key_len, const char *host,
					   const struct http_response *resp, bool keep_set_cookie,
					   int64_t request_time, int64_t response_time,
					   size_t body_hint)
{
	struct cache_object *obj = cache_object_new(key, key_len, host, 1024 + body_hint);
	if (!obj)
		return NULL;
	bool ok = append_status(obj, resp->status, resp->reason);
	for (size_t i = 0; ok && i < resp->header_count; i++) {
		const struct http_header *h = &resp->headers[i];
		if (!header_not_stored(h->name, resp->headers, resp->header_count, keep_set_cookie))
			ok = append_header(obj, h);
	}
	ok = ok && head_put(obj, "\r\n", 2);
	if (!ok) {
		cache_object_unref(obj);
		return NULL;
	}
	set_meta(obj, resp->status, resp->headers, resp->header_count, request_time, response_time);
	return obj;
}

bool cache_object_parse_head(const struct cache_object *obj, struct http_response *out)
{
	return http_parse_response(obj->data, obj->head_len, &stored_limits, HTTP_METHOD_HEAD, out) > 0;
}

struct cache_object *cache_response_merge_304(const struct cache_object *stored,
					      const struct http_response *nm, int64_t request_time,
					      int64_t response_time)
{
	static __thread struct http_response old;
	if (!cache_object_parse_head(stored, &old))
		return NULL;
	struct cache_object *obj = cache_object_new(stored->key, stored->key_len, stored->host,
						    stored->head_len + 1024 + stored->body_len);
	if (!obj)
		return NULL;
	bool ok = append_status(obj, old.status, old.reason);
	/* Stored headers the 304 does not replace, then the 304's own. */
	for (size_t i = 0; ok && i < old.header_count; i++) {
		bool replaced = false;
		for (size_t k = 0; k < nm->header_count && !replaced; k++)
			replaced = slice_eq_nocase(old.headers[i].name, nm->headers[k].name);
		if (!replaced)
			ok = append_header(obj, &old.headers[i]);
	}
	for (size_t k = 0; ok && k < nm->header_count; k++) {
		const struct http_header *h = &nm->headers[k];
		if (!header_not_stored(h->name, nm->headers, nm->header_count, true) &&
		    !slice_eq_cstr_nocase(h->name, "set-cookie"))
			ok = append_header(obj, h);
	}
	ok = ok && head_put(obj, "\r\n", 2) &&
	     cache_object_append(obj, stored->data + stored->head_len, stored->body_len);
	if (!ok) {
		cache_object_unref(obj);
		return NULL;
	}
	obj->body_len = stored->body_len;
	static __thread struct http_response merged;
	if (!cache_object_parse_head(obj, &merged)) {
		cache_object_unref(obj);
		return NULL;
	}
	set_meta(obj, merged.status, merged.headers, merged.header_count, request_time, response_time);
	return obj;
}

struct cache_object *cache_vary_spec_object(const char *key, size_t key_len, const char *host,
					    const char *vary, const struct cache_meta *like)
{
	struct cache_object *obj = cache_object_new(key, key_len, host, 16);
	if (!obj)
		return NULL;
	obj->meta = *like;
	obj->meta.is_vary_spec = true;
	obj->meta.etag_len = 0;
	snprintf(obj->meta.vary, sizeof obj->meta.vary, "%s", vary);
	return obj;
}
