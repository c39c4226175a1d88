/*
 * body_pump: moves one message body from an input buffer to an output buffer
 * as space allows, decoding the sender's framing and applying the receiver's
 * (Content-Length bytes as they are, chunked re-encoded, close-delimited).
 * Re-encoding chunked bodies means the next hop sees framing we produced,
 * never the sender's extensions or trailers.
 */
#ifndef PULLGATE_PROXY_BODY_PUMP_H
#define PULLGATE_PROXY_BODY_PUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/chunked.h"
#include "http/http_parser.h"

struct body_pump {
	enum http_body_kind in_kind; /* NONE, LENGTH, CHUNKED or CLOSE */
	uint64_t remaining;          /* LENGTH: bytes still to come */
	bool out_chunked;            /* write chunked framing to out */
	struct chunked_decoder dec;
	bool input_done;             /* the whole body was read from in */
	bool done;                   /* ... and its framing written to out */
	uint64_t moved;              /* body bytes moved so far */
	/* Optional: sees every decoded body byte as it moves (the cache's copy). */
	void (*tee)(void *arg, const char *p, size_t n);
	void *tee_arg;
};

void body_pump_init(struct body_pump *p, enum http_body_kind kind, uint64_t length, bool out_chunked);

/* Moves what fits. in_eof: the sender closed (ends a CLOSE body; truncates
 * the others). Returns 1 when something moved, 0 when nothing could, -1 when
 * the input is malformed or ended early. */
int body_pump_run(struct body_pump *p, struct buf *in, struct buf *out, bool in_eof);

/* Passthrough: a length or close-delimited body that goes out unchanged
 * may be read straight into out, skipping the copy from in. How many bytes
 * the caller may read into buf_wr(out) now: 0 when the body must go through
 * body_pump_run (chunked in or out, bytes waiting in in, done, or less than
 * min_room contiguous room in out). The read may run past a length body's
 * end, so that it is a full read of what has arrived: see
 * body_pump_direct_took. */
size_t body_pump_direct_room(const struct body_pump *p, const struct buf *in, const struct buf *out,
			     size_t min_room);
/* n bytes were read straight into out at data (not yet committed). Returns
 * how many of them are body, to commit to out: counts them, shows them to
 * the tee and ends a length body that is complete. Bytes after a length
 * body's end are not the body's: the caller decides what they mean. */
size_t body_pump_direct_took(struct body_pump *p, const char *data, size_t n);

#endif
