/*
 * cache_control: reads the Cache-Control directives of one message (RFC 9111
 * section 5.2) from all of its Cache-Control field lines, plus the Pragma
 * fallback of section 5.4 for requests. Unknown directives are ignored, as
 * the RFC asks; a broken value is read the way that keeps the cache on the
 * safe side (see cc_apply).
 */
#include "cache/cache_policy.h"
#include "cache/cache_policy_int.h"

bool cache_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

struct slice cache_trim_ows(struct slice s)
{
	while (s.len > 0 && cache_is_ows((unsigned char)s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && cache_is_ows((unsigned char)s.ptr[s.len - 1]))
		s.len--;
	return s;
}

bool cache_delta_parse(struct slice s, int64_t *out)
{
	int64_t v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (!cache_is_digit(c))
			return false;
		/* Stop growing once past the cap: no overflow, same result. */
		if (v <= CACHE_DELTA_MAX)
			v = v * 10 + (c - '0');
	}
	*out = v > CACHE_DELTA_MAX ? CACHE_DELTA_MAX : v;
	return true;
}

/* One directive as found: its name, and its argument when "=" followed. A
 * quoted argument is given without its quotes (escapes left in: none of the
 * arguments we read can contain one legitimately). */
struct cc_directive {
	struct slice name;
	struct slice value;
	bool has_value;
	bool malformed; /* bytes after the name that are not a valid argument */
};

/* A delta-seconds directive: the first occurrence wins (RFC 9111 4.2.1
 * allows "first occurrence" for duplicates). A broken or missing argument
 * counts as 0 when zero_if_bad (max-age, s-maxage: invalid freshness
 * information means stale) and as absent otherwise (max-stale, min-fresh,
 * stale-*: ignoring them never serves anything staler). */
static void cc_delta(const struct cc_directive *d, bool *has, int64_t *val, bool zero_if_bad)
{
	int64_t v;
	bool ok = !d->malformed && d->has_value && cache_delta_parse(d->value, &v);

	if (*has)
		return;
	if (ok) {
		*has = true;
		*val = v;
	} else if (zero_if_bad) {
		*has = true;
		*val = 0;
	}
}

static void cc_apply(const struct cc_directive *d, struct cache_control *cc)
{
	struct slice n = d->name;

	if (slice_eq_cstr_nocase(n, "no-store")) {
		cc->no_store = true;
	} else if (slice_eq_cstr_nocase(n, "no-cache")) {
		/* The field-name form would let a cache serve the rest of
		 * the response; we revalidate the whole of it instead. */
		cc->no_cache = true;
		if (d->has_value)
			cc->no_cache_fields = true;
	} else if (slice_eq_cstr_nocase(n, "private")) {
		cc->private_ = true;
		if (d->has_value)
			cc->private_fields = true;
	} else if (slice_eq_cstr_nocase(n, "public")) {
		cc->public_ = true;
	} else if (slice_eq_cstr_nocase(n, "must-revalidate")) {
		cc->must_revalidate = true;
	} else if (slice_eq_cstr_nocase(n, "proxy-revalidate")) {
		cc->proxy_revalidate = true;
	} else if (slice_eq_cstr_nocase(n, "only-if-cached")) {
		cc->only_if_cached = true;
	} else if (slice_eq_cstr_nocase(n, "no-transform")) {
		cc->no_transform = true;
	} else if (slice_eq_cstr_nocase(n, "immutable")) {
		cc->immutable = true;
	} else if (slice_eq_cstr_nocase(n, "max-age")) {
		cc_delta(d, &cc->has_max_age, &cc->max_age, true);
	} else if (slice_eq_cstr_nocase(n, "s-maxage")) {
		cc_delta(d, &cc->has_s_maxage, &cc->s_maxage, true);
	} else if (slice_eq_cstr_nocase(n, "max-stale")) {
		if (!d->has_value && !d->malformed) {
			cc->has_max_stale = true;
			cc->max_stale_any = true;
		} else {
			cc_delta(d, &cc->has_max_stale, &cc->max_stale, false);
		}
	} else if (slice_eq_cstr_nocase(n, "min-fresh")) {
		cc_delta(d, &cc->has_min_fresh, &cc->min_fresh, false);
	} else if (slice_eq_cstr_nocase(n, "stale-while-revalidate")) {
		cc_delta(d, &cc->has_stale_while_revalidate, &cc->stale_while_revalidate, false);
	} else if (slice_eq_cstr_nocase(n, "stale-if-error")) {
		cc_delta(d, &cc->has_stale_if_error, &cc->stale_if_error, false);
	}
}

