/*
 * slice: a borrowed (pointer, length) view of bytes, never NUL-terminated by
 * contract. Whoever hands out a slice says how long the bytes behind it live.
 */
#ifndef PULLGATE_CORE_SLICE_H
#define PULLGATE_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

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

/* ASCII case-insensitive comparison, as header names and tokens need.
 * Inline rather than strncasecmp: header names are short and compared
 * many times per request, and the library call (locale-aware) cost more
 * than the comparison. */
static inline bool slice_eq_nocase(struct slice a, struct slice b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
		if (x == y)
			continue;
		if ((x ^ y) != 0x20 || (unsigned char)((x | 0x20) - 'a') > 'z' - 'a')
			return false;
	}
	return true;
}

static inline bool slice_eq_cstr_nocase(struct slice a, const char *s)
{
	return slice_eq_nocase(a, slice_from_cstr(s));
}

#endif
