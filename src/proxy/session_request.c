/*
 * session_request: turns a parsed client request into the head sent
 * upstream — hop-by-hop and role-reserved headers removed, framing rewritten
 * by us, Via and X-Forwarded-* added — and starts forwarding it.
 */
#include <string.h>

#include "core/log.h"
#include "proxy/session.h"

static bool method_is_idempotent(enum http_method m)
{
	return m == HTTP_METHOD_GET || m == HTTP_METHOD_HEAD || m == HTTP_METHOD_OPTIONS;
}

/* Headers we always write ourselves, whatever the client sent. */
static bool header_is_replaced(struct slice name)
{
	static const char *const names[] = {
		"content-length", "x-forwarded-proto", "expect", "host",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (slice_eq_cstr_nocase(name, names[i]))
			return true;
	return false;
}

/* For absolute-form targets: the origin-form path, and the authority, which
 * must agree with Host. Returns false when they disagree. */
static bool target_to_origin_form(struct slice target, struct slice host, struct slice *path)
{
	*path = target;
	if (target.len == 0 || target.ptr[0] == '/' || (target.len == 1 && target.ptr[0] == '*'))
		return true;
	const char *p = memchr(target.ptr, ':', target.len);
	if (!p || (size_t)(target.ptr + target.len - p) < 3 || p[1] != '/' || p[2] != '/')
		return false;
	const char *auth = p + 3;
	const char *end = target.ptr + target.len;
	const char *slash = memchr(auth, '/', (size_t)(end - auth));
	const char *q = memchr(auth, '?', (size_t)(end - auth));
	if (q && (!slash || q < slash))
		slash = q;
	struct slice authority = slice_make(auth, (size_t)((slash ? slash : end) - auth));
	if (!slice_eq_nocase(authority, host))
		return false;
	*path = slash ? slice_make(slash, (size_t)(end - slash)) : SLICE_LIT("/");
	return true;
}

bool session_forward_head(struct proxy_session *s, size_t head_len)
{
	const struct http_request *req = s->req;
	struct buf *out = &s->uout;
	struct slice path;
	if (!target_to_origin_form(req->target, req->host, &path))
		return session_respond_error(s, 400, "absolute target does not match Host") && false;
	bool ok = buf_append(out, req->method_name.ptr, req->method_name.len) &&
		  buf_append(out, " ", 1) &&
		  buf_append(out, path.ptr, path.len) && buf_append_str(out, " HTTP/1.1\r\n");
	if (req->host.len)
		ok = ok && buf_append_str(out, "Host: ") && buf_append(out, req->host.ptr, req->host.len) &&
		     buf_append(out, "\r\n", 2);
	struct http_conn_options conn;
	http_conn_options_init(&conn, req->headers, req->header_count);
	for (size_t i = 0; ok && i < req->header_count; i++) {
		const struct http_header *h = &req->headers[i];
		if (http_hop_by_hop(h->name, &conn) ||
		    header_is_replaced(h->name))
			continue;
		if (s->pw->role->drop_header && s->pw->role->drop_header(s, h->name))
			continue;
		if (slice_eq_cstr_nocase(h->name, "x-forwarded-for"))
			continue; /* written once below */
		ok = buf_append_field(out, h->name.ptr, h->name.len, h->value.ptr, h->value.len);
	}
	/* The chain the client reported (over any number of lines), then it. */
	ok = ok && buf_append_str(out, "X-Forwarded-For: ");
	for (size_t i = 0; ok && i < req->header_count; i++) {
		const struct http_header *h = &req->headers[i];
		if (slice_eq_cstr_nocase(h->name, "x-forwarded-for") && h->value.len)
			ok = buf_append(out, h->value.ptr, h->value.len) && buf_append(out, ", ", 2);
	}
	ok = ok && buf_append_str(out, s->peer_ip) && buf_append(out, "\r\n", 2);
	if (ok && s->scheme)
		ok = buf_append_field_str(out, "X-Forwarded-Proto", s->scheme);
	if (ok && s->pw->via)
		ok = buf_append_field_str(out, "Via", s->pw->via);
	if (ok && req->body == HTTP_BODY_CHUNKED)
		ok = buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	else if (ok && (req->body == HTTP_BODY_LENGTH ||
			http_find_header(req->headers, req->header_count, "content-length")))
		ok = buf_append_field_u64(out, "Content-Length",
					  req->body == HTTP_BODY_LENGTH ? req->content_length : 0);
	if (ok && s->pw->role->add_headers)
		ok = s->pw->role->add_headers(s, out);
	ok = ok && buf_append(out, "\r\n", 2);
	if (!ok)
		return session_respond_error(s, 431, "forwarded head too large") && false;
	(void)head_len;
	return true;
}

int session_start_request(struct proxy_session *s, size_t head_len)
{
	const struct http_request *req = s->req;
	const struct proxy_limits *lim = s->pw->limits;
	s->method = req->method;
	s->minor_version = req->minor_version;
	s->client_keep_alive = req->keep_alive;
	if (!req->keep_alive)
		s->close_after = true; /* and say so in the response */
	s->req_idempotent = method_is_idempotent(req->method) && req->body == HTTP_BODY_NONE;
	s->req_sent = false;
	s->retried = false;
	s->resp_started = false;
	s->resp_done = false;
	s->resp_keep_upstream = false;

	session_log_begin(s, req);
	int status = s->pw->role->check_request ? s->pw->role->check_request(s, req) : 0;
	if (status)
		return session_respond_error(s, status, status < 400 ? "redirect" : "refused by policy") ? 0 : -1;
	if (lim->body_max && req->body == HTTP_BODY_LENGTH && req->content_length > lim->body_max)
		return session_respond_error(s, 413, "request body too large") ? 0 : -1;

	if (!buf_ensure(&s->uout, SESSION_IO_BUF + lim->http.header_bytes_max + 4096) ||
	    !buf_ensure(&s->cout, SESSION_OUT_BUF + 2048)) {
		proxy_session_close(s, "out of memory");
		return -1;
	}
	s->pool = s->pw->role->select_pool ? s->pw->role->select_pool(s, req) : s->pw->pool;
	if (!s->pool)
		return session_respond_error(s, 502, "no upstream for this request") ? 0 : -1;
	s->tee = NULL;
	s->tee_arg = NULL;
	int cached = s->pw->role->cache_request ? s->pw->role->cache_request(s, req, head_len) : 0;
	if (cached == PROXY_WAIT) {
		/* The head stays in cin; proxy_session_resume parses it again. */
		s->phase = SESSION_WAIT;
		timer_arm(s->pw->loop, &s->timer, lim->wait_ms ? lim->wait_ms : 1);
		return 0;
	}
	if (cached == PROXY_SERVED) {
		if (req->body != HTTP_BODY_NONE)
			s->close_after = true; /* its body is not read */
		buf_consume(&s->cin, head_len);
		body_pump_init(&s->req_body, HTTP_BODY_NONE, 0, false);
		s->req_sent = true;
		body_pump_init(&s->resp_body, HTTP_BODY_NONE, 0, false);
		s->resp_started = true;
		s->phase = SESSION_FORWARD;
		timer_arm(s->pw->loop, &s->timer, lim->body_ms);
		return 0;
	}
	buf_reset(&s->uout);
	if (!session_forward_head(s, head_len))
		return 0;
	if (s->req_idempotent) {
		/* A fixed size for the common head, so that the worker's buffer
		 * cache can hand the same block back for every request. */
		size_t need = buf_len(&s->uout);
		buf_free(&s->retry_head);
		if (buf_ensure(&s->retry_head, need <= RETRY_HEAD_BUF ? RETRY_HEAD_BUF : need))
			buf_append(&s->retry_head, buf_rd(&s->uout), need);
	}
	body_pump_init(&s->req_body, req->body, req->content_length, req->body == HTTP_BODY_CHUNKED);
	bool expect = req->expect_continue && req->body != HTTP_BODY_NONE;
	buf_consume(&s->cin, head_len); /* req's slices are dead from here on */
	if (expect && !buf_append_str(&s->cout, "HTTP/1.1 100 Continue\r\n\r\n")) {
		proxy_session_close(s, "out of memory");
		return -1;
	}
	s->phase = SESSION_FORWARD;
	timer_arm(s->pw->loop, &s->timer, lim->body_ms);
	return session_acquire_upstream(s) ? 0 : -1;
}
