/*
 * cache_policy_int: what the cache_policy sources share among themselves
 * (and nothing outside src/cache uses): the byte classes of RFC 9110 tokens
 * and the delta-seconds reader of RFC 9111 1.2.2. Both borrow the caller's
 * bytes and keep nothing.
 */
#ifndef PULLGATE_CACHE_CACHE_POLICY_INT_H
#define PULLGATE_CACHE_CACHE_POLICY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"

static inline bool cache_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static inline bool cache_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* tchar of RFC 9110 5.6.2. */
bool cache_is_tchar(unsigned char c);

/* s without leading and trailing OWS. */
struct slice cache_trim_ows(struct slice s);

/* delta-seconds: one or more digits and nothing else. Larger values are
 * clamped to CACHE_DELTA_MAX (RFC 9111 1.2.2). False when s is not all
 * digits (or empty); *out is then untouched. */
bool cache_delta_parse(struct slice s, int64_t *out);

#endif
