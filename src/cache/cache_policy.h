/*
 * cache_policy: the rules of a shared HTTP cache (RFC 9111, RFC 5861) as
 * pure functions — parsing Cache-Control, deciding whether a response may be
 * stored, how long it is fresh, how old it is, and whether a stored response
 * may answer a request now. No I/O, no allocation, no clock: callers pass
 * times (seconds since the epoch).
 */
#ifndef PULLGATE_CACHE_CACHE_POLICY_H
#define PULLGATE_CACHE_CACHE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"
#include "http/http_parser.h"

#define CACHE_DELTA_MAX 2147483648LL /* RFC 9111 1.2.2: delta-seconds cap */

/* Cache-Control directives of one message (all its Cache-Control headers
 * together). Durations in seconds; has_* says whether one was given. */
struct cache_control {
	bool no_store, no_cache, private_, public_, must_revalidate, proxy_revalidate;
	bool only_if_cached, no_transform, immutable;
	bool has_max_age, has_s_maxage, has_max_stale, has_min_fresh;
	bool has_stale_while_revalidate, has_stale_if_error;
	bool max_stale_any;       /* max-stale without a value: any staleness */
	bool private_fields;      /* private="..." (treated as private) */
	bool no_cache_fields;     /* no-cache="..." (treated as no-cache) */
	int64_t max_age, s_maxage, max_stale, min_fresh;
	int64_t stale_while_revalidate, stale_if_error;
};

/* Parses every Cache-Control header in headers. For a request without
 * Cache-Control, "Pragma: no-cache" counts as no-cache (RFC 9111 5.4).
 * Unknown directives are ignored; a malformed value makes that directive
 * count as present with value 0 where that is the safe reading (max-age). */
void cache_control_parse(const struct http_header *headers, size_t count, bool is_request,
			 struct cache_control *out);

/* What the policy needs of a response, pulled from its headers once. */
struct cache_response_info {
	int status;
	struct cache_control cc;
	int64_t date;           /* Date, or -1 */
	int64_t expires;        /* Expires; an invalid Expires is 0 ("already expired"); -1 when absent */
	int64_t last_modified;  /* Last-Modified, or -1 */
	int64_t age;            /* Age header, or 0 */
	struct slice etag;      /* ETag value (slice into the headers), or empty */
	bool has_set_cookie;
	bool vary_star;         /* Vary: * */
	bool has_vary;
};

void cache_response_info_parse(int status, const struct http_header *headers, size_t count,
			       struct cache_response_info *out);

/* Why a response is not stored; CACHE_STORABLE when it may be. */
enum cache_store_verdict {
	CACHE_STORABLE,
	CACHE_NOT_METHOD,        /* only GET (and HEAD's answers are not stored) */
	CACHE_NOT_STATUS,        /* not a final status this cache understands */
	CACHE_NOT_NO_STORE,      /* no-store in the request or the response */
	CACHE_NOT_PRIVATE,       /* private: a shared cache never stores it */
	CACHE_NOT_AUTHORIZATION, /* the request had Authorization, and the response did not allow it */
	CACHE_NOT_SET_COOKIE,    /* Set-Cookie, and the zone does not allow storing those */
	CACHE_NOT_VARY_STAR,     /* Vary: * */
	CACHE_NOT_NO_FRESHNESS,  /* no explicit freshness, no validator, not heuristically cacheable */
};

const char *cache_store_verdict_name(enum cache_store_verdict v);

/* RFC 9111 section 3 for a shared cache. allow_set_cookie: the zone lets
 * responses with Set-Cookie be stored (off by default). */
enum cache_store_verdict cache_storable(enum http_method method, const struct cache_control *req_cc,
					bool req_has_authorization, const struct cache_response_info *resp,
					bool allow_set_cookie);

/* True when verdict v (not CACHE_STORABLE) comes from resp itself, so any
 * request for the same URL would get it; false when the request caused it
 * (its method, no-store or Authorization). */
bool cache_verdict_from_response(enum cache_store_verdict v, const struct cache_response_info *resp);

/* True for the statuses RFC 9110 15.1 calls heuristically cacheable. */
bool cache_status_heuristic(int status);

/* Freshness lifetime (RFC 9111 4.2.1, shared cache): s-maxage, max-age,
 * Expires - Date, else heuristic: 10% of (Date - Last-Modified), capped at
 * one day, for heuristically cacheable statuses (or with public). Sets
 * *heuristic when the lifetime came from that rule. 0 when none. */
int64_t cache_freshness_lifetime(const struct cache_response_info *resp, int64_t response_time,
				 bool *heuristic);

/* corrected_initial_age of RFC 9111 4.2.3. */
int64_t cache_initial_age(const struct cache_response_info *resp, int64_t request_time,
			  int64_t response_time);
/* current_age = corrected_initial_age + (now - response_time). */
int64_t cache_current_age(int64_t initial_age, int64_t response_time, int64_t now);

/* How a stored response may answer a request now. */
enum cache_use {
	CACHE_USE_FRESH,          /* serve it */
	CACHE_USE_STALE_REVALIDATE_BG, /* serve it stale, refresh in the background (stale-while-revalidate) */
	CACHE_USE_STALE_OK,       /* stale but the request's max-stale accepts it */
	CACHE_USE_REVALIDATE,     /* ask the origin (conditional request) first */
};

struct cache_stored {
	const struct cache_control *cc; /* the stored response's directives */
	int64_t lifetime;               /* freshness lifetime */
	int64_t age;                    /* current age */
};

enum cache_use cache_decide(const struct cache_control *req_cc, const struct cache_stored *st);

/* stale-if-error (RFC 5861 4): may the stale response answer when the
 * origin failed? Never with must-revalidate / proxy-revalidate / s-maxage
 * (which implies proxy-revalidate), nor past the window. */
bool cache_stale_if_error_ok(const struct cache_control *req_cc, const struct cache_stored *st);

/* HTTP dates (RFC 9110 5.6.7): IMF-fixdate, RFC 850 and asctime formats.
 * Returns seconds since the epoch, or -1 when invalid. */
int64_t http_date_parse(struct slice s);
/* IMF-fixdate into out (at least 30 bytes); returns out. */
char *http_date_format(int64_t t, char *out);

/* A visitor's conditional GET/HEAD against a stored response (RFC 9110
 * 13.1.2, 13.1.3, 13.2.2): true when it should get 304. If-None-Match (weak
 * comparison, "*" matches) takes precedence over If-Modified-Since. */
bool cache_not_modified(const struct http_header *req_headers, size_t count, struct slice etag,
			int64_t last_modified);

/* A single byte range "bytes=a-b", "bytes=a-" or "bytes=-n" against a
 * length: 1 with [*first, *last] set, 0 when the header should be ignored
 * (absent, several ranges, another unit), -1 when unsatisfiable (416). */
int cache_parse_range(const struct http_header *req_headers, size_t count, uint64_t length,
		      uint64_t *first, uint64_t *last);

#endif
