/*
 * session_response: reads the upstream response head and writes the one the
 * client gets — hop-by-hop headers removed, framing chosen for this client
 * (chunked re-encoded for HTTP/1.1, close-delimited for HTTP/1.0).
 */
#include "core/log.h"
#include "core/metrics.h"
#include "proxy/session.h"

static const struct http_limits response_limits = {
	.request_line_max = 8192,
	.header_bytes_max = 32 * 1024,
	.header_count_max = HTTP_MAX_HEADERS,
};

static bool header_is_framing(struct slice name)
{
	return slice_eq_cstr_nocase(name, "content-length") ||
	       slice_eq_cstr_nocase(name, "transfer-encoding");
}

/* Writes the client's response head into cout. */
static bool write_client_head(struct proxy_session *s, bool out_chunked)
{
	const struct http_response *r = s->resp;
	struct buf *out = &s->cout;
	bool ok = buf_append(out, "HTTP/1.1 ", 9) && buf_append_u64(out, (unsigned)r->status) &&
		  buf_append(out, " ", 1) &&
		  (r->reason.len ? buf_append(out, r->reason.ptr, r->reason.len)
				 : buf_append_str(out, http_status_reason(r->status))) &&
		  buf_append(out, "\r\n", 2);
	struct http_conn_options conn;
	http_conn_options_init(&conn, r->headers, r->header_count);
	for (size_t i = 0; ok && i < r->header_count; i++) {
		const struct http_header *h = &r->headers[i];
		if (http_hop_by_hop(h->name, &conn))
			continue;
		/* Framing is ours, except a bodiless response's Content-Length,
		 * which describes the resource (HEAD, 304). */
		if (header_is_framing(h->name) &&
		    !(r->body == HTTP_BODY_NONE && slice_eq_cstr_nocase(h->name, "content-length")))
			continue;
		ok = buf_append_field(out, h->name.ptr, h->name.len, h->value.ptr, h->value.len);
	}
	if (ok && r->body == HTTP_BODY_LENGTH)
		ok = buf_append_field_u64(out, "Content-Length", r->content_length);
	if (ok && out_chunked)
		ok = buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	if (ok && s->pw->role->response_headers)
		ok = s->pw->role->response_headers(s, out);
	if (ok && s->close_after)
		ok = buf_append_str(out, "Connection: close\r\n");
	else if (ok && s->minor_version == 0)
		ok = buf_append_str(out, "Connection: keep-alive\r\n");
	return ok && buf_append(out, "\r\n", 2);
}

/* Returns 1 when the head was relayed, 0 when more bytes are needed (or cout
 * has no room yet), -1 when the session ended. */
int session_parse_response(struct proxy_session *s)
{
	static __thread struct http_response resp_scratch;
	s->resp = &resp_scratch;
	for (;;) {
		int r = http_parse_response(buf_rd(&s->uin), buf_len(&s->uin), &response_limits, s->method,
					    s->resp);
		if (r == HTTP_INCOMPLETE) {
			if (buf_space(&s->uin) == 0) {
				session_respond_error(s, 502, "upstream response head too large");
				return -1;
			}
			return 0;
		}
		if (r == HTTP_ERROR) {
			log_warn("%s: upstream %s: malformed response: %s", s->peer_text, s->pool->name,
				 s->resp->error_reason ? s->resp->error_reason : "?");
			session_respond_error(s, 502, "malformed upstream response");
			return -1;
		}
		if (s->resp->status == 101) {
			session_respond_error(s, 502, "upstream switched protocols");
			return -1;
		}
		session_log_mark(s, false);
		if (s->resp->status >= 100 && s->resp->status < 200) {
			/* Interim responses: we answered Expect ourselves. */
			buf_consume(&s->uin, (size_t)r);
			continue;
		}
		/* Room for the rewritten head: wait for cout to drain first. */
		if (buf_space(&s->cout) < (size_t)r + 512) {
			if (buf_len(&s->cout) == 0) {
				session_respond_error(s, 502, "upstream response head too large");
				return -1;
			}
			return 0;
		}
		if (s->pw->role->cache_response && s->pw->role->cache_response(s) == PROXY_SERVED) {
			/* Answered from the cache (a 304 revalidation, stale-if-error):
			 * the upstream response is dropped, and its connection with it
			 * when a body would follow. */
			s->status = s->resp->status;
			buf_consume(&s->uin, (size_t)r);
			s->resp_keep_upstream = s->resp->body == HTTP_BODY_NONE && s->resp->keep_alive;
			body_pump_init(&s->resp_body, HTTP_BODY_NONE, 0, false);
			s->resp_started = true;
			timer_disarm(s->pw->loop, &s->up->timer);
			if (!s->resp_keep_upstream) {
				upstream_release(s->up, false);
				s->up = NULL;
			}
			return 1;
		}
		s->resp_kind = s->resp->body;
		s->resp_length = s->resp->content_length;
		bool http10 = s->minor_version == 0;
		enum http_body_kind kind = s->resp->body;
		bool out_chunked = !http10 && (kind == HTTP_BODY_CHUNKED || kind == HTTP_BODY_CLOSE);
		if (http10 && (kind == HTTP_BODY_CHUNKED || kind == HTTP_BODY_CLOSE))
			s->close_after = true; /* the end of the body is the end of the connection */
		if (s->pw->draining)
			s->close_after = true;
		s->resp_keep_upstream = s->resp->keep_alive && kind != HTTP_BODY_CLOSE;
		if (!write_client_head(s, out_chunked)) {
			session_respond_error(s, 502, "upstream response head too large");
			return -1;
		}
		s->status = s->resp->status;
		proxy_session_count_status(s, s->status);
		buf_consume(&s->uin, (size_t)r);
		body_pump_init(&s->resp_body, kind, s->resp->content_length, out_chunked);
		s->resp_body.tee = s->tee;
		s->resp_body.tee_arg = s->tee_arg;
		s->resp_relaying = true;
		s->resp_started = true;
		timer_disarm(s->pw->loop, &s->up->timer);
		return 1;
	}
}
