/*
 * http_request: parses a request head (RFC 9112 sections 2-3 and 6) and
 * derives what a proxy needs from it: method, target, Host, body framing,
 * keep-alive and Expect. Checks run in the order syntax, version, method,
 * target, Host, framing, Expect, so the status answered is the first problem
 * a reader of the message would meet.
 */
#include <string.h>

#include "http/http_internal.h"

static const struct {
	const char *name;
	size_t len;
	enum http_method method;
} known_methods[] = {
	{ "GET", 3, HTTP_METHOD_GET },         { "HEAD", 4, HTTP_METHOD_HEAD },
	{ "POST", 4, HTTP_METHOD_POST },       { "PUT", 3, HTTP_METHOD_PUT },
	{ "DELETE", 6, HTTP_METHOD_DELETE },   { "OPTIONS", 7, HTTP_METHOD_OPTIONS },
	{ "PATCH", 5, HTTP_METHOD_PATCH },     { "TRACE", 5, HTTP_METHOD_TRACE },
	{ "CONNECT", 7, HTTP_METHOD_CONNECT },
};

/* Method names are case-sensitive (RFC 9110 section 9.1). */
static bool method_lookup(struct slice name, enum http_method *out)
{
	for (size_t i = 0; i < sizeof known_methods / sizeof known_methods[0]; i++) {
		if (name.len == known_methods[i].len &&
		    memcmp(name.ptr, known_methods[i].name, name.len) == 0) {
			*out = known_methods[i].method;
			return true;
		}
	}
	return false;
}

/* "HTTP/1.1" and "HTTP/1.0" are served; any other HTTP/D.D is 505. */
static int parse_version(const char *p, size_t n, int *minor, struct http_fail *f)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    !http_cc_is((unsigned char)p[5], HTTP_CC_DIGIT) ||
	    !http_cc_is((unsigned char)p[7], HTTP_CC_DIGIT))
		return http_fail_set(f, 400, "malformed HTTP version");
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return http_fail_set(f, 505, "unsupported HTTP version");
	*minor = p[7] - '0';
	return 0;
}

/* method SP request-target SP HTTP-version, in buf[0..n) (CRLF excluded). */
static int parse_request_line(const char *buf, size_t n, struct http_request *req,
			      struct http_fail *f)
{
	size_t i = 0;

	while (i < n && http_cc_is((unsigned char)buf[i], HTTP_CC_TCHAR))
		i++;
	if (i == 0 || i == n || buf[i] != ' ')
		return http_fail_set(f, 400, "malformed method");
	req->method_name = slice_make(buf, i);

	size_t t = ++i;
	while (i < n && http_cc_is((unsigned char)buf[i], HTTP_CC_VCHAR))
		i++;
	if (i == t || i == n || buf[i] != ' ')
		return http_fail_set(f, 400, "malformed request target");
	req->target = slice_make(buf + t, i - t);

	i++;
	return parse_version(buf + i, n - i, &req->minor_version, f);
}

/* The authority of an absolute-form target: up to the path, query or end. */
static struct slice target_authority(struct slice rest)
{
	size_t i = 0;

	while (i < rest.len && rest.ptr[i] != '/' && rest.ptr[i] != '?' && rest.ptr[i] != '#')
		i++;
	return slice_make(rest.ptr, i);
}

static bool has_prefix_nocase(struct slice s, const char *prefix, size_t n)
{
	return s.len >= n && strncasecmp(s.ptr, prefix, n) == 0;
}

/* origin-form, absolute-form (http/https) or "*" for OPTIONS. CONNECT's
 * authority-form never gets here: the method is refused first. */
static int check_target(const struct http_request *req, struct http_fail *f)
{
	struct slice t = req->target, rest;

	if (t.ptr[0] == '/')
		return 0;
	if (t.len == 1 && t.ptr[0] == '*') {
		if (req->method != HTTP_METHOD_OPTIONS)
			return http_fail_set(f, 400, "asterisk target without OPTIONS");
		return 0;
	}
	if (has_prefix_nocase(t, "http://", 7))
		rest = slice_make(t.ptr + 7, t.len - 7);
	else if (has_prefix_nocase(t, "https://", 8))
		rest = slice_make(t.ptr + 8, t.len - 8);
	else
		return http_fail_set(f, 400, "invalid request target form");
	/* Userinfo is refused with the rest of what is not a host (RFC 9110 4.2.4). */
	if (!http_host_is_valid(target_authority(rest)))
		return http_fail_set(f, 400, "invalid authority in request target");
	return 0;
}

struct request_fields {
	const struct http_header *cl, *te, *host;
	size_t n_cl, n_te, n_host;
	bool conn_close, conn_keep_alive, expect_continue, expect_other;
};

static void collect_fields(const struct http_request *req, struct request_fields *rf)
{
	memset(rf, 0, sizeof *rf);
	for (size_t i = 0; i < req->header_count; i++) {
		const struct http_header *h = &req->headers[i];
		if (slice_eq_cstr_nocase(h->name, "content-length")) {
			rf->cl = h;
			rf->n_cl++;
		} else if (slice_eq_cstr_nocase(h->name, "transfer-encoding")) {
			rf->te = h;
			rf->n_te++;
		} else if (slice_eq_cstr_nocase(h->name, "host")) {
			rf->host = h;
			rf->n_host++;
		} else if (slice_eq_cstr_nocase(h->name, "connection")) {
			http_connection_tokens(h->value, &rf->conn_close, &rf->conn_keep_alive);
		} else if (slice_eq_cstr_nocase(h->name, "expect")) {
			if (slice_eq_cstr_nocase(h->value, "100-continue"))
				rf->expect_continue = true;
			else
				rf->expect_other = true;
		}
	}
}

