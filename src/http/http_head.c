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

/* Whether any of the eight bytes in w is below 0x20 or is 0x7f: the bytes a
 * field value may not hold, except HTAB (and the CR that ends the line).
 * The classic "has a byte less than" and "has a zero byte" tests, exact as
 * yes/no; bytes from 0x80 (obs-text) pass. */
static inline bool word_has_control(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t below_space = (w - ones * 0x20) & ~w & highs;
	uint64_t x = w ^ (ones * 0x7f);
	uint64_t del = (x - ones) & ~x & highs;
	return (below_space | del) != 0;
}

/* One field line from buf[p]: name ":" OWS value OWS CRLF, in one pass.
 * The value is read up to its CR eight bytes at a time (values are most of
 * a head's bytes); a word with a control byte, which may be a valid HTAB or
 * the CR, is read byte by byte. *next is where the following line starts.
 * The scan guaranteed the head ends in CRLF CRLF before head_end. */
static int parse_field_line(const char *buf, size_t p, size_t head_end, struct http_header *h,
			    size_t *next, struct http_fail *f)
{
	size_t name = p;

	if (http_is_ows((unsigned char)buf[p]))
		return http_fail_set(f, 400, "obs-fold or whitespace before field name");
	while (http_cc_is((unsigned char)buf[p], HTTP_CC_TCHAR))
		p++;
	if (p == name)
		return http_fail_set(f, 400, "empty or invalid field name");
	if (buf[p] != ':')
		return http_fail_set(f, 400, "invalid field name");
	h->name = slice_make(buf + name, p - name);

	p++;
	while (http_is_ows((unsigned char)buf[p]))
		p++;
	size_t value = p;
	for (bool at_cr = false; !at_cr;) {
		while (p + 8 <= head_end) {
			uint64_t w;
			memcpy(&w, buf + p, 8);
			if (word_has_control(w))
				break;
			p += 8;
		}
		/* Byte by byte through the word that stopped the fast path; the
		 * line's CR comes before head_end, so this ends there at most. */
		for (size_t stop = p + 8; p < stop; p++) {
			unsigned char c = (unsigned char)buf[p];
			if (c == '\r') {
				at_cr = true;
				break;
			}
			if (!http_cc_is(c, HTTP_CC_FIELD))
				return http_fail_set(f, 400, "control character in field value");
		}
	}
	/* A CR without its LF inside a value is a control character. */
	if (buf[p + 1] != '\n')
		return http_fail_set(f, 400, "control character in field value");
	size_t end = p;
	while (end > value && http_is_ows((unsigned char)buf[end - 1]))
		end--;
	h->value = slice_make(buf + value, end - value);
	*next = p + 2;
	return 0;
}

int http_parse_fields(const char *buf, size_t from, size_t head_end, struct http_header *headers,
		      size_t max, size_t *count, struct http_fail *f)
{
	size_t p = from;

	*count = 0;
	while (p + 2 < head_end) {
		if (*count >= max)
			return http_fail_set(f, 431, "too many header fields");
		if (parse_field_line(buf, p, head_end, &headers[*count], &p, f) != 0)
			return HTTP_ERROR;
		(*count)++;
	}
	return 0;
}
