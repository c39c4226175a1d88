/* cache_meta: what the cache keeps about a stored response besides its
 * bytes — the times and directives its freshness is computed from, its
 * validators, and the request headers it varies on. */
#ifndef PULLGATE_CACHE_CACHE_META_H
#define PULLGATE_CACHE_CACHE_META_H

#include <stdbool.h>
#include <stdint.h>

#include "cache/cache_policy.h"

#define CACHE_VARY_MAX 256 /* the Vary header names, lowercased, comma-joined */

struct cache_meta {
	int status;
	int64_t request_time;   /* when the pull that produced it was sent */
	int64_t response_time;  /* when its head arrived */
	int64_t lifetime;       /* freshness lifetime */
	int64_t initial_age;    /* corrected initial age */
	bool heuristic;
	struct cache_control cc;
	int64_t last_modified;  /* -1 when none */
	uint32_t etag_off, etag_len; /* the ETag value inside the stored head, 0 length when none */
	bool is_vary_spec;      /* a placeholder at the primary key that names the Vary headers */
	char vary[CACHE_VARY_MAX];
	bool revalidating;      /* a background refresh is under way (stale-while-revalidate) */
};

#endif
