/*
 * chunked: the chunked transfer coding (RFC 9112 section 7.1). The decoder is
 * a byte-at-a-time state machine for the framing and a straight slice for the
 * data, so where the input happens to be split between reads never changes
 * what it decodes. Chunk extensions are checked against their grammar and
 * dropped; so are trailer fields. Nothing lenient here: a proxy that reads
 * chunk framing differently from the next hop is the smuggling it exists to
 * stop.
 */
#include <limits.h>

#include "core/hex.h"
#include "http/chunked.h"
#include "http/http_internal.h"

enum {
	CK_SIZE_FIRST,     /* first HEXDIG of a chunk-size */
	CK_SIZE,           /* more HEXDIG, ";", BWS or CR */
	CK_EXT_BWS,        /* whitespace that must lead to ";" */
	CK_EXT_NAME_START, /* after ";": BWS then a token */
	CK_EXT_NAME,
	CK_EXT_AFTER_NAME, /* BWS, then "=" or ";" */
	CK_EXT_VAL_START,  /* after "=": BWS then token or quoted-string */
	CK_EXT_VAL_TOKEN,
	CK_EXT_VAL_QUOTED,
	CK_EXT_VAL_ESCAPE,
	CK_EXT_AFTER_VAL,  /* after a quoted value: ";", BWS or CR */
	CK_SIZE_LF,
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER_START,  /* a trailer field, or CR of the final CRLF */
	CK_TRAILER_NAME,
	CK_TRAILER_VALUE,
	CK_TRAILER_LF,
	CK_END_LF,
	CK_DONE,
	CK_ERROR,
};

void chunked_decoder_init(struct chunked_decoder *d)
{
	d->state = CK_SIZE_FIRST;
	d->remaining = 0;
	d->line_len = 0;
	d->trailer_len = 0;
	d->done = false;
}

static bool is_tchar(unsigned char c)
{
	return http_cc_is(c, HTTP_CC_TCHAR);
}

/* After a chunk-size or an extension value: another extension, or the
 * line's CR. */
static int after_value(unsigned char c)
{
	if (c == ';')
		return CK_EXT_NAME_START;
	if (http_is_ows(c))
		return CK_EXT_BWS;
	return c == '\r' ? CK_SIZE_LF : CK_ERROR;
}

/* The chunk-size line: size, extensions, CRLF. Returns the next state. */
static int step_size_line(struct chunked_decoder *d, unsigned char c)
{
	int v;

	switch (d->state) {
	case CK_SIZE_FIRST:
		if ((v = hex_digit_value(c)) < 0)
			return CK_ERROR;
		d->remaining = (uint64_t)v;
		return CK_SIZE;
	case CK_SIZE:
		if ((v = hex_digit_value(c)) < 0)
			return after_value(c);
		if (d->remaining > (uint64_t)INT64_MAX >> 4)
			return CK_ERROR;
		d->remaining = d->remaining << 4 | (uint64_t)v;
		return CK_SIZE;
	case CK_EXT_VAL_TOKEN:
		return is_tchar(c) ? CK_EXT_VAL_TOKEN : after_value(c);
	case CK_EXT_AFTER_VAL:
		return after_value(c);
	case CK_EXT_BWS:
		if (http_is_ows(c))
			return CK_EXT_BWS;
		return c == ';' ? CK_EXT_NAME_START : CK_ERROR;
	case CK_EXT_NAME_START:
		if (http_is_ows(c))
			return CK_EXT_NAME_START;
		return is_tchar(c) ? CK_EXT_NAME : CK_ERROR;
	case CK_EXT_NAME:
		if (is_tchar(c))
			return CK_EXT_NAME;
		if (c == '=')
			return CK_EXT_VAL_START;
		if (c == ';')
			return CK_EXT_NAME_START;
		if (http_is_ows(c))
			return CK_EXT_AFTER_NAME;
		return c == '\r' ? CK_SIZE_LF : CK_ERROR;
	case CK_EXT_AFTER_NAME:
		if (http_is_ows(c))
			return CK_EXT_AFTER_NAME;
		if (c == '=')
			return CK_EXT_VAL_START;
		return c == ';' ? CK_EXT_NAME_START : CK_ERROR;
	case CK_EXT_VAL_START:
		if (http_is_ows(c))
			return CK_EXT_VAL_START;
		if (c == '"')
			return CK_EXT_VAL_QUOTED;
		return is_tchar(c) ? CK_EXT_VAL_TOKEN : CK_ERROR;
	case CK_EXT_VAL_QUOTED:
		if (c == '"')
			return CK_EXT_AFTER_VAL;
		if (c == '\\')
			return CK_EXT_VAL_ESCAPE;
		return http_cc_is(c, HTTP_CC_QDTEXT) ? CK_EXT_VAL_QUOTED : CK_ERROR;
	case CK_EXT_VAL_ESCAPE:
		return http_cc_is(c, HTTP_CC_FIELD) ? CK_EXT_VAL_QUOTED : CK_ERROR;
	case CK_SIZE_LF:
		if (c != '\n')
			return CK_ERROR;
		return d->remaining ? CK_DATA : CK_TRAILER_START;
	}
	return CK_ERROR;
}

