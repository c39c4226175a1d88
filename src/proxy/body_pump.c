/* body_pump: see body_pump.h. */
#include "proxy/body_pump.h"

#include <string.h>

#define CHUNK_FRAME_SLACK 24 /* size line + CRLF around a chunk */

void body_pump_init(struct body_pump *p, enum http_body_kind kind, uint64_t length, bool out_chunked)
{
	memset(p, 0, sizeof *p);
	p->in_kind = kind;
	p->remaining = length;
	p->out_chunked = out_chunked && kind != HTTP_BODY_NONE;
	chunked_decoder_init(&p->dec);
	if (kind == HTTP_BODY_NONE || (kind == HTTP_BODY_LENGTH && length == 0)) {
		p->input_done = true;
		p->done = !p->out_chunked;
	}
}

/* Writes n data bytes to out with the output framing; the caller made room. */
static void emit(struct body_pump *p, struct buf *out, const char *data, size_t n)
{
	if (p->out_chunked) {
		char line[24];
		size_t l = chunked_size_line(line, n);
		buf_append(out, line, l);
		buf_append(out, data, n);
		buf_append(out, "\r\n", 2);
	} else {
		buf_append(out, data, n);
	}
	p->moved += n;
	if (p->tee)
		p->tee(p->tee_arg, data, n);
}

/* How many data bytes out can take now, framing included. */
static size_t room_for_data(const struct body_pump *p, struct buf *out)
{
	size_t space = buf_space(out);
	if (!p->out_chunked)
		return space;
	return space > CHUNK_FRAME_SLACK ? space - CHUNK_FRAME_SLACK : 0;
}

static int finish(struct body_pump *p, struct buf *out)
{
	if (p->out_chunked) {
		if (!buf_append(out, "0\r\n\r\n", 5))
			return 0;
	}
	p->done = true;
	return 1;
}

int body_pump_run(struct body_pump *p, struct buf *in, struct buf *out, bool in_eof)
{
	int moved = 0;
	while (!p->input_done) {
		size_t room = room_for_data(p, out);
		size_t avail = buf_len(in);
		if (p->in_kind == HTTP_BODY_CHUNKED) {
			if (!avail)
				break;
			/* Bound the input so one data run always fits in out. */
			size_t feed = avail;
			if (feed > room)
				feed = room;
			if (feed == 0)
				break;
			struct slice data;
			ssize_t used = chunked_decode(&p->dec, buf_rd(in), feed, &data);
			if (used < 0)
				return -1;
			if (data.len)
				emit(p, out, data.ptr, data.len);
			buf_consume(in, (size_t)used);
			if (p->dec.done)
				p->input_done = true;
			if (used == 0 && !data.len)
				break;
			moved = 1;
			continue;
		}
		size_t n = avail < room ? avail : room;
		if (p->in_kind == HTTP_BODY_LENGTH && n > p->remaining)
			n = (size_t)p->remaining;
		if (n == 0) {
			if (p->in_kind == HTTP_BODY_CLOSE && in_eof && avail == 0)
				p->input_done = true;
			break;
		}
		emit(p, out, buf_rd(in), n);
		buf_consume(in, n);
		moved = 1;
		if (p->in_kind == HTTP_BODY_LENGTH) {
			p->remaining -= n;
			if (p->remaining == 0)
				p->input_done = true;
		}
	}
	if (!p->input_done && in_eof && buf_len(in) == 0) {
		if (p->in_kind != HTTP_BODY_CLOSE)
			return -1; /* the sender ended before its declared length */
		p->input_done = true;
	}
	if (p->input_done && !p->done)
		moved |= finish(p, out);
	return moved;
}

size_t body_pump_direct_room(const struct body_pump *p, const struct buf *in, const struct buf *out,
			     size_t min_room)
{
	if (p->input_done || p->out_chunked || p->in_kind == HTTP_BODY_CHUNKED || buf_len(in))
		return 0;
	size_t room = buf_tail(out);
	return room < min_room ? 0 : room;
}

size_t body_pump_direct_took(struct body_pump *p, const char *data, size_t n)
{
	if (p->in_kind == HTTP_BODY_LENGTH && n > p->remaining)
		n = (size_t)p->remaining;
	p->moved += n;
	if (p->tee)
		p->tee(p->tee_arg, data, n);
	if (p->in_kind == HTTP_BODY_LENGTH) {
		p->remaining -= n;
		if (p->remaining == 0)
			p->input_done = true;
	}
	return n;
}
