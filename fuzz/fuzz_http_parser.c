/*
 * fuzz_http_parser: libFuzzer target for src/http. Feeds each input to the
 * request parser, the response parser and the chunked decoder, whole and in
 * pieces (split points derived from the input's bytes), and aborts when an
 * invariant breaks:
 *   - a result is HTTP_ERROR, HTTP_INCOMPLETE or a length within the input;
 *   - every slice lies inside the head it came from;
 *   - a complete head parses to the same result from its exact bytes, with
 *     more bytes after it, and every proper prefix of it is incomplete;
 *   - a prefix that fails means the whole input fails too;
 *   - the chunked decoder gives the same data and outcome for any split.
 * Every parse reads from an exact-size heap copy, so ASan sees any read past
 * the length it was given.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/chunked.h"
#include "http/http_parser.h"

#define FZ_PIECES 8

static char *fz_copy(const uint8_t *data, size_t len)
{
	char *p = malloc(len ? len : 1);
	assert(p);
	memcpy(p, data, len);
	return p;
}

/* A small deterministic generator seeded from the input, for split points. */
static uint64_t fz_seed(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	return h;
}

static size_t fz_next(uint64_t *s, size_t bound)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return bound ? (size_t)(*s % bound) : 0;
}

static int fz_cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorted cut points in [0, len], always including len. */
static size_t fz_cuts(uint64_t *s, size_t len, size_t *cuts)
{
	size_t n = fz_next(s, FZ_PIECES);
	for (size_t i = 0; i < n; i++)
		cuts[i] = fz_next(s, len + 1);
	cuts[n++] = len;
	qsort(cuts, n, sizeof cuts[0], fz_cmp_size);
	return n;
}

static void fz_check_slice(struct slice s, const char *buf, size_t len)
{
	if (s.len == 0)
		return;
	assert(s.ptr >= buf && s.ptr + s.len <= buf + len);
}

static void fz_check_headers(const struct http_header *h, size_t n, const char *buf, size_t len)
{
	assert(n <= HTTP_MAX_HEADERS);
	for (size_t i = 0; i < n; i++) {
		assert(h[i].name.len > 0);
		fz_check_slice(h[i].name, buf, len);
		fz_check_slice(h[i].value, buf, len);
		for (size_t k = 0; k < h[i].value.len; k++) {
			unsigned char c = (unsigned char)h[i].value.ptr[k];
			assert(c == '\t' || (c >= 0x20 && c != 0x7f));
		}
	}
}

/* The parts of a parsed request that must not depend on how it arrived,
 * as offsets from the buffer. */
static size_t fz_off(struct slice s, const char *buf)
{
	return s.len ? (size_t)(s.ptr - buf) : 0;
}

static void fz_same_request(const struct http_request *a, const char *abuf,
			    const struct http_request *b, const char *bbuf)
{
	assert(a->method == b->method && a->minor_version == b->minor_version);
	assert(a->header_count == b->header_count && a->body == b->body);
	assert(a->content_length == b->content_length && a->keep_alive == b->keep_alive);
	assert(a->expect_continue == b->expect_continue);
	assert(a->target.len == b->target.len && fz_off(a->target, abuf) == fz_off(b->target, bbuf));
	assert(a->host.len == b->host.len && fz_off(a->host, abuf) == fz_off(b->host, bbuf));
	for (size_t i = 0; i < a->header_count; i++) {
		assert(fz_off(a->headers[i].name, abuf) == fz_off(b->headers[i].name, bbuf));
		assert(a->headers[i].value.len == b->headers[i].value.len);
	}
}

static void fz_request(const uint8_t *data, size_t size, const struct http_limits *lim,
		       uint64_t *s)
{
	static struct http_request req, again;
	char *buf = fz_copy(data, size);
	int r = http_parse_request(buf, size, lim, &req);

	assert(r == HTTP_ERROR || r == HTTP_INCOMPLETE || (r > 0 && (size_t)r <= size));
	if (r == HTTP_ERROR) {
		int st = req.error_status;
		assert(req.error_reason);
		assert(st == 400 || st == 414 || st == 417 || st == 431 || st == 501 || st == 505);
	}
	if (r > 0) {
		size_t n = (size_t)r;
		assert(n <= lim->header_bytes_max);
		assert(req.header_count <= lim->header_count_max);
		fz_check_slice(req.method_name, buf, n);
		fz_check_slice(req.target, buf, n);
		fz_check_slice(req.host, buf, n);
		fz_check_headers(req.headers, req.header_count, buf, n);
		assert(req.body != HTTP_BODY_CLOSE);
		assert(req.body != HTTP_BODY_LENGTH || req.content_length > 0);
		char *exact = fz_copy(data, n);
		assert(http_parse_request(exact, n, lim, &again) == r);
		fz_same_request(&req, buf, &again, exact);
		free(exact);
	}
	/* Prefixes, as bytes arrive. */
	size_t cuts[FZ_PIECES + 1];
	size_t nc = fz_cuts(s, size, cuts);
	for (size_t i = 0; i < nc; i++) {
		size_t k = cuts[i];
		if (r > 0 && k >= (size_t)r)
			k = fz_next(s, (size_t)r);
		char *pre = fz_copy(data, k);
		int pr = http_parse_request(pre, k, lim, &again);
		if (r > 0 && k < (size_t)r)
			assert(pr == HTTP_INCOMPLETE);
		if (pr == HTTP_ERROR)
			assert(r == HTTP_ERROR);
		if (pr > 0)
			assert(pr == r);
		free(pre);
	}
	free(buf);
}

