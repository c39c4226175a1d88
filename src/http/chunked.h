/*
 * chunked: a streaming decoder for the chunked transfer coding (RFC 9112
 * section 7.1), and the encoder's framing. The decoder never copies: it
 * reports runs of body data as slices into the caller's input.
 */
#ifndef PULLGATE_HTTP_CHUNKED_H
#define PULLGATE_HTTP_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/slice.h"

#define CHUNKED_LINE_MAX 4096    /* a chunk-size line with extensions */
#define CHUNKED_TRAILER_MAX 8192 /* all trailer fields together */

struct chunked_decoder {
	int state;
	uint64_t remaining; /* data bytes left in the current chunk */
	size_t line_len;    /* bytes of the current size or trailer line */
	size_t trailer_len;
	bool done;          /* the last chunk and the trailer section were consumed */
};

void chunked_decoder_init(struct chunked_decoder *d);

/* Consumes a prefix of in[0..len). Stores at most one run of body data in
 * *data (len 0 when none) and returns the number of input bytes consumed,
 * which may be 0 only when len is 0 or d->done; returns -1 when the input is
 * malformed (bad hex, overflow, missing CRLF, bare LF, an over-long line or
 * trailer). Trailer fields are validated and dropped. Callers loop until
 * they have consumed everything or d->done. */
ssize_t chunked_decode(struct chunked_decoder *d, const char *in, size_t len, struct slice *data);

/* Writes "HEX\r\n" for a chunk of n bytes (n > 0) into out (>= 20 bytes);
 * returns its length. The chunk's data is followed by "\r\n"; the body ends
 * with "0\r\n\r\n". */
size_t chunked_size_line(char *out, uint64_t n);

#endif