/* Trailer fields after the last chunk, validated like header fields. */
static int step_trailer(struct chunked_decoder *d, unsigned char c)
{
	switch (d->state) {
	case CK_TRAILER_START:
		if (c == '\r')
			return CK_END_LF;
		return is_tchar(c) ? CK_TRAILER_NAME : CK_ERROR;
	case CK_TRAILER_NAME:
		if (is_tchar(c))
			return CK_TRAILER_NAME;
		return c == ':' ? CK_TRAILER_VALUE : CK_ERROR;
	case CK_TRAILER_VALUE:
		if (c == '\r')
			return CK_TRAILER_LF;
		return http_cc_is(c, HTTP_CC_FIELD) ? CK_TRAILER_VALUE : CK_ERROR;
	case CK_TRAILER_LF:
		return c == '\n' ? CK_TRAILER_START : CK_ERROR;
	case CK_END_LF:
		return c == '\n' ? CK_DONE : CK_ERROR;
	}
	return CK_ERROR;
}

/* One framing byte: advances the state and keeps the line and trailer
 * limits. */
static void step(struct chunked_decoder *d, unsigned char c)
{
	if (d->state <= CK_SIZE_LF) {
		if (++d->line_len > CHUNKED_LINE_MAX) {
			d->state = CK_ERROR;
			return;
		}
		d->state = step_size_line(d, c);
	} else if (d->state == CK_DATA_CR) {
		d->state = c == '\r' ? CK_DATA_LF : CK_ERROR;
	} else if (d->state == CK_DATA_LF) {
		d->state = c == '\n' ? CK_SIZE_FIRST : CK_ERROR;
	} else {
		if (++d->trailer_len > CHUNKED_TRAILER_MAX) {
			d->state = CK_ERROR;
			return;
		}
		d->state = step_trailer(d, c);
	}
	if (d->state == CK_SIZE_FIRST)
		d->line_len = 0;
	if (d->state == CK_DONE)
		d->done = true;
}

ssize_t chunked_decode(struct chunked_decoder *d, const char *in, size_t len, struct slice *data)
{
	size_t i = 0;

	*data = slice_make(in, 0);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	while (i < len && !d->done) {
		if (d->state == CK_ERROR)
			return -1;
		if (d->state == CK_DATA) {
			size_t n = len - i;
			if (n > d->remaining)
				n = (size_t)d->remaining;
			*data = slice_make(in + i, n);
			d->remaining -= n;
			if (d->remaining == 0)
				d->state = CK_DATA_CR;
			return (ssize_t)(i + n);
		}
		step(d, (unsigned char)in[i]);
		i++;
	}
	return d->state == CK_ERROR ? -1 : (ssize_t)i;
}

size_t chunked_size_line(char *out, uint64_t n)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t k = 0, len = 0;

	do {
		tmp[k++] = hex[n & 0xf];
		n >>= 4;
	} while (n);
	while (k)
		out[len++] = tmp[--k];
	out[len++] = '\r';
	out[len++] = '\n';
	return len;
}
