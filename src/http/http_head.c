/*
 * http_head: the parts of a message head that requests and responses share:
 * byte classes, finding the end of the head under the limits, and field lines.
 *
 * The scan runs before any real parsing so that a caller who calls again
 * after every read pays one memchr pass until the blank line has arrived,
 * while the limits still fire on a head that never ends.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "http/http_internal.h"

/* Bits are the HTTP_CC_* classes; generated from their definitions. */
const unsigned char http_cc[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x44, 0x67, 0x06, 0x47, 0x67, 0x47, 0x67, 0x67, 0x66, 0x66, 0x67, 0x67, 0x66, 0x67, 0x67, 0x46,
	0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x46, 0x66, 0x46, 0x66, 0x46, 0x46,
	0x46, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67,
	0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x46, 0x06, 0x46, 0x47, 0x67,
	0x47, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67,
	0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x67, 0x46, 0x47, 0x46, 0x67, 0x00,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
	0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44,
};

int http_fail_set(struct http_fail *f, int status, const char *reason)
{
	f->status = status;
	f->reason = reason;
	return HTTP_ERROR;
}

size_t http_fields_max(const struct http_limits *lim)
{
	return lim->header_count_max < HTTP_MAX_HEADERS ? lim->header_count_max : HTTP_MAX_HEADERS;
}

/* An LF ends a line only with its CR; anything else is a bare LF. */
static bool lf_has_cr(const char *buf, size_t lf, size_t line_start)
{
	return lf > line_start && buf[lf - 1] == '\r';
}

int http_head_scan(const char *buf, size_t len, size_t start, const struct http_limits *lim,
		   int line_status, size_t *line_end, struct http_fail *f)
{
	/* The head's length is returned as an int. */
	size_t head_max = lim->header_bytes_max < INT_MAX ? lim->header_bytes_max : INT_MAX;
	size_t fields_max = http_fields_max(lim);
	size_t line_max = lim->request_line_max;

	if (start >= head_max)
		return http_fail_set(f, 431, "head too large");

	/* The start line, on its own limit. */
	size_t avail = len - start;
	const char *lf = memchr(buf + start, '\n', avail < line_max ? avail : line_max);
	if (!lf) {
		if (avail >= line_max)
			return http_fail_set(f, line_status, "start line too long");
		if (len >= head_max)
			return http_fail_set(f, 431, "head too large");
		return HTTP_INCOMPLETE;
	}
	size_t pos = (size_t)(lf - buf);
	if (!lf_has_cr(buf, pos, start))
		return http_fail_set(f, 400, "bare LF");
	if (pos + 1 > head_max)
		return http_fail_set(f, 431, "head too large");
	*line_end = pos - 1;

	/* Field lines up to the blank line, within the head limit. */
	size_t region = len < head_max ? len : head_max;
	size_t line_start = pos + 1, fields = 0;
	while (line_start < region) {
		lf = memchr(buf + line_start, '\n', region - line_start);
		if (!lf)
			break;
		pos = (size_t)(lf - buf);
		if (!lf_has_cr(buf, pos, line_start))
			return http_fail_set(f, 400, "bare LF");
		if (pos - 1 == line_start)
			return (int)(pos + 1);
		if (++fields > fields_max)
			return http_fail_set(f, 431, "too many header fields");
		line_start = pos + 1;
	}
	if (len >= head_max)
		return http_fail_set(f, 431, "head too large");
	return HTTP_INCOMPLETE;
}

/* Every byte of v[0..n) is a field-value byte (HTAB, SP, VCHAR, obs-text).
 * Values are most of a head's bytes, so eight are checked at once: a word
 * with no byte below 0x20 and none equal to 0x7f is all valid (the classic
 * "has a byte less than" and "has a zero byte" tests, exact as yes/no); a
 * word that fails, which may hold a valid HTAB, is checked byte by byte. */
static bool field_value_valid(const char *v, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, v + i, 8);
		uint64_t below_space = (w - ones * 0x20) & ~w & highs;
		uint64_t x = w ^ (ones * 0x7f);
		uint64_t del = (x - ones) & ~x & highs;
		if (!(below_space | del))
			continue;
		for (size_t j = i; j < i + 8; j++)
			if (!http_cc_is((unsigned char)v[j], HTTP_CC_FIELD))
				return false;
	}
	for (; i < n; i++)
		if (!http_cc_is((unsigned char)v[i], HTTP_CC_FIELD))
			return false;
	return true;
}

/* One field line buf[p..cr): name ":" OWS value OWS. */
static int parse_field(const char *buf, size_t p, size_t cr, struct http_header *h,
		       struct http_fail *f)
{
	size_t name = p;

	if (http_is_ows((unsigned char)buf[p]))
		return http_fail_set(f, 400, "obs-fold or whitespace before field name");
	while (p < cr && http_cc_is((unsigned char)buf[p], HTTP_CC_TCHAR))
		p++;
	if (p == name)
		return http_fail_set(f, 400, "empty or invalid field name");
	if (p == cr || buf[p] != ':')
		return http_fail_set(f, 400, "invalid field name");
	h->name = slice_make(buf + name, p - name);

	p++;
	while (p < cr && http_is_ows((unsigned char)buf[p]))
		p++;
	size_t end = cr;
	while (end > p && http_is_ows((unsigned char)buf[end - 1]))
		end--;
	if (!field_value_valid(buf + p, end - p))
		return http_fail_set(f, 400, "control character in field value");
	h->value = slice_make(buf + p, end - p);
	return 0;
}

int http_parse_fields(const char *buf, size_t from, size_t head_end, struct http_header *headers,
		      size_t max, size_t *count, struct http_fail *f)
{
	size_t p = from;

	*count = 0;
	/* The scan guaranteed every LF has its CR and the head ends in CRLF CRLF. */
	while (p + 2 < head_end) {
		const char *lf = memchr(buf + p, '\n', head_end - p);
		size_t cr = (size_t)(lf - buf) - 1;
		if (*count >= max)
			return http_fail_set(f, 431, "too many header fields");
		if (parse_field(buf, p, cr, &headers[*count], f) != 0)
			return HTTP_ERROR;
		(*count)++;
		p = cr + 2;
	}
	return 0;
}
