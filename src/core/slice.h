/*
 * slice: a borrowed (pointer, length) view of bytes, never NUL-terminated by
 * contract. Whoever hands out a slice says how long the bytes behind it live.
 */
#ifndef PULLGATE_CORE_SLICE_H
#define PULLGATE_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct slice {
	const char *ptr;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })

static inline struct slice slice_make(const char *p, size_t n)
{
	return (struct slice){ p, n };
}

static inline struct slice slice_from_cstr(const char *s)
{
	return (struct slice){ s, s ? strlen(s) : 0 };
}

static inline bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ASCII case-insensitive comparison, as header names and tokens need. */
static inline bool slice_eq_nocase(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool slice_eq_cstr_nocase(struct slice a, const char *s)
{
	return slice_eq_nocase(a, slice_from_cstr(s));
}

#endif
