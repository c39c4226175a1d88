/* Unit tests for src/http/chunked: valid and malformed codings, limits, and
 * that every way of splitting the input decodes the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "http/chunked.h"
#include "unit.h"

enum { CK_T_MORE, CK_T_DONE, CK_T_ERROR };

struct ck_result {
	int outcome;
	size_t consumed; /* input bytes consumed before done/more/error */
	size_t out_len;
	char out[4096];
};

/* Feeds in[0..len) in pieces ending at the offsets in cuts[] (then the rest),
 * each piece an exact-size copy so a read past it is an ASan error. */
static void ck_decode_pieces(const char *in, size_t len, const size_t *cuts, size_t ncuts,
			     struct ck_result *res)
{
	struct chunked_decoder d;
	size_t pos = 0;

	chunked_decoder_init(&d);
	memset(res, 0, sizeof *res);
	res->outcome = CK_T_MORE;
	for (size_t c = 0; c <= ncuts && !d.done; c++) {
		size_t end = c < ncuts ? cuts[c] : len;
		if (end < pos)
			continue;
		size_t plen = end - pos;
		char *piece = malloc(plen ? plen : 1);
		memcpy(piece, in + pos, plen);
		size_t off = 0;
		while (off < plen && !d.done) {
			struct slice data;
			ssize_t n = chunked_decode(&d, piece + off, plen - off, &data);
			if (n < 0) {
				res->outcome = CK_T_ERROR;
				free(piece);
				return;
			}
			CHECK(n > 0);
			CHECK((size_t)n <= plen - off);
			if (data.len) {
				CHECK(data.ptr >= piece + off && data.ptr + data.len <= piece + off + n);
				if (res->out_len + data.len <= sizeof res->out)
					memcpy(res->out + res->out_len, data.ptr, data.len);
				res->out_len += data.len;
			}
			off += (size_t)n;
			res->consumed += (size_t)n;
		}
		pos = end;
		free(piece);
	}
	if (d.done) {
		struct slice data;
		res->outcome = CK_T_DONE;
		CHECK_EQ_INT(chunked_decode(&d, "x", 1, &data), 0);
	}
}

static void ck_decode_all(const char *in, size_t len, struct ck_result *res)
{
	ck_decode_pieces(in, len, NULL, 0, res);
}

struct ck_case {
	const char *in;
	int outcome;
	const char *out;  /* decoded data, when not an error */
	size_t consumed;  /* 0: all of in */
};

static const struct ck_case ck_cases[] = {
	{ "0\r\n\r\n", CK_T_DONE, "", 0 },
	{ "5\r\nhello\r\n0\r\n\r\n", CK_T_DONE, "hello", 0 },
	{ "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", CK_T_DONE, "hello world", 0 },
	{ "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", CK_T_DONE, "0123456789abcdefghij", 0 },
	{ "0005\r\nhello\r\n000\r\n\r\n", CK_T_DONE, "hello", 0 },
	{ "5;name\r\nhello\r\n0;a=b;c=\"q\\\"d\"\r\n\r\n", CK_T_DONE, "hello", 0 },
	{ "5 ; name = value\r\nhello\r\n0\r\n\r\n", CK_T_DONE, "hello", 0 },
	{ "5;n=\"a;b\"\r\nhello\r\n0\r\n\r\n", CK_T_DONE, "hello", 0 },
	{ "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other:\tv a\r\n\r\n", CK_T_DONE, "abc", 0 },
	{ "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n", CK_T_DONE, "abc", 16 },
	{ "3\r\na\r\n\r\n0\r\n\r\n", CK_T_DONE, "a\r\n", 0 },
	{ "5\r\nhel", CK_T_MORE, "hel", 0 },
	{ "5\r\nhello\r\n0\r\n", CK_T_MORE, "hello", 0 },

	{ "", CK_T_MORE, "", 0 },
	{ "x\r\n", CK_T_ERROR, NULL, 0 },
	{ " 5\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "0x5\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "+5\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "-5\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5 \r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\rhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhelloX\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\r\n\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "\r\n5\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5;\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5;a=\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5;a b\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5;a=\"unterminated\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5;a\nb\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5;a=\x01\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\r\nX : a\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\r\nNoColon\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\r\nX: a\nY: b\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\r\nX: a\x01\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n", CK_T_ERROR, NULL, 0 },
	{ "8000000000000000\r\n", CK_T_ERROR, NULL, 0 },
	{ "10000000000000000\r\n", CK_T_ERROR, NULL, 0 },
};

TEST(chunked_cases)
{
	for (size_t i = 0; i < sizeof ck_cases / sizeof ck_cases[0]; i++) {
		const struct ck_case *c = &ck_cases[i];
		static struct ck_result res;
		size_t len = strlen(c->in);
		ck_decode_all(c->in, len, &res);
		if (res.outcome != c->outcome)
			fprintf(stderr, "  chunked case %zu: outcome %d, want %d\n", i, res.outcome,
				c->outcome);
		CHECK_EQ_INT(res.outcome, c->outcome);
		if (c->out) {
			CHECK_EQ_INT(res.out_len, strlen(c->out));
			CHECK(memcmp(res.out, c->out, strlen(c->out)) == 0);
			CHECK_EQ_INT(res.consumed, len - c->consumed);
		}
	}
}

/* Splitting the input anywhere, once or twice, or feeding one byte at a time
 * gives the same data and the same outcome. */