static void fz_response(const uint8_t *data, size_t size, const struct http_limits *lim,
			enum http_method m, uint64_t *s)
{
	static struct http_response resp, again;
	char *buf = fz_copy(data, size);
	int r = http_parse_response(buf, size, lim, m, &resp);

	assert(r == HTTP_ERROR || r == HTTP_INCOMPLETE || (r > 0 && (size_t)r <= size));
	if (r == HTTP_ERROR)
		assert(resp.error_reason);
	if (r > 0) {
		size_t n = (size_t)r;
		assert(resp.status >= 100 && resp.status <= 599);
		fz_check_slice(resp.reason, buf, n);
		fz_check_headers(resp.headers, resp.header_count, buf, n);
		assert(resp.body != HTTP_BODY_CLOSE || !resp.keep_alive);
		char *exact = fz_copy(data, n);
		assert(http_parse_response(exact, n, lim, m, &again) == r);
		assert(again.status == resp.status && again.body == resp.body);
		assert(again.content_length == resp.content_length);
		assert(again.keep_alive == resp.keep_alive);
		free(exact);
	}
	size_t k = r > 0 ? fz_next(s, (size_t)r) : fz_next(s, size + 1);
	char *pre = fz_copy(data, k);
	int pr = http_parse_response(pre, k, lim, m, &again);
	if (r > 0)
		assert(pr == HTTP_INCOMPLETE);
	if (pr == HTTP_ERROR)
		assert(r == HTTP_ERROR);
	free(pre);
	free(buf);
}

struct fz_chunked {
	int outcome; /* 0 more, 1 done, -1 error */
	size_t consumed;
	size_t out_len;
	uint64_t out_hash;
};

static void fz_chunked_run(const uint8_t *data, size_t size, const size_t *cuts, size_t nc,
			   struct fz_chunked *res)
{
	struct chunked_decoder d;
	size_t pos = 0;

	chunked_decoder_init(&d);
	memset(res, 0, sizeof *res);
	res->out_hash = 1469598103934665603ULL;
	for (size_t c = 0; c < nc && !d.done; c++) {
		size_t plen = cuts[c] - pos;
		char *piece = fz_copy(data + pos, plen);
		size_t off = 0;
		while (off < plen && !d.done) {
			struct slice out;
			ssize_t n = chunked_decode(&d, piece + off, plen - off, &out);
			if (n < 0) {
				res->outcome = -1;
				free(piece);
				return;
			}
			assert(n > 0 && (size_t)n <= plen - off);
			if (out.len) {
				assert(out.ptr >= piece + off && out.ptr + out.len <= piece + off + n);
				for (size_t i = 0; i < out.len; i++)
					res->out_hash = (res->out_hash ^ (uint8_t)out.ptr[i]) *
							1099511628211ULL;
			}
			res->out_len += out.len;
			off += (size_t)n;
			res->consumed += (size_t)n;
		}
		free(piece);
		pos = cuts[c];
	}
	res->outcome = d.done ? 1 : 0;
}

static void fz_chunked(const uint8_t *data, size_t size, uint64_t *s)
{
	struct fz_chunked whole, split;
	size_t all = size, cuts[FZ_PIECES + 1];
	size_t nc = fz_cuts(s, size, cuts);

	fz_chunked_run(data, size, &all, 1, &whole);
	fz_chunked_run(data, size, cuts, nc, &split);
	assert(whole.outcome == split.outcome);
	assert(whole.out_len == split.out_len && whole.out_hash == split.out_hash);
	if (whole.outcome >= 0)
		assert(whole.consumed == split.consumed);
	assert(whole.consumed <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t s = fz_seed(data, size) | 1;
	/* Generous limits, then tight ones chosen by the input so the limit
	 * paths are reached too. */
	struct http_limits wide = { 8192, 65536, HTTP_MAX_HEADERS };
	struct http_limits tight = { 1 + fz_next(&s, 128), 1 + fz_next(&s, 512), fz_next(&s, 20) };
	enum http_method m = (enum http_method)fz_next(&s, HTTP_METHOD_CONNECT + 1);

	fz_request(data, size, &wide, &s);
	fz_request(data, size, &tight, &s);
	fz_response(data, size, &wide, m, &s);
	fz_chunked(data, size, &s);

	/* A chunked request body is decoded from where its head ends. */
	static struct http_request req;
	char *buf = fz_copy(data, size);
	int r = http_parse_request(buf, size, &wide, &req);
	if (r > 0 && req.body == HTTP_BODY_CHUNKED)
		fz_chunked(data + r, size - (size_t)r, &s);
	free(buf);
	return 0;
}
