/* Unit tests for src/http: the request and response head parsers and the
 * header helpers. The request table is the smuggling checklist: each case is
 * a whole head with the status it must get (0 for accepted). */
#include <stdlib.h>
#include <string.h>

#include "http/http_parser.h"
#include "unit.h"

static const struct http_limits hp_limits = { 256, 1024, 16 };

struct hp_case {
	const char *raw;
	size_t len;                /* raw may hold a NUL */
	int status;                /* 0: accepted */
	enum http_body_kind body;  /* when accepted */
	uint64_t content_length;
	int keep_alive;
};

#define HP(s) s, sizeof(s) - 1
#define R11(extra) "GET / HTTP/1.1\r\nHost: example.com\r\n" extra "\r\n"
#define P11(extra) "POST /up HTTP/1.1\r\nHost: example.com\r\n" extra "\r\n"

static const struct hp_case hp_cases[] = {
	/* accepted */
	{ HP(R11("")), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET / HTTP/1.0\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 0 },
	{ HP("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 0 },
	{ HP(R11("Connection: close\r\n")), 0, HTTP_BODY_NONE, 0, 0 },
	{ HP(R11("Connection: foo\r\nConnection: Close\r\n")), 0, HTTP_BODY_NONE, 0, 0 },
	{ HP(P11("Content-Length: 5\r\n")), 0, HTTP_BODY_LENGTH, 5, 1 },
	{ HP(P11("Content-Length: 0\r\n")), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP(P11("Content-Length:    12   \r\n")), 0, HTTP_BODY_LENGTH, 12, 1 },
	{ HP(P11("Content-Length: 9223372036854775807\r\n")), 0, HTTP_BODY_LENGTH, INT64_MAX, 1 },
	{ HP(P11("Transfer-Encoding: chunked\r\n")), 0, HTTP_BODY_CHUNKED, 0, 1 },
	{ HP(P11("transfer-encoding: ChUnKeD\r\n")), 0, HTTP_BODY_CHUNKED, 0, 1 },
	{ HP(P11("Transfer-Encoding:\tchunked \t\r\n")), 0, HTTP_BODY_CHUNKED, 0, 1 },
	{ HP("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n"), 0, HTTP_BODY_LENGTH, 1, 1 },
	{ HP("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("PATCH /x HTTP/1.1\r\nHost: a\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET HTTPS://Example.COM:8443 HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET / HTTP/1.1\r\nHost: [2001:db8::192.0.2.1]\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET / HTTP/1.1\r\nHost: 192.0.2.1:443\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET / HTTP/1.1\r\nHost: xn--bcher-kva.example%2e_~\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP(R11("X-Empty:\r\nX-Spaces:   \r\n")), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP(R11("X-Utf8: caf\xc3\xa9\r\n")), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP(R11("X-Tab: a\tb\r\n")), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP("GET /%7Euser?q=a+b&c=d HTTP/1.1\r\nHost: a\r\n\r\n"), 0, HTTP_BODY_NONE, 0, 1 },

	/* smuggling classics: framing */
	{ HP(P11("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: xchunked\r\n")), 501, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding : chunked\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding\t: chunked\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: chunked, identity\r\n")), 501, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: chunked, chunked\r\n")), 501, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: gzip, chunked\r\n")), 501, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: gzip\r\n")), 501, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: identity\r\n")), 501, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: chunked;q=1\r\n")), 501, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: chunked;x\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: chun ked\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: \"chunked\"\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding:\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")), 400, 0, 0, 0 },
	{ HP("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: 5\r\nContent-Length: 5\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: 5\r\nContent-Length: 6\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: +5\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: -1\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: 5, 5\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: 5 5\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: 0x5\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length:\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: 9223372036854775808\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content-Length: 99999999999999999999999\r\n")), 400, 0, 0, 0 },
	{ HP(P11("Content Length: 5\r\n")), 400, 0, 0, 0 },

	/* line syntax */
	{ HP(R11("X-Folded: a\r\n b\r\n")), 400, 0, 0, 0 },
	{ HP(R11("X-Folded: a\r\n\tb\r\n")), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400, 0, 0, 0 },
	{ HP("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP(R11("X-Nul: a\0b\r\n")), 400, 0, 0, 0 },
	{ HP(R11("X-Del: a\x7f\r\n")), 400, 0, 0, 0 },
	{ HP(R11("X-Esc: \x1b[0m\r\n")), 400, 0, 0, 0 },
	{ HP(R11("Bad Name: x\r\n")), 400, 0, 0, 0 },
	{ HP(R11("Bad\"Name: x\r\n")), 400, 0, 0, 0 },
	{ HP(R11(": no-name\r\n")), 400, 0, 0, 0 },
	{ HP(R11("NoColon\r\n")), 400, 0, 0, 0 },

	/* request line */
	{ HP("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / http/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET /\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505, 0, 0, 0 },
	{ HP("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505, 0, 0, 0 },
	{ HP("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505, 0, 0, 0 },
	{ HP("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n"), 501, 0, 0, 0 },
	{ HP("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 501, 0, 0, 0 },
	{ HP("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), 501, 0, 0, 0 },
	{ HP("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501, 0, 0, 0 },
	{ HP("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET example.com/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET ftp://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET http://user@example.com/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },

	/* Host */
	{ HP("GET / HTTP/1.1\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: [example.com]\r\n\r\n"), 400, 0, 0, 0 },
	{ HP("GET / HTTP/1.1\r\nHost: a%2\r\n\r\n"), 400, 0, 0, 0 },

	/* Expect */
	{ HP(R11("Expect: 100-Continue\r\n")), 0, HTTP_BODY_NONE, 0, 1 },
	{ HP(R11("Expect: 200-ok\r\n")), 417, 0, 0, 0 },
	{ HP(R11("Expect: 100-continue, foo\r\n")), 417, 0, 0, 0 },
};

TEST(http_parser_request_table)
{
	for (size_t i = 0; i < sizeof hp_cases / sizeof hp_cases[0]; i++) {
		const struct hp_case *c = &hp_cases[i];
		size_t len = c->len;
		struct http_request req;
		int r = http_parse_request(c->raw, len, &hp_limits, &req);
		if (c->status == 0) {
			if (r != (int)len)
				fprintf(stderr, "  case %zu: %.*s -> %d (%d %s)\n", i, (int)len, c->raw, r,
					req.error_status, req.error_reason ? req.error_reason : "");
			CHECK_EQ_INT(r, (int)len);
			CHECK_EQ_INT(req.body, c->body);
			CHECK_EQ_INT(req.content_length, c->content_length);
			CHECK_EQ_INT(req.keep_alive, c->keep_alive);
		} else {
			if (r != HTTP_ERROR || req.error_status != c->status)
				fprintf(stderr, "  case %zu: %.*s -> %d (%d %s), want %d\n", i, (int)len,
					c->raw, r, req.error_status,
					req.error_reason ? req.error_reason : "", c->status);
			CHECK_EQ_INT(r, HTTP_ERROR);
			CHECK_EQ_INT(req.error_status, c->status);
			CHECK(req.error_reason != NULL);
		}
	}
}

/* Every byte at every place of a 20-byte value (the parser checks values
 * eight bytes at a time, then the rest one by one): accepted exactly when it
 * is a field-value byte (HTAB, SP, VCHAR, obs-text), and the value comes
 * back whole. */
TEST(http_parser_field_value_bytes)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX-V: ";
	char raw[sizeof pre + 32];
	size_t pre_len = sizeof pre - 1, vlen = 20;
	for (size_t at = 1; at < vlen - 1; at++) {
		for (int b = 0; b < 256; b++) {
			memcpy(raw, pre, pre_len);
			memset(raw + pre_len, 'v', vlen);
			raw[pre_len + at] = (char)b;
			memcpy(raw + pre_len + vlen, "\r\n\r\n", 4);
			size_t len = pre_len + vlen + 4;
			struct http_request req;
			int r = http_parse_request(raw, len, &hp_limits, &req);
			bool valid = b == '\t' || (b >= 0x20 && b != 0x7f);
			bool ok = r == (int)len && req.header_count == 2 &&
				  slice_eq(req.headers[1].value, slice_make(raw + pre_len, vlen));
			if (ok != valid || (!valid && r != HTTP_ERROR)) {
				char msg[64];
				snprintf(msg, sizeof msg, "byte 0x%02x at %zu: %d", b, at, r);
				unit_fail(__FILE__, __LINE__, msg);
				return;
			}
		}
	}
}

TEST(http_parser_request_fields)
{
	const char *raw = "\r\nPOST /up?x=1 HTTP/1.1\r\nHost:  example.com:8443 \r\n"
			  "X-A: one\r\nx-b:two\r\nContent-Length: 3\r\n"
			  "Expect: 100-continue\r\n\r\nabc";
	struct http_request req;
	int r = http_parse_request(raw, strlen(raw), &hp_limits, &req);

	REQUIRE(r == (int)strlen(raw) - 3);
	CHECK_EQ_INT(req.method, HTTP_METHOD_POST);
	CHECK(slice_eq(req.method_name, SLICE_LIT("POST")));
	CHECK(slice_eq(req.target, SLICE_LIT("/up?x=1")));
	CHECK_EQ_INT(req.minor_version, 1);
	CHECK_EQ_INT(req.header_count, 5);
	CHECK(slice_eq(req.host, SLICE_LIT("example.com:8443")));
	CHECK(slice_eq(req.headers[2].name, SLICE_LIT("x-b")));
	CHECK(slice_eq(req.headers[2].value, SLICE_LIT("two")));
	CHECK(req.expect_continue);
	CHECK_EQ_INT(req.body, HTTP_BODY_LENGTH);
	CHECK_EQ_INT(req.content_length, 3);

	const struct http_header *h = http_find_header(req.headers, req.header_count, "X-A");
	REQUIRE(h != NULL);
	CHECK(slice_eq(h->value, SLICE_LIT("one")));
	CHECK(http_find_header(req.headers, req.header_count, "X-C") == NULL);
}

TEST(http_parser_request_methods)
{
	static const struct {
		const char *line;
		enum http_method m;
		int status;
	} t[] = {
		{ "GET", HTTP_METHOD_GET, 0 },         { "HEAD", HTTP_METHOD_HEAD, 0 },
		{ "POST", HTTP_METHOD_POST, 0 },       { "PUT", HTTP_METHOD_PUT, 0 },
		{ "DELETE", HTTP_METHOD_DELETE, 0 },   { "OPTIONS", HTTP_METHOD_OPTIONS, 0 },
		{ "PATCH", HTTP_METHOD_PATCH, 0 },     { "TRACE", HTTP_METHOD_TRACE, 501 },
		{ "CONNECT", HTTP_METHOD_CONNECT, 501 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char buf[128];
		struct http_request req;
		int n = snprintf(buf, sizeof buf, "%s / HTTP/1.1\r\nHost: a\r\n\r\n", t[i].line);
		int r = http_parse_request(buf, (size_t)n, &hp_limits, &req);
		CHECK_EQ_INT(req.method, t[i].m);
		if (t[i].status)
			CHECK_EQ_INT(req.error_status, t[i].status);
		else
			CHECK_EQ_INT(r, n);
	}
}

/* Every proper prefix of an accepted head is incomplete, and the head is the
 * same however many bytes follow it. */
TEST(http_parser_request_incomplete_every_split)
{
	static const char *const heads[] = {
		"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\nX-A:\r\nX-B: \t v \t\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		size_t len = strlen(heads[i]);
		char *buf = malloc(len + 8);
		REQUIRE(buf != NULL);
		memcpy(buf, heads[i], len);
		memcpy(buf + len, "GET / H", 7);
		for (size_t k = 0; k < len; k++) {
			/* Exact-size copies so a read past len is an ASan error. */
			char *pre = malloc(k ? k : 1);
			REQUIRE(pre != NULL);
			memcpy(pre, buf, k);
			struct http_request req;
			int r = http_parse_request(pre, k, &hp_limits, &req);
			if (r != HTTP_INCOMPLETE)
				fprintf(stderr, "  head %zu prefix %zu -> %d\n", i, k, r);
			CHECK_EQ_INT(r, HTTP_INCOMPLETE);
			free(pre);
		}
		struct http_request req;
		CHECK_EQ_INT(http_parse_request(buf, len, &hp_limits, &req), (int)len);
		CHECK_EQ_INT(http_parse_request(buf, len + 7, &hp_limits, &req), (int)len);
		free(buf);
	}
}

static void hp_fill_request_line(char *buf, size_t target_len)
{
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', target_len - 1);
	memcpy(buf + 4 + target_len, " HTTP/1.1\r\n", 11);
}

TEST(http_parser_request_line_limit)
{
	char buf[2048];
	struct http_request req;
	/* "GET " + target + " HTTP/1.1\r\n" == 4 + t + 11 == request_line_max (256). */
	size_t t = 256 - 15;

	hp_fill_request_line(buf, t);
	memcpy(buf + 256, "Host: a\r\n\r\n", 11);
	CHECK_EQ_INT(http_parse_request(buf, 267, &hp_limits, &req), 267);

	hp_fill_request_line(buf, t + 1);
	memcpy(buf + 257, "Host: a\r\n\r\n", 11);
	CHECK_EQ_INT(http_parse_request(buf, 268, &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 414);
	/* Before the line has ended, as soon as the limit is passed. */
	CHECK_EQ_INT(http_parse_request(buf, 256, &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 414);
	CHECK_EQ_INT(http_parse_request(buf, 255, &hp_limits, &req), HTTP_INCOMPLETE);
}

TEST(http_parser_request_too_many_headers)
{
	char buf[1024];
	struct http_request req;
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");

	for (int i = 0; i < 15; i++)
		n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
	/* 16 fields: at the limit. */
	memcpy(buf + n, "\r\n", 2);
	CHECK_EQ_INT(http_parse_request(buf, n + 2, &hp_limits, &req), (int)n + 2);

	n += (size_t)sprintf(buf + n, "X-16: v\r\n");
	memcpy(buf + n, "\r\n", 2);
	CHECK_EQ_INT(http_parse_request(buf, n + 2, &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 431);
	/* Incomplete head, already one field over. */
	CHECK_EQ_INT(http_parse_request(buf, n, &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 431);

	/* HTTP_MAX_HEADERS caps a larger configured limit. */
	struct http_limits big = { 8192, 65536, 100000 };
	static char many[65536];
	n = (size_t)sprintf(many, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(many + n, "X-%d: v\r\n", i);
	memcpy(many + n, "\r\n", 2);
	CHECK_EQ_INT(http_parse_request(many, n + 2, &big, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 431);
}

TEST(http_parser_request_head_too_large)
{
	static char buf[4096];
	struct http_request req;
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");

	memset(buf + n, 'v', 1200);
	/* Incomplete: fires once header_bytes_max (1024) bytes have no end. */
	CHECK_EQ_INT(http_parse_request(buf, 1023, &hp_limits, &req), HTTP_INCOMPLETE);
	CHECK_EQ_INT(http_parse_request(buf, 1024, &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 431);

	/* Complete but over the limit. */
	memcpy(buf + n + 1200, "\r\n\r\n", 4);
	CHECK_EQ_INT(http_parse_request(buf, n + 1204, &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 431);

	/* Exactly at the limit is accepted. */
	size_t fill = 1024 - n - 4;
	memset(buf + n, 'v', fill);
	memcpy(buf + n + fill, "\r\n\r\n", 4);
	CHECK_EQ_INT(http_parse_request(buf, 1024, &hp_limits, &req), 1024);

	/* An endless run of empty lines counts too. */
	for (size_t i = 0; i < 2048; i += 2)
		memcpy(buf + i, "\r\n", 2);
	CHECK_EQ_INT(http_parse_request(buf, 2048, &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 431);
	CHECK_EQ_INT(http_parse_request(buf, 1000, &hp_limits, &req), HTTP_INCOMPLETE);
}

TEST(http_parser_request_bare_lf_early)
{
	struct http_request req;
	/* A bare LF is refused before the head is complete, not left to time out. */
	const char *raw = "GET / HTTP/1.1\nHost: a\n";

	CHECK_EQ_INT(http_parse_request(raw, strlen(raw), &hp_limits, &req), HTTP_ERROR);
	CHECK_EQ_INT(req.error_status, 400);
}

/* Responses */

struct hp_resp_case {
	const char *raw;
	enum http_method method;
	int ok;
	int status;
	enum http_body_kind body;
	uint64_t content_length;
	int keep_alive;
};

/* Short names keep the table one case per line. */
#define M_GET HTTP_METHOD_GET
#define M_HEAD HTTP_METHOD_HEAD
#define M_POST HTTP_METHOD_POST
#define M_CONN HTTP_METHOD_CONNECT
#define B_NONE HTTP_BODY_NONE
#define B_LEN HTTP_BODY_LENGTH
#define B_CHUNK HTTP_BODY_CHUNKED
#define B_CLOSE HTTP_BODY_CLOSE

static const struct hp_resp_case hp_resp_cases[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", M_GET, 1, 200, B_LEN, 5, 1 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", M_GET, 1, 200, B_NONE, 0, 1 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", M_GET, 1, 200, B_CHUNK, 0, 1 },
	{ "HTTP/1.1 200 OK\r\n\r\n", M_GET, 1, 200, B_CLOSE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", M_HEAD, 1, 200, B_NONE, 5, 1 },
	{ "HTTP/1.1 204 No Content\r\n\r\n", M_GET, 1, 204, B_NONE, 0, 1 },
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", M_GET, 1, 304, B_NONE, 10, 1 },
	{ "HTTP/1.1 100 Continue\r\n\r\n", M_POST, 1, 100, B_NONE, 0, 1 },
	{ "HTTP/1.1 404\r\nContent-Length: 1\r\n\r\n", M_GET, 1, 404, B_LEN, 1, 1 },
	{ "HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\n", M_GET, 1, 404, B_LEN, 1, 1 },
	{ "HTTP/1.1 200 Tr\xc3\xa8s bien\t!\r\nContent-Length: 1\r\n\r\n", M_GET, 1, 200, B_LEN, 1, 1 },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", M_GET, 1, 200, B_LEN, 1, 0 },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", M_GET, 1, 200, B_LEN, 1, 0 },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n",
	  M_GET, 1, 200, B_LEN, 1, 1 },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", M_GET, 1, 200, B_CLOSE, 0, 0 },
	{ "HTTP/1.1 407 Auth\r\n\r\n", M_CONN, 1, 407, B_CLOSE, 0, 0 },
	{ "HTTP/1.1 200 OK\r\n\r\n", M_CONN, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	  M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	  M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nX : a\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 099 Low\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 600 High\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 20 OK\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 2000 OK\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/2 200 OK\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.2 200 OK\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "http/1.1 200 OK\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1  200 OK\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "HTTP/1.1 200 O\x01K\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
	{ "\r\nHTTP/1.1 200 OK\r\n\r\n", M_GET, 0, 0, 0, 0, 0 },
};

TEST(http_parser_response_table)
{
	for (size_t i = 0; i < sizeof hp_resp_cases / sizeof hp_resp_cases[0]; i++) {
		const struct hp_resp_case *c = &hp_resp_cases[i];
		size_t len = strlen(c->raw);
		struct http_response resp;
		int r = http_parse_response(c->raw, len, &hp_limits, c->method, &resp);
		if (c->ok) {
			if (r != (int)len)
				fprintf(stderr, "  response case %zu -> %d (%s)\n", i, r,
					resp.error_reason ? resp.error_reason : "");
			CHECK_EQ_INT(r, (int)len);
			CHECK_EQ_INT(resp.status, c->status);
			CHECK_EQ_INT(resp.body, c->body);
			CHECK_EQ_INT(resp.content_length, c->content_length);
			CHECK_EQ_INT(resp.keep_alive, c->keep_alive);
		} else {
			if (r != HTTP_ERROR)
				fprintf(stderr, "  response case %zu -> %d, want error\n", i, r);
			CHECK_EQ_INT(r, HTTP_ERROR);
			CHECK(resp.error_reason != NULL);
		}
	}
}

TEST(http_parser_response_fields_and_splits)
{
	const char *raw = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n"
			  "Content-Length: 2\r\n\r\nxx";
	size_t head = strlen(raw) - 2;
	struct http_response resp;

	CHECK_EQ_INT(http_parse_response(raw, strlen(raw), &hp_limits, HTTP_METHOD_GET, &resp),
		     (int)head);
	CHECK(slice_eq(resp.reason, SLICE_LIT("Service Unavailable")));
	CHECK_EQ_INT(resp.minor_version, 1);
	CHECK_EQ_INT(resp.header_count, 2);
	for (size_t k = 0; k < head; k++) {
		char *pre = malloc(k ? k : 1);
		REQUIRE(pre != NULL);
		memcpy(pre, raw, k);
		CHECK_EQ_INT(http_parse_response(pre, k, &hp_limits, HTTP_METHOD_GET, &resp),
			     HTTP_INCOMPLETE);
		free(pre);
	}
}

TEST(http_parser_response_limits)
{
	static char buf[2048];
	struct http_response resp;
	size_t n = (size_t)sprintf(buf, "HTTP/1.1 200 ");

	memset(buf + n, 'r', 400);
	CHECK_EQ_INT(http_parse_response(buf, n + 400, &hp_limits, HTTP_METHOD_GET, &resp),
		     HTTP_ERROR);
	n = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\nX: ");
	memset(buf + n, 'v', 1100);
	CHECK_EQ_INT(http_parse_response(buf, n + 1100, &hp_limits, HTTP_METHOD_GET, &resp),
		     HTTP_ERROR);
}

/* Header helpers */

TEST(http_parser_list_has_token)
{
	CHECK(http_list_has_token(SLICE_LIT("close"), "close"));
	CHECK(http_list_has_token(SLICE_LIT("Keep-Alive, Close"), "close"));
	CHECK(http_list_has_token(SLICE_LIT(" a ,\tclose\t"), "close"));
	CHECK(http_list_has_token(SLICE_LIT(",,close,"), "close"));
	CHECK(!http_list_has_token(SLICE_LIT("closed"), "close"));
	CHECK(!http_list_has_token(SLICE_LIT("xclose"), "close"));
	CHECK(!http_list_has_token(SLICE_LIT("close;x"), "close"));
	CHECK(!http_list_has_token(SLICE_LIT(""), "close"));
	CHECK(!http_list_has_token(SLICE_LIT("a, b"), ""));
}

TEST(http_parser_hop_by_hop)
{
	const struct http_header h[] = {
		{ SLICE_LIT("Connection"), SLICE_LIT("X-Secret, keep-alive") },
		{ SLICE_LIT("connection"), SLICE_LIT("Upgrade-Insecure") },
		{ SLICE_LIT("X-Secret"), SLICE_LIT("1") },
	};
	static const char *const fixed[] = {
		"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
		"transfer-encoding", "UPGRADE", "Proxy-Authenticate", "Proxy-Authorization",
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		CHECK(http_header_is_hop_by_hop(slice_from_cstr(fixed[i]), NULL, 0));
	CHECK(http_header_is_hop_by_hop(SLICE_LIT("x-secret"), h, 3));
	CHECK(http_header_is_hop_by_hop(SLICE_LIT("Upgrade-Insecure"), h, 3));
	CHECK(!http_header_is_hop_by_hop(SLICE_LIT("X-Secret"), NULL, 0));
	CHECK(!http_header_is_hop_by_hop(SLICE_LIT("Host"), h, 3));
	CHECK(!http_header_is_hop_by_hop(SLICE_LIT("Content-Length"), h, 3));
	CHECK(!http_header_is_hop_by_hop(SLICE_LIT("TE2"), h, 3));
	/* Names as long as a hop-by-hop one, and longer than any. */
	static const char *const others[] = {
		"Tk", "X-Trace", "Keep-Alivf", "Connectiom", "proxy-connectioN2", "Transfer-Encodinx",
		"Proxy-Authenticatf", "Proxy-Authorizatiom", "X-A-Name-Longer-Than-Thirty-Two-Bytes",
	};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		CHECK(!http_header_is_hop_by_hop(slice_from_cstr(others[i]), NULL, 0));
}

TEST(http_parser_connection_tokens)
{
	static const struct {
		const char *value;
		bool close, keep_alive;
	} cases[] = {
		{ "close", true, false },
		{ "Keep-Alive", false, true },
		{ " keep-alive ,\tCLOSE ", true, true },
		{ "Upgrade, keep-alive", false, true },
		{ "closed, keep-alive;x, xclose", false, false },
		{ "", false, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool close = false, keep_alive = false;
		http_connection_tokens(slice_from_cstr(cases[i].value), &close, &keep_alive);
		CHECK_EQ_INT(close, cases[i].close);
		CHECK_EQ_INT(keep_alive, cases[i].keep_alive);
	}
	/* Neither is cleared: several Connection fields add up. */
	bool close = true, keep_alive = false;
	http_connection_tokens(SLICE_LIT("keep-alive"), &close, &keep_alive);
	CHECK(close && keep_alive);
}

/* The gathered connection options answer as the headers do, also with more
 * options than the set holds. */
TEST(http_parser_conn_options_agree)
{
	const struct http_header few[] = {
		{ SLICE_LIT("Connection"), SLICE_LIT(" X-Secret ,, keep-alive") },
		{ SLICE_LIT("Host"), SLICE_LIT("a") },
		{ SLICE_LIT("CONNECTION"), SLICE_LIT("close") },
	};
	const struct http_header many[] = {
		{ SLICE_LIT("Connection"), SLICE_LIT("a1, a2, a3, a4, a5, a6, a7, a8, a9, a10") },
	};
	static const char *const names[] = {
		"x-secret", "Keep-Alive", "close", "Close", "Host", "a1", "a8", "a9", "A10", "a11",
		"TE", "X-Secre", "",
	};
	struct http_conn_options o;
	for (int set = 0; set < 2; set++) {
		const struct http_header *h = set ? many : few;
		size_t n = set ? 1 : 3;
		http_conn_options_init(&o, h, n);
		CHECK(o.many == (set == 1));
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			struct slice name = slice_from_cstr(names[i]);
			CHECK(http_hop_by_hop(name, &o) == http_header_is_hop_by_hop(name, h, n));
		}
	}
	http_conn_options_init(&o, few, 3);
	CHECK(http_hop_by_hop(SLICE_LIT("close"), &o));
	CHECK(!http_hop_by_hop(SLICE_LIT("Host"), &o));
	CHECK_EQ_INT(o.count, 3);
}

TEST(http_parser_status_reason)
{
	CHECK_STR(http_status_reason(200), "OK");
	CHECK_STR(http_status_reason(101), "Switching Protocols");
	CHECK_STR(http_status_reason(308), "Permanent Redirect");
	CHECK_STR(http_status_reason(400), "Bad Request");
	CHECK_STR(http_status_reason(414), "URI Too Long");
	CHECK_STR(http_status_reason(421), "Misdirected Request");
	CHECK_STR(http_status_reason(431), "Request Header Fields Too Large");
	CHECK_STR(http_status_reason(502), "Bad Gateway");
	CHECK_STR(http_status_reason(505), "HTTP Version Not Supported");
	CHECK_STR(http_status_reason(520), "Unknown Error");
	CHECK_STR(http_status_reason(521), "Web Server Is Down");
	CHECK_STR(http_status_reason(522), "Connection Timed Out");
	CHECK_STR(http_status_reason(523), "Origin Is Unreachable");
	CHECK_STR(http_status_reason(524), "A Timeout Occurred");
	CHECK_STR(http_status_reason(525), "SSL Handshake Failed");
	CHECK_STR(http_status_reason(526), "Invalid SSL Certificate");
	CHECK_STR(http_status_reason(599), "Unknown");
	CHECK_STR(http_status_reason(0), "Unknown");
}

/* Header names compare without case, for ASCII letters only. */
TEST(slice_eq_nocase_ascii_letters_only)
{
	CHECK(slice_eq_nocase(SLICE_LIT("Content-Length"), SLICE_LIT("content-LENGTH")));
	CHECK(slice_eq_nocase(SLICE_LIT(""), SLICE_LIT("")));
	CHECK(!slice_eq_nocase(SLICE_LIT("ab"), SLICE_LIT("abc")));
	CHECK(!slice_eq_nocase(SLICE_LIT("@"), SLICE_LIT("`")));   /* 0x40, 0x60 */
	CHECK(!slice_eq_nocase(SLICE_LIT("["), SLICE_LIT("{")));   /* 0x5b, 0x7b */
	CHECK(!slice_eq_nocase(SLICE_LIT("\xc1"), SLICE_LIT("\xe1")));
	CHECK(!slice_eq_nocase(SLICE_LIT("x-a"), SLICE_LIT("x\ra")));
	CHECK(slice_eq_nocase(SLICE_LIT("Z"), SLICE_LIT("z")));
	CHECK(!slice_eq_nocase(SLICE_LIT("z"), SLICE_LIT("Y")));
}
