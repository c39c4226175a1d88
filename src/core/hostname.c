/*
 * hostname: DNS name patterns for SNI, Host headers and pins. Names are
 * compared byte by byte with ASCII case folding (slice_eq_nocase; never
 * strncasecmp, which would stop at an embedded NUL and let "a\0evil"
 * equal "a").
 */
#include "core/hostname.h"

#include <string.h>

static struct slice strip_trailing_dot(struct slice s)
{
	if (s.len > 1 && s.ptr[s.len - 1] == '.')
		s.len--;
	return s;
}

bool hostname_matches(const char *pattern, struct slice name)
{
	if (!pattern || !name.ptr)
		return false;
	struct slice pat = strip_trailing_dot(slice_from_cstr(pattern));
	name = strip_trailing_dot(name);
	if (pat.len == 0 || name.len == 0)
		return false;

	if (pat.len > 2 && pat.ptr[0] == '*' && pat.ptr[1] == '.') {
		/* "*.example.com": the suffix ".example.com" must end the name
		 * and what precedes it must be exactly one non-empty label. */
		struct slice suffix = { pat.ptr + 1, pat.len - 1 };
		if (name.len <= suffix.len)
			return false;
		size_t label_len = name.len - suffix.len;
		if (memchr(name.ptr, '.', label_len))
			return false;
		return slice_eq_nocase(slice_make(name.ptr + label_len, suffix.len), suffix);
	}
	return slice_eq_nocase(pat, name);
}

struct slice hostname_from_host_header(struct slice host)
{
	if (!host.ptr || host.len == 0)
		return host;
	if (host.ptr[0] == '[') {
		/* IPv6 literal: the address is what the brackets hold. */
		const char *close = memchr(host.ptr, ']', host.len);
		if (!close)
			return host;
		return slice_make(host.ptr + 1, (size_t)(close - host.ptr - 1));
	}
	const char *colon = memchr(host.ptr, ':', host.len);
	if (colon) {
		/* A second colon means a bare IPv6 address, which has no port. */
		size_t rest = host.len - (size_t)(colon - host.ptr) - 1;
		if (!memchr(colon + 1, ':', rest))
			host.len = (size_t)(colon - host.ptr);
	}
	return strip_trailing_dot(host);
}
