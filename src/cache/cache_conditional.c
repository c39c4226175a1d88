/*
 * cache_conditional: a visitor's If-None-Match / If-Modified-Since (RFC 9110
 * 13.1.2, 13.1.3, 13.2.2) and Range (14.1.2, 14.2) evaluated against a
 * stored response, so that the edge answers 304 or 206 itself. Anything we
 * cannot read with certainty makes us send the full response, which is
 * always correct.
 */
#include "cache/cache_policy.h"
#include "cache/cache_policy_int.h"

/* The opaque-tag of an entity-tag, W/ dropped: the weak comparison of
 * RFC 9110 8.8.3.2 compares just that. */
static struct slice etag_opaque(struct slice t)
{
	if (t.len >= 2 && t.ptr[0] == 'W' && t.ptr[1] == '/')
		return slice_make(t.ptr + 2, t.len - 2);
	return t;
}

/* Reads the next entity-tag of an If-None-Match list at v[*i] into *tag.
 * 1: one read; 0: end of the list; -1: broken syntax. A comma may sit
 * inside the quotes (etagc allows it), so the list is not simply split. */
static int inm_next(struct slice v, size_t *i, struct slice *tag)
{
	size_t p = *i, s;

	while (p < v.len && (cache_is_ows((unsigned char)v.ptr[p]) || v.ptr[p] == ','))
		p++;
	if (p == v.len)
		return 0;
	s = p;
	if (v.len - p >= 2 && v.ptr[p] == 'W' && v.ptr[p + 1] == '/')
		p += 2;
	if (p >= v.len || v.ptr[p] != '"')
		return -1;
	for (p++; p < v.len && v.ptr[p] != '"'; p++)
		;
	if (p >= v.len)
		return -1;
	p++;
	*tag = slice_make(v.ptr + s, p - s);
	while (p < v.len && cache_is_ows((unsigned char)v.ptr[p]))
		p++;
	if (p < v.len && v.ptr[p] != ',')
		return -1;
	*i = p;
	return 1;
}

/* 1: some tag in this field value matches; 0: none does; -1: unreadable
 * (then no 304: the full response is the safe answer). */
static int inm_matches(struct slice v, struct slice etag)
{
	struct slice want = etag_opaque(etag), tag;
	size_t i = 0;
	int r;

	if (slice_eq(cache_trim_ows(v), SLICE_LIT("*")))
		return etag.len > 0;
	while ((r = inm_next(v, &i, &tag)) > 0) {
		if (etag.len > 0 && slice_eq(etag_opaque(tag), want))
			return 1;
	}
	return r;
}

bool cache_not_modified(const struct http_header *req_headers, size_t count, struct slice etag,
			int64_t last_modified)
{
	bool has_inm = false;

	/* Several If-None-Match lines form one list (RFC 9110 5.3). */
	for (size_t i = 0; i < count; i++) {
		if (!slice_eq_cstr_nocase(req_headers[i].name, "if-none-match"))
			continue;
		has_inm = true;
		int r = inm_matches(req_headers[i].value, etag);
		if (r < 0)
			return false;
		if (r > 0)
			return true;
	}
	/* RFC 9110 13.2.2: If-Modified-Since is ignored when If-None-Match
	 * is present. */
	if (has_inm)
		return false;

	const struct http_header *ims = http_find_header(req_headers, count, "if-modified-since");
	if (!ims || last_modified < 0)
		return false;
	int64_t since = http_date_parse(ims->value);
	return since >= 0 && last_modified <= since;
}

/* 1*DIGIT at v[*i], saturating at UINT64_MAX (a position past any length).
 * False when there is no digit. */
static bool range_number(struct slice v, size_t *i, uint64_t *out)
{
	size_t p = *i;
	uint64_t n = 0;

	while (p < v.len && cache_is_digit((unsigned char)v.ptr[p])) {
		unsigned d = (unsigned)(v.ptr[p] - '0');
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
		p++;
	}
	if (p == *i)
		return false;
	*i = p;
	*out = n;
	return true;
}

static void range_skip_ows(struct slice v, size_t *i)
{
	while (*i < v.len && cache_is_ows((unsigned char)v.ptr[*i]))
		(*i)++;
}

/* The range-spec after "bytes=": int-range or suffix-range, alone. 0 when
 * it does not parse (the header is then ignored). */
static int range_spec(struct slice v, size_t i, uint64_t length, uint64_t *first, uint64_t *last)
{
	uint64_t a = 0, b = 0;
	bool has_a, has_b;

	range_skip_ows(v, &i);
	has_a = range_number(v, &i, &a);
	range_skip_ows(v, &i);
	if (i >= v.len || v.ptr[i] != '-')
		return 0;
	i++;
	range_skip_ows(v, &i);
	has_b = range_number(v, &i, &b);
	range_skip_ows(v, &i);
	if (i != v.len || (!has_a && !has_b))
		return 0;

	if (length == 0)
		return -1;
	if (!has_a) {
		/* suffix-range: the last b bytes; 0 of them is unsatisfiable. */
		if (b == 0)
			return -1;
		*first = b >= length ? 0 : length - b;
		*last = length - 1;
		return 1;
	}
	if ((has_b && a > b) || a >= length)
		return -1;
	*first = a;
	*last = !has_b || b >= length ? length - 1 : b;
	return 1;
}

int cache_parse_range(const struct http_header *req_headers, size_t count, uint64_t length,
		      uint64_t *first, uint64_t *last)
{
	const struct http_header *h = NULL;

	for (size_t i = 0; i < count; i++) {
		if (!slice_eq_cstr_nocase(req_headers[i].name, "range"))
			continue;
		if (h)
			return 0; /* two Range lines: ambiguous, serve it whole */
		h = &req_headers[i];
	}
	if (!h)
		return 0;

	struct slice v = cache_trim_ows(h->value);
	size_t i = 0;
	if (v.len < 5 || strncasecmp(v.ptr, "bytes", 5) != 0)
		return 0;
	i = 5;
	range_skip_ows(v, &i);
	if (i >= v.len || v.ptr[i] != '=')
		return 0;
	/* Several ranges would need multipart/byteranges; the whole
	 * representation is a valid answer to them (RFC 9110 14.2). */
	if (memchr(v.ptr + i, ',', v.len - i))
		return 0;
	return range_spec(v, i + 1, length, first, last);
}
