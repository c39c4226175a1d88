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

/* The next element of a comma-separated list value, OWS trimmed (possibly
 * empty), from *pos on; false past the end. Start with *pos = 0. */
static bool list_next(struct slice value, size_t *pos, struct slice *elem)
{
	size_t i = *pos;
	if (value.len == 0 || i > value.len)
		return false;
	size_t s = i;
	while (i < value.len && value.ptr[i] != ',')
		i++;
	size_t e = i;
	while (s < e && http_is_ows((unsigned char)value.ptr[s]))
		s++;
	while (e > s && http_is_ows((unsigned char)value.ptr[e - 1]))
		e--;
	*elem = slice_make(value.ptr + s, e - s);
	*pos = i + 1;
	return true;
}

/* Elements are split at commas and compared whole, parameters included:
 * "close" matches "close" only, never "close;x" or "closed". */
static bool list_has(struct slice value, struct slice token)
{
	size_t pos = 0;
	struct slice elem;
	while (list_next(value, &pos, &elem)) {
		if (slice_eq_nocase(elem, token))
			return true;
	}
	return false;
}

void http_connection_tokens(struct slice value, bool *close, bool *keep_alive)
{
	static const struct slice close_token = { "close", 5 }, keep_alive_token = { "keep-alive", 10 };
	size_t pos = 0;
	struct slice elem;
	while (list_next(value, &pos, &elem)) {
		if (slice_eq_nocase(elem, close_token))
			*close = true;
		else if (slice_eq_nocase(elem, keep_alive_token))
			*keep_alive = true;
	}
}

bool http_list_has_token(struct slice value, const char *token)
{
	struct slice t = slice_from_cstr(token);

	return t.len > 0 && list_has(value, t);
}

#define HOP_BY_HOP_NAMES(X)                                                            \
	X("connection") X("keep-alive") X("proxy-connection") X("te") X("trailer")     \
	X("transfer-encoding") X("upgrade") X("proxy-authenticate") X("proxy-authorization")
#define HOP_SLICE(s) { s, sizeof s - 1 },
#define HOP_LENGTH_BIT(s) | (1u << (sizeof s - 1))
static const struct slice hop_by_hop[] = { HOP_BY_HOP_NAMES(HOP_SLICE) };
/* Which lengths the names have (all below 32): most fields of a message
 * have another length and need no comparison at all. */
static const uint32_t hop_by_hop_lengths = 0 HOP_BY_HOP_NAMES(HOP_LENGTH_BIT);
#undef HOP_SLICE
#undef HOP_LENGTH_BIT
#undef HOP_BY_HOP_NAMES

static bool fixed_hop_by_hop(struct slice name)
{
	if (name.len >= 32 || !(hop_by_hop_lengths & (1u << name.len)))
		return false;
	for (size_t i = 0; i < sizeof hop_by_hop / sizeof hop_by_hop[0]; i++) {
		if (slice_eq_nocase(name, hop_by_hop[i]))
			return true;
	}
	return false;
}

static bool is_connection(struct slice name)
{
	static const struct slice connection = { "connection", 10 };
	return slice_eq_nocase(name, connection);
}

bool http_header_is_hop_by_hop(struct slice name, const struct http_header *headers,
			       size_t count)
{
	if (name.len == 0)
		return false;
	if (fixed_hop_by_hop(name))
		return true;
	for (size_t i = 0; i < count; i++) {
		if (is_connection(headers[i].name) && list_has(headers[i].value, name))
			return true;
	}
	return false;
}

void http_conn_options_init(struct http_conn_options *o, const struct http_header *headers,
			    size_t count)
{
	o->count = 0;
	o->many = false;
	o->headers = headers;
	o->header_count = count;
	for (size_t i = 0; i < count && !o->many; i++) {
		if (!is_connection(headers[i].name))
			continue;
		size_t pos = 0;
		struct slice elem;
		while (!o->many && list_next(headers[i].value, &pos, &elem)) {
			if (elem.len == 0)
				continue;
			if (o->count == HTTP_CONN_OPTIONS_MAX)
				o->many = true;
			else
				o->token[o->count++] = elem;
		}
	}
}

bool http_hop_by_hop(struct slice name, const struct http_conn_options *o)
{
	if (name.len == 0)
		return false;
	if (o->many)
		return http_header_is_hop_by_hop(name, o->headers, o->header_count);
	if (fixed_hop_by_hop(name))
		return true;
	for (size_t i = 0; i < o->count; i++) {
		if (slice_eq_nocase(name, o->token[i]))
			return true;
	}
	return false;
}
