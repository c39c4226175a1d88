/*
 * http_headers: lookups over a parsed field section: finding a field, tokens
 * in a list-valued field, and which fields stop at this hop (RFC 9110
 * section 7.6.1). All of them borrow the caller's headers.
 */
#include "http/http_internal.h"

const struct http_header *http_find_header(const struct http_header *headers, size_t count,
					   const char *name)
{
	struct slice n = slice_from_cstr(name);

	for (size_t i = 0; i < count; i++) {
		if (slice_eq_nocase(headers[i].name, n))
			return &headers[i];
	}
	return NULL;
}

/* Elements are split at commas and compared whole, parameters included:
 * "close" matches "close" only, never "close;x" or "closed". */
static bool list_has(struct slice value, struct slice token)
{
	size_t i = 0;

	if (value.len == 0)
		return false;
	while (i <= value.len) {
		size_t s = i;
		while (i < value.len && value.ptr[i] != ',')
			i++;
		size_t e = i;
		while (s < e && http_is_ows((unsigned char)value.ptr[s]))
			s++;
		while (e > s && http_is_ows((unsigned char)value.ptr[e - 1]))
			e--;
		if (slice_eq_nocase(slice_make(value.ptr + s, e - s), token))
			return true;
		i++;
	}
	return false;
}

bool http_list_has_token(struct slice value, const char *token)
{
	struct slice t = slice_from_cstr(token);

	return t.len > 0 && list_has(value, t);
}

#define HOP(s) { s, sizeof s - 1 }
static const struct slice hop_by_hop[] = {
	HOP("connection"), HOP("keep-alive"), HOP("proxy-connection"), HOP("te"), HOP("trailer"),
	HOP("transfer-encoding"), HOP("upgrade"), HOP("proxy-authenticate"),
	HOP("proxy-authorization"),
};
#undef HOP

bool http_header_is_hop_by_hop(struct slice name, const struct http_header *headers,
			       size_t count)
{
	if (name.len == 0)
		return false;
	for (size_t i = 0; i < sizeof hop_by_hop / sizeof hop_by_hop[0]; i++) {
		if (slice_eq_nocase(name, hop_by_hop[i]))
			return true;
	}
	static const struct slice connection = { "connection", 10 };
	for (size_t i = 0; i < count; i++) {
		if (headers[i].name.len == connection.len && slice_eq_nocase(headers[i].name, connection) &&
		    list_has(headers[i].value, name))
			return true;
	}
	return false;
}