static int check_host(struct http_request *req, const struct request_fields *rf,
		      struct http_fail *f)
{
	if (rf->n_host > 1)
		return http_fail_set(f, 400, "multiple Host fields");
	if (rf->n_host == 0) {
		if (req->minor_version == 1)
			return http_fail_set(f, 400, "missing Host");
		return 0;
	}
	if (!http_host_is_valid(rf->host->value))
		return http_fail_set(f, 400, "invalid Host");
	req->host = rf->host->value;
	return 0;
}

/* RFC 9112 section 6: one unambiguous framing or an error. Content-Length: 0
 * gives HTTP_BODY_NONE, so LENGTH always means at least one byte. */
static int check_framing(struct http_request *req, const struct request_fields *rf,
			 struct http_fail *f)
{
	if (rf->n_te > 1)
		return http_fail_set(f, 400, "multiple Transfer-Encoding fields");
	if (rf->n_cl > 1)
		return http_fail_set(f, 400, "multiple Content-Length fields");
	if (rf->te && rf->cl)
		return http_fail_set(f, 400, "Transfer-Encoding with Content-Length");
	if (rf->te) {
		if (req->minor_version == 0)
			return http_fail_set(f, 400, "Transfer-Encoding in HTTP/1.0");
		switch (http_te_classify(rf->te->value)) {
		case HTTP_TE_CHUNKED:
			req->body = HTTP_BODY_CHUNKED;
			return 0;
		case HTTP_TE_OTHER:
			return http_fail_set(f, 501, "unsupported transfer coding");
		default:
			return http_fail_set(f, 400, "malformed Transfer-Encoding");
		}
	}
	if (rf->cl) {
		if (!http_content_length_parse(rf->cl->value, &req->content_length))
			return http_fail_set(f, 400, "malformed Content-Length");
		req->body = req->content_length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	}
	return 0;
}

static void request_reset(struct http_request *req)
{
	req->method = HTTP_METHOD_GET;
	req->method_name = slice_make(NULL, 0);
	req->target = slice_make(NULL, 0);
	req->minor_version = 0;
	req->header_count = 0;
	req->body = HTTP_BODY_NONE;
	req->content_length = 0;
	req->keep_alive = false;
	req->expect_continue = false;
	req->host = slice_make(NULL, 0);
	req->error_status = 0;
	req->error_reason = NULL;
}

static int parse_complete_head(const char *buf, size_t start, size_t line_end, size_t head_end,
			       const struct http_limits *lim, struct http_request *req,
			       struct http_fail *f)
{
	struct request_fields rf;

	if (parse_request_line(buf + start, line_end - start, req, f) != 0)
		return HTTP_ERROR;
	if (http_parse_fields(buf, line_end + 2, head_end, req->headers, http_fields_max(lim),
			      &req->header_count, f) != 0)
		return HTTP_ERROR;
	if (!method_lookup(req->method_name, &req->method) ||
	    req->method == HTTP_METHOD_TRACE || req->method == HTTP_METHOD_CONNECT)
		return http_fail_set(f, 501, "method not implemented");
	if (check_target(req, f) != 0)
		return HTTP_ERROR;
	collect_fields(req, &rf);
	if (check_host(req, &rf, f) != 0 || check_framing(req, &rf, f) != 0)
		return HTTP_ERROR;
	if (rf.expect_other)
		return http_fail_set(f, 417, "unsupported expectation");
	/* An HTTP/1.0 server must ignore 100-continue (RFC 9110 section 10.1.1). */
	req->expect_continue = rf.expect_continue && req->minor_version == 1;
	if (req->minor_version == 1)
		req->keep_alive = !rf.conn_close;
	else
		req->keep_alive = rf.conn_keep_alive && !rf.conn_close;
	return (int)head_end;
}

int http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
		       struct http_request *req)
{
	struct http_fail f = { 0, NULL };
	size_t start = 0, line_end = 0;
	int r;

	request_reset(req);
	/* Empty lines before the request line are ignored (RFC 9112 section 2.2)
	 * and count in the head's length and its limit. */
	while (start + 1 < len && buf[start] == '\r' && buf[start + 1] == '\n')
		start += 2;
	/* A last lone CR may be half of another empty line: wait for its LF
	 * rather than judge it as the start of a request line. */
	if (start + 1 == len && buf[start] == '\r' && len < lim->header_bytes_max)
		return HTTP_INCOMPLETE;
	r = http_head_scan(buf, len, start, lim, 414, &line_end, &f);
	if (r > 0)
		r = parse_complete_head(buf, start, line_end, (size_t)r, lim, req, &f);
	if (r == HTTP_ERROR) {
		req->error_status = f.status;
		req->error_reason = f.reason;
	}
	return r;
}
