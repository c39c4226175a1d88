/*
 * http_response: parses a response head from an origin (RFC 9112 section 4)
 * and decides how its body is framed (section 6.3). A response whose framing
 * could be read two ways is refused rather than guessed at: the connection it
 * came on could not be reused safely anyway.
 */
#include <string.h>

#include "http/http_internal.h"

/* HTTP-version SP 3DIGIT SP reason-phrase. A missing SP before an empty
 * reason is accepted: common, and it cannot change the framing. */
static int parse_status_line(const char *p, size_t n, struct http_response *resp,
			     struct http_fail *f)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return http_fail_set(f, 502, "malformed status line");
	resp->minor_version = p[7] - '0';
	for (int i = 9; i < 12; i++) {
		if (!http_cc_is((unsigned char)p[i], HTTP_CC_DIGIT))
			return http_fail_set(f, 502, "malformed status code");
	}
	resp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (resp->status < 100 || resp->status > 599)
		return http_fail_set(f, 502, "status code out of range");
	if (n == 12) {
		resp->reason = slice_make(p + 12, 0);
		return 0;
	}
	if (p[12] != ' ')
		return http_fail_set(f, 502, "malformed status line");
	for (size_t i = 13; i < n; i++) {
		if (!http_cc_is((unsigned char)p[i], HTTP_CC_FIELD))
			return http_fail_set(f, 502, "control character in reason phrase");
	}
	resp->reason = slice_make(p + 13, n - 13);
	return 0;
}

struct response_fields {
	const struct http_header *cl, *te;
	size_t n_cl, n_te;
	bool conn_close, conn_keep_alive;
};

static void collect_fields(const struct http_response *resp, struct response_fields *rf)
{
	memset(rf, 0, sizeof *rf);
	for (size_t i = 0; i < resp->header_count; i++) {
		const struct http_header *h = &resp->headers[i];
		if (slice_eq_cstr_nocase(h->name, "content-length")) {
			rf->cl = h;
			rf->n_cl++;
		} else if (slice_eq_cstr_nocase(h->name, "transfer-encoding")) {
			rf->te = h;
			rf->n_te++;
		} else if (slice_eq_cstr_nocase(h->name, "connection")) {
			http_connection_tokens(h->value, &rf->conn_close, &rf->conn_keep_alive);
		}
	}
}

/* The framing fields are checked even where the status says there is no
 * body: an origin that sends contradictory ones is not one to trust with a
 * reused connection. Content-Length: 0 gives HTTP_BODY_NONE. */
static int decide_framing(struct http_response *resp, enum http_method method,
			  const struct response_fields *rf, struct http_fail *f)
{
	int s = resp->status;

	if (rf->n_te > 1)
		return http_fail_set(f, 502, "multiple Transfer-Encoding fields");
	if (rf->n_cl > 1)
		return http_fail_set(f, 502, "multiple Content-Length fields");
	if (rf->te && rf->cl)
		return http_fail_set(f, 502, "Transfer-Encoding with Content-Length");
	if (rf->te && resp->minor_version == 0)
		return http_fail_set(f, 502, "Transfer-Encoding in HTTP/1.0");
	if (rf->te && http_te_classify(rf->te->value) != HTTP_TE_CHUNKED)
		return http_fail_set(f, 502, "unsupported transfer coding");
	if (rf->cl && !http_content_length_parse(rf->cl->value, &resp->content_length))
		return http_fail_set(f, 502, "malformed Content-Length");
	if (method == HTTP_METHOD_CONNECT && s >= 200 && s < 300)
		return http_fail_set(f, 502, "tunnel responses are not supported");

	if (method == HTTP_METHOD_HEAD || s < 200 || s == 204 || s == 304)
		resp->body = HTTP_BODY_NONE;
	else if (rf->te)
		resp->body = HTTP_BODY_CHUNKED;
	else if (rf->cl)
		resp->body = resp->content_length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	else
		resp->body = HTTP_BODY_CLOSE;
	return 0;
}

static void response_reset(struct http_response *resp)
{
	resp->status = 0;
	resp->reason = slice_make(NULL, 0);
	resp->minor_version = 0;
	resp->header_count = 0;
	resp->body = HTTP_BODY_NONE;
	resp->content_length = 0;
	resp->keep_alive = false;
	resp->error_reason = NULL;
}

int http_parse_response(const char *buf, size_t len, const struct http_limits *lim,
			enum http_method request_method, struct http_response *resp)
{
	struct http_fail f = { 0, NULL };
	struct response_fields rf;
	size_t line_end = 0;
	int r;

	response_reset(resp);
	r = http_head_scan(buf, len, 0, lim, 502, &line_end, &f);
	if (r <= 0)
		goto out;
	if (parse_status_line(buf, line_end, resp, &f) != 0 ||
	    http_parse_fields(buf, line_end + 2, (size_t)r, resp->headers, http_fields_max(lim),
			      &resp->header_count, &f) != 0) {
		r = HTTP_ERROR;
		goto out;
	}
	collect_fields(resp, &rf);
	if (decide_framing(resp, request_method, &rf, &f) != 0) {
		r = HTTP_ERROR;
		goto out;
	}
	if (resp->minor_version == 1)
		resp->keep_alive = !rf.conn_close;
	else
		resp->keep_alive = rf.conn_keep_alive && !rf.conn_close;
	if (resp->body == HTTP_BODY_CLOSE)
		resp->keep_alive = false;
out:
	if (r == HTTP_ERROR)
		resp->error_reason = f.reason;
	return r;
}
