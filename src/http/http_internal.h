/*
 * http_internal: what the request and response parsers share inside src/http
 * (and nothing outside it may use): the RFC 9110 byte classes, the scan for
 * the end of a message head, the field-line parser, and the checks of single
 * field values that decide framing (Content-Length, Transfer-Encoding, Host).
 * All of them borrow the caller's bytes and keep nothing.
 */
#ifndef PULLGATE_HTTP_HTTP_INTERNAL_H
#define PULLGATE_HTTP_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"
#include "http/http_parser.h"

#define HTTP_CC_TCHAR 0x01   /* token characters */
#define HTTP_CC_VCHAR 0x02   /* 0x21-0x7E */
#define HTTP_CC_FIELD 0x04   /* HTAB, SP, VCHAR, obs-text: field-value bytes */
#define HTTP_CC_HEX 0x08     /* HEXDIG */
#define HTTP_CC_DIGIT 0x10   /* DIGIT */
#define HTTP_CC_REGNAME 0x20 /* unreserved and sub-delims of RFC 3986 */
#define HTTP_CC_QDTEXT 0x40  /* qdtext: quoted-string bytes apart from escapes */

extern const unsigned char http_cc[256];

static inline bool http_cc_is(unsigned char c, unsigned char cls)
{
	return (http_cc[c] & cls) != 0;
}

static inline bool http_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Why a head was refused: the status to answer and a static reason. */
struct http_fail {
	int status;
	const char *reason;
};

/* Sets *f and returns HTTP_ERROR, so a check can end with one statement. */
int http_fail_set(struct http_fail *f, int status, const char *reason);

/*
 * Finds the end of the head that starts at buf[start] (after any ignored
 * empty lines). Returns the offset just past the blank line, HTTP_INCOMPLETE,
 * or HTTP_ERROR. Checked here, so they hold before the head is complete: a
 * start line of at most request_line_max bytes with its CRLF (else
 * line_status), a head of at most header_bytes_max bytes counted from buf[0]
 * (431), at most header_count_max field lines (431), and no LF without its CR
 * (400). *line_end is set to the offset of the CR that ends the start line.
 */
int http_head_scan(const char *buf, size_t len, size_t start, const struct http_limits *lim,
		   int line_status, size_t *line_end, struct http_fail *f);

/*
 * Parses the field lines in buf[from..head_end), where head_end comes from
 * http_head_scan. Fills headers[0..*count) with slices into buf. Returns 0,
 * or HTTP_ERROR with *f set (400 for bad syntax, 431 over max fields).
 */
int http_parse_fields(const char *buf, size_t from, size_t head_end, struct http_header *headers,
		      size_t max, size_t *count, struct http_fail *f);

/* The field-line cap the limits allow, never above HTTP_MAX_HEADERS. */
size_t http_fields_max(const struct http_limits *lim);

/* Content-Length: 1*DIGIT, at most 2^63-1. */
bool http_content_length_parse(struct slice v, uint64_t *out);

enum http_te_kind {
	HTTP_TE_CHUNKED, /* exactly the one coding "chunked" */
	HTTP_TE_OTHER,   /* a well-formed transfer-coding list we do not accept */
	HTTP_TE_BAD,     /* not a transfer-coding list at all */
};

enum http_te_kind http_te_classify(struct slice v);

/* uri-host [ ":" port ] (RFC 3986 host; port 0-65535, non-empty). */
bool http_host_is_valid(struct slice v);

#endif