TEST(chunked_every_split)
{
	static const char *const inputs[] = {
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"5;a=\"x\\\"y\";b = c\r\nhello\r\n0\r\nX-T: v\r\nY:\r\n\r\nNEXT",
		"1\r\n\n\r\n2\r\n\r\n\r\n0\r\n\r\n",
		"5\r\nhello\r\n0\r\nX: a\nY: b\r\n\r\n",
		"3;x=\"\x7f\"\r\nabc\r\n0\r\n\r\n",
		"3\r\nabcd\r\n0\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		static struct ck_result whole, split;
		const char *in = inputs[i];
		size_t len = strlen(in);
		ck_decode_all(in, len, &whole);
		for (size_t a = 0; a <= len; a++) {
			for (size_t b = a; b <= len; b++) {
				size_t cuts[2] = { a, b };
				ck_decode_pieces(in, len, cuts, 2, &split);
				CHECK_EQ_INT(split.outcome, whole.outcome);
				if (whole.outcome != CK_T_ERROR)
					CHECK_EQ_INT(split.consumed, whole.consumed);
				CHECK_EQ_INT(split.out_len, whole.out_len);
				CHECK(memcmp(split.out, whole.out, whole.out_len) == 0);
			}
		}
		size_t bytes[64];
		for (size_t k = 0; k < 64; k++)
			bytes[k] = k + 1;
		ck_decode_pieces(in, len, bytes, len < 64 ? len : 64, &split);
		CHECK_EQ_INT(split.outcome, whole.outcome);
		CHECK_EQ_INT(split.out_len, whole.out_len);
		CHECK(memcmp(split.out, whole.out, whole.out_len) == 0);
	}
}

TEST(chunked_one_run_per_call)
{
	const char *in = "2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n";
	struct chunked_decoder d;
	struct slice data;

	chunked_decoder_init(&d);
	ssize_t n = chunked_decode(&d, in, strlen(in), &data);
	CHECK_EQ_INT(n, 5);
	CHECK(data.len == 2 && memcmp(data.ptr, "ab", 2) == 0);
	n = chunked_decode(&d, in + 5, strlen(in) - 5, &data);
	CHECK_EQ_INT(n, 7);
	CHECK(data.len == 2 && memcmp(data.ptr, "cd", 2) == 0);
	n = chunked_decode(&d, in + 12, strlen(in) - 12, &data);
	CHECK_EQ_INT(n, 7);
	CHECK_EQ_INT(data.len, 0);
	CHECK(d.done);
}

TEST(chunked_large_size_streams)
{
	/* The largest size that fits 2^63-1 is accepted and counted down. */
	const char *in = "7fffffffffffffff\r\nabc";
	struct chunked_decoder d;
	struct slice data;

	chunked_decoder_init(&d);
	CHECK_EQ_INT(chunked_decode(&d, in, 18, &data), 18);
	CHECK_EQ_INT(data.len, 0);
	CHECK_EQ_INT(chunked_decode(&d, in + 18, 3, &data), 3);
	CHECK_EQ_INT(data.len, 3);
	CHECK(d.remaining == 0x7fffffffffffffffULL - 3);
}

TEST(chunked_line_and_trailer_limits)
{
	static char buf[CHUNKED_TRAILER_MAX + 64];
	struct chunked_decoder d;
	struct slice data;
	size_t n;

	/* A size line of exactly CHUNKED_LINE_MAX bytes, CRLF included, passes. */
	memset(buf, '0', CHUNKED_LINE_MAX - 3);
	memcpy(buf + CHUNKED_LINE_MAX - 3, "1\r\n", 3);
	chunked_decoder_init(&d);
	CHECK_EQ_INT(chunked_decode(&d, buf, CHUNKED_LINE_MAX, &data), CHUNKED_LINE_MAX);
	memset(buf, '0', CHUNKED_LINE_MAX - 2);
	memcpy(buf + CHUNKED_LINE_MAX - 2, "1\r\n", 3);
	chunked_decoder_init(&d);
	CHECK_EQ_INT(chunked_decode(&d, buf, CHUNKED_LINE_MAX + 1, &data), -1);
	/* Once failed, always failed. */
	CHECK_EQ_INT(chunked_decode(&d, "0\r\n\r\n", 5, &data), -1);

	/* Trailers: just within, then just over. */
	n = (size_t)sprintf(buf, "0\r\nX: ");
	size_t fill = CHUNKED_TRAILER_MAX - (n - 3) - 4;
	memset(buf + n, 'v', fill);
	memcpy(buf + n + fill, "\r\n\r\n", 4);
	chunked_decoder_init(&d);
	CHECK_EQ_INT(chunked_decode(&d, buf, n + fill + 4, &data), (ssize_t)(n + fill + 4));
	CHECK(d.done);
	memset(buf + n, 'v', fill + 1);
	memcpy(buf + n + fill + 1, "\r\n\r\n", 4);
	chunked_decoder_init(&d);
	CHECK_EQ_INT(chunked_decode(&d, buf, n + fill + 5, &data), -1);
}

TEST(chunked_size_line)
{
	char out[24];
	size_t n = chunked_size_line(out, 1);
	CHECK(n == 3 && memcmp(out, "1\r\n", 3) == 0);
	n = chunked_size_line(out, 0x1a2b);
	CHECK(n == 6 && memcmp(out, "1a2b\r\n", 6) == 0);
	n = chunked_size_line(out, UINT64_MAX);
	CHECK(n == 18 && memcmp(out, "ffffffffffffffff\r\n", 18) == 0);

	/* What the encoder frames, the decoder reads back. */
	char body[64];
	n = chunked_size_line(body, 11);
	memcpy(body + n, "hello world\r\n0\r\n\r\n", 18);
	static struct ck_result res;
	ck_decode_all(body, n + 18, &res);
	CHECK_EQ_INT(res.outcome, CK_T_DONE);
	CHECK(res.out_len == 11 && memcmp(res.out, "hello world", 11) == 0);
}
