/*
 * http_framing: the field values that decide where a message body ends
 * (RFC 9112 section 6). Two parsers that disagree on these are how requests
 * get smuggled, so each accepts one spelling only and reports the rest.
 */
#include "http/http_internal.h"

bool http_content_length_parse(struct slice v, uint64_t *out)
{
	uint64_t n = 0;

	if (v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.ptr[i];
		if (!http_cc_is(c, HTTP_CC_DIGIT))
			return false;
		if (n > ((uint64_t)INT64_MAX - (c - '0')) / 10)
			return false;
		n = n * 10 + (c - '0');
	}
	*out = n;
	return true;
}

static size_t skip_ows(struct slice v, size_t i)
{
	while (i < v.len && http_is_ows((unsigned char)v.ptr[i]))
		i++;
	return i;
}

static size_t skip_token(struct slice v, size_t i)
{
	while (i < v.len && http_cc_is((unsigned char)v.ptr[i], HTTP_CC_TCHAR))
		i++;
	return i;
}

/* quoted-string at v[i] (the opening quote); returns the offset past the
 * closing quote, or 0 when it is not one. */
static size_t skip_quoted(struct slice v, size_t i)
{
	for (i++; i < v.len; i++) {
		unsigned char c = (unsigned char)v.ptr[i];
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (++i == v.len || !http_cc_is((unsigned char)v.ptr[i], HTTP_CC_FIELD))
				return 0;
		} else if (!http_cc_is(c, HTTP_CC_QDTEXT)) {
			return 0;
		}
	}
	return 0;
}

/* transfer-coding = token *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ),
 * from v[i]; returns the offset past it, or 0 when malformed. */
static size_t skip_coding(struct slice v, size_t i)
{
	size_t j = skip_token(v, i);

	if (j == i)
		return 0;
	for (;;) {
		i = skip_ows(v, j);
		if (i == v.len || v.ptr[i] != ';')
			return j;
		i = skip_ows(v, i + 1);
		j = skip_token(v, i);
		if (j == i)
			return 0;
		i = skip_ows(v, j);
		if (i == v.len || v.ptr[i] != '=')
			return 0;
		i = skip_ows(v, i + 1);
		if (i < v.len && v.ptr[i] == '"')
			j = skip_quoted(v, i);
		else if ((j = skip_token(v, i)) == i)
			j = 0;
		if (j == 0)
			return 0;
	}
}

enum http_te_kind http_te_classify(struct slice v)
{
	size_t codings = 0, i = 0;

	if (slice_eq_cstr_nocase(v, "chunked"))
		return HTTP_TE_CHUNKED;
	/* #transfer-coding: empty elements are allowed and ignored. */
	for (;;) {
		i = skip_ows(v, i);
		if (i == v.len)
			break;
		if (v.ptr[i] != ',') {
			size_t j = skip_coding(v, i);
			if (j == 0)
				return HTTP_TE_BAD;
			codings++;
			i = skip_ows(v, j);
			if (i == v.len)
				break;
			if (v.ptr[i] != ',')
				return HTTP_TE_BAD;
		}
		i++;
	}
	return codings ? HTTP_TE_OTHER : HTTP_TE_BAD;
}
