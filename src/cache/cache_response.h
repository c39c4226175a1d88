/*
 * cache_response: turning an upstream response into a stored object — the
 * head as stored (status line and end-to-end headers; framing, hop-by-hop
 * headers and Age left out), the metadata freshness is computed from, and
 * the update a 304 brings (RFC 9111 4.3.4).
 */
#ifndef PULLGATE_CACHE_CACHE_RESPONSE_H
#define PULLGATE_CACHE_CACHE_RESPONSE_H

#include <stdbool.h>
#include <stdint.h>

#include "cache/cache_store.h"
#include "http/http_parser.h"

/* A new object holding resp's stored head (body appended later by the
 * caller, body_len updated), with its metadata set. keep_set_cookie: store
 * Set-Cookie headers too. NULL on ENOMEM or when the head does not fit. */
struct cache_object *cache_response_object(const char *key, size_t key_len, const char *host,
					   const struct http_response *resp, bool keep_set_cookie,
					   int64_t request_time, int64_t response_time,
					   size_t body_hint);
/* A new object: stored's body with its headers updated by a 304's, and
 * metadata from the merged headers. NULL on ENOMEM. */
struct cache_object *cache_response_merge_304(const struct cache_object *stored,
					      const struct http_response *not_modified,
					      int64_t request_time, int64_t response_time);
/* A placeholder at the primary key naming the Vary headers. */
struct cache_object *cache_vary_spec_object(const char *key, size_t key_len, const char *host,
					    const char *vary, const struct cache_meta *like);
/* Parses a stored head again (for 304 merging and serving): false when it
 * does not parse, which would be a bug. */
bool cache_object_parse_head(const struct cache_object *obj, struct http_response *out);

#endif
