/*
 * cache_key: the cache key of a request — "scheme://host/path?query" (the
 * query left out when the zone says so), and for a response that varies,
 * the secondary part: the request's values of the Vary headers. Keys are
 * written into a caller's buffer.
 */
#ifndef PULLGATE_CACHE_CACHE_KEY_H
#define PULLGATE_CACHE_CACHE_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/slice.h"
#include "http/http_parser.h"

#define CACHE_KEY_MAX 4096

/* The primary key; host must already be lowercase without a port. Returns
 * its length, or 0 when it does not fit. */
size_t cache_key_primary(char *out, size_t cap, const char *scheme, struct slice host, struct slice target,
			 bool ignore_query);
/* Appends "\0" and the request's values of each header named in vary (a
 * lowercase, comma-separated list) to the primary key at out[0..len).
 * Returns the new length, or 0 when it does not fit. */
size_t cache_key_add_vary(char *out, size_t cap, size_t len, const char *vary,
			  const struct http_header *headers, size_t count);
/* The Vary header names of a response, lowercased and comma-joined, into
 * out (cap bytes). False when they do not fit. */
bool cache_vary_names(const struct http_header *headers, size_t count, char *out, size_t cap);

#endif