/* Skips to just past the next comma outside a quoted-string (or to the end):
 * where scanning resumes after a broken element. A quote that never closes
 * does not hide the rest of the field: then the first comma ends the
 * element, so that a "private" after the breakage is still seen. */
static size_t cc_skip_element(struct slice v, size_t i)
{
	size_t first_comma = v.len;
	bool quoted = false;

	for (; i < v.len; i++) {
		char c = v.ptr[i];
		if (c == ',' && first_comma == v.len)
			first_comma = i;
		if (quoted && c == '\\' && i + 1 < v.len)
			i++;
		else if (c == '"')
			quoted = !quoted;
		else if (c == ',' && !quoted)
			return i + 1;
	}
	return quoted && first_comma < v.len ? first_comma + 1 : v.len;
}

/* Reads the argument starting at v[*i] (just past "=" and any OWS). */
static bool cc_read_value(struct slice v, size_t *i, struct cc_directive *d)
{
	size_t p = *i;

	if (p < v.len && v.ptr[p] == '"') {
		size_t s = ++p;
		while (p < v.len && v.ptr[p] != '"') {
			if (v.ptr[p] == '\\')
				p++;
			p++;
		}
		if (p >= v.len)
			return false; /* unterminated */
		d->value = slice_make(v.ptr + s, p - s);
		*i = p + 1;
		return true;
	}
	while (p < v.len && cache_is_tchar((unsigned char)v.ptr[p]))
		p++;
	if (p == *i)
		return false; /* "=" with nothing after it */
	d->value = slice_make(v.ptr + *i, p - *i);
	*i = p;
	return true;
}

/* Parses one field value: #( token [ "=" ( token / quoted-string ) ] ). OWS
 * around "=" is tolerated, as several origins send it. */
static void cc_parse_value(struct slice v, struct cache_control *cc)
{
	size_t i = 0;

	while (i < v.len) {
		struct cc_directive d = { 0 };
		size_t s;

		while (i < v.len && (cache_is_ows((unsigned char)v.ptr[i]) || v.ptr[i] == ','))
			i++;
		s = i;
		while (i < v.len && cache_is_tchar((unsigned char)v.ptr[i]))
			i++;
		if (i == s) {
			if (i < v.len)
				i = cc_skip_element(v, i);
			continue;
		}
		d.name = slice_make(v.ptr + s, i - s);
		while (i < v.len && cache_is_ows((unsigned char)v.ptr[i]))
			i++;
		if (i < v.len && v.ptr[i] == '=') {
			i++;
			while (i < v.len && cache_is_ows((unsigned char)v.ptr[i]))
				i++;
			d.has_value = true;
			if (!cc_read_value(v, &i, &d))
				d.malformed = true;
			while (i < v.len && cache_is_ows((unsigned char)v.ptr[i]))
				i++;
		}
		if (i < v.len && v.ptr[i] != ',') {
			d.malformed = true;
			i = cc_skip_element(v, i);
		}
		cc_apply(&d, cc);
	}
}

void cache_control_parse(const struct http_header *headers, size_t count, bool is_request,
			 struct cache_control *out)
{
	bool seen = false;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < count; i++) {
		if (!slice_eq_cstr_nocase(headers[i].name, "cache-control"))
			continue;
		seen = true;
		cc_parse_value(headers[i].value, out);
	}
	if (!is_request || seen)
		return;
	/* RFC 9111 5.4: Pragma only speaks when Cache-Control is absent. */
	for (size_t i = 0; i < count; i++) {
		if (slice_eq_cstr_nocase(headers[i].name, "pragma") &&
		    http_list_has_token(headers[i].value, "no-cache"))
			out->no_cache = true;
	}
}
