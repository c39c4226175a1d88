/*
 * cache_policy: what a response tells a shared cache about itself, and
 * whether it may be stored at all (RFC 9111 section 3). Freshness and age
 * are in cache_freshness.c, dates in http_date.c, the visitor's conditional
 * and range headers in cache_conditional.c.
 */
#include "cache/cache_policy.h"
#include "cache/cache_policy_int.h"

void cache_response_info_parse(int status, const struct http_header *headers, size_t count,
			       struct cache_response_info *out)
{
	const struct http_header *h;
	int64_t age;

	memset(out, 0, sizeof *out);
	out->status = status;
	cache_control_parse(headers, count, false, &out->cc);

	/* Duplicated Date/Expires/Last-Modified/Age: the first one counts
	 * (RFC 9111 4.2.1 allows using the first occurrence). */
	h = http_find_header(headers, count, "date");
	out->date = h ? http_date_parse(h->value) : -1;
	h = http_find_header(headers, count, "expires");
	if (!h) {
		out->expires = -1;
	} else {
		/* RFC 9111 5.3: an invalid Expires ("0" included) is a time
		 * in the past. */
		out->expires = http_date_parse(h->value);
		if (out->expires < 0)
			out->expires = 0;
	}
	h = http_find_header(headers, count, "last-modified");
	out->last_modified = h ? http_date_parse(h->value) : -1;

	/* RFC 9111 5.1: Age is delta-seconds; anything else is ignored. */
	h = http_find_header(headers, count, "age");
	out->age = h && cache_delta_parse(cache_trim_ows(h->value), &age) ? age : 0;

	h = http_find_header(headers, count, "etag");
	if (h)
		out->etag = h->value;

	for (size_t i = 0; i < count; i++) {
		if (slice_eq_cstr_nocase(headers[i].name, "set-cookie")) {
			out->has_set_cookie = true;
		} else if (slice_eq_cstr_nocase(headers[i].name, "vary")) {
			out->has_vary = true;
			if (http_list_has_token(headers[i].value, "*"))
				out->vary_star = true;
		}
	}
}

bool cache_status_heuristic(int status)
{
	switch (status) {
	case 200: case 203: case 204: case 206: case 300: case 301: case 308:
	case 404: case 405: case 410: case 414: case 501:
		return true;
	default:
		return false;
	}
}

const char *cache_store_verdict_name(enum cache_store_verdict v)
{
	switch (v) {
	case CACHE_STORABLE: return "storable";
	case CACHE_NOT_METHOD: return "method";
	case CACHE_NOT_STATUS: return "status";
	case CACHE_NOT_NO_STORE: return "no-store";
	case CACHE_NOT_PRIVATE: return "private";
	case CACHE_NOT_AUTHORIZATION: return "authorization";
	case CACHE_NOT_SET_COOKIE: return "set-cookie";
	case CACHE_NOT_VARY_STAR: return "vary-star";
	case CACHE_NOT_NO_FRESHNESS: return "no-freshness";
	}
	return "unknown";
}

/* max-age, s-maxage or Expires: the origin said how long it is fresh. */
static bool has_explicit_freshness(const struct cache_response_info *resp)
{
	return resp->cc.has_max_age || resp->cc.has_s_maxage || resp->expires >= 0;
}

/*
 * Which statuses we store (RFC 9111 3: a final status the cache
 * understands, with explicit freshness, public, or heuristically
 * cacheable). Every final status 200-599 is understood, except:
 *  - 206: we do not store partial content (ranges are cut from full
 *    responses instead);
 *  - 304: it refreshes a stored response and is never stored itself.
 * Without explicit freshness or public, only the heuristically cacheable
 * statuses of RFC 9110 15.1 qualify: a 500 or 503 with no caching headers
 * is never kept.
 */
static bool status_storable(const struct cache_response_info *resp)
{
	int s = resp->status;

	if (s < 200 || s > 599 || s == 206 || s == 304)
		return false;
	return cache_status_heuristic(s) || has_explicit_freshness(resp) || resp->cc.public_;
}

/*
 * The checks run in a fixed order, so that the verdict (logged and counted)
 * names the first reason in: method, no-store, private, status,
 * Authorization, Set-Cookie, Vary: *, freshness.
 *
 * The last check: a response without explicit freshness and without a
 * validator is not stored. Past the status check, such a response can only
 * be fresh by the heuristic of cache_freshness_lifetime, and that heuristic
 * needs Last-Modified, which is a validator; so it would be stale from the
 * start with nothing to revalidate it by. A response with a validator but
 * no freshness is stored: every use revalidates it, and a 304 then saves
 * sending the body again.
 */
enum cache_store_verdict cache_storable(enum http_method method, const struct cache_control *req_cc,
					bool req_has_authorization, const struct cache_response_info *resp,
					bool allow_set_cookie)
{
	const struct cache_control *cc = &resp->cc;

	/* HEAD answers carry no body to store; everything else is not a
	 * retrieval. */
	if (method != HTTP_METHOD_GET)
		return CACHE_NOT_METHOD;
	if (cc->no_store || (req_cc && req_cc->no_store))
		return CACHE_NOT_NO_STORE;
	if (cc->private_)
		return CACHE_NOT_PRIVATE;
	if (!status_storable(resp))
		return CACHE_NOT_STATUS;
	/* RFC 9111 3.5: a response to an authenticated request is stored by
	 * a shared cache only when the origin says so. */
	if (req_has_authorization && !(cc->public_ || cc->has_s_maxage || cc->must_revalidate))
		return CACHE_NOT_AUTHORIZATION;
	if (resp->has_set_cookie && !allow_set_cookie)
		return CACHE_NOT_SET_COOKIE;
	/* Vary: * never matches a later request (RFC 9111 4.1). */
	if (resp->vary_star)
		return CACHE_NOT_VARY_STAR;
	if (!has_explicit_freshness(resp) && resp->etag.len == 0 && resp->last_modified < 0)
		return CACHE_NOT_NO_FRESHNESS;
	return CACHE_STORABLE;
}

bool cache_verdict_from_response(enum cache_store_verdict v, const struct cache_response_info *resp)
{
	switch (v) {
	case CACHE_STORABLE:
	case CACHE_NOT_METHOD:
	case CACHE_NOT_AUTHORIZATION:
		return false;
	case CACHE_NOT_NO_STORE:
		return resp->cc.no_store;
	default:
		return true;
	}
}
