/*
 * session: the connection state machine (see session.h). session_run moves
 * bytes until nothing can move; every stop waits for an event edge or a
 * timer, because each place that stops reading for another reason (a full
 * buffer, a phase that does not read) is retried within the same run when
 * that reason goes away.
 */
#include "proxy/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/net.h"

#define SESSION_LINGER_MS 2000

static void session_timer_fired(struct timer *t);
static void session_free_task(struct task *t);

static void session_io(struct io_watch *w, unsigned events)
{
	struct proxy_session *s = w->data;
	transport_note_events(&s->client, events);
	session_run(s);
}

static void session_run_task(struct task *t)
{
	session_run(t->data);
}

struct proxy_session *proxy_session_start(struct proxy_worker *pw, struct transport *t,
					  const struct sockaddr_storage *peer)
{
	struct proxy_session *s = calloc(1, sizeof *s);
	if (!s) {
		transport_close(t);
		return NULL;
	}
	s->pw = pw;
	s->scheme = pw->forwarded_proto;
	s->client = *t;
	net_addr_format(peer, s->peer_text, sizeof s->peer_text);
	net_addr_ip(peer, s->peer_ip, sizeof s->peer_ip);
	timer_init(&s->timer, session_timer_fired, s);
	task_init(&s->run_task, session_run_task, s);
	task_init(&s->free_task, session_free_task, s);
	if (loop_watch(pw->loop, &s->watch, s->client.fd, session_io, s) < 0) {
		transport_close(&s->client);
		free(s);
		return NULL;
	}
	s->next = pw->sessions;
	if (pw->sessions)
		pw->sessions->prev = s;
	pw->sessions = s;
	pw->active++;
	METRIC_INC(pw->stats->connections);
	METRIC_INC(pw->stats->active);
	s->phase = SESSION_HANDSHAKE;
	timer_arm(pw->loop, &s->timer, pw->limits->handshake_ms);
	/* Nothing is read before the first edge: a socket added to the epoll
	 * set with its hello already in reports it at the next wait, and one
	 * without is not read in vain. */
	s->client.writable = true;
	return s;
}

static void session_free_task(struct task *t)
{
	free(t->data);
}

void proxy_session_count_status(struct proxy_session *s, int status)
{
	METRIC_INC(s->pw->stats->responses[status >= 100 && status < 600 ? status / 100 : 0]);
	if (s->pw->role->count_status)
		s->pw->role->count_status(s, status);
}

/* Idle: open, between requests (or before the first), nothing of a head read. */
static void session_set_idle(struct proxy_session *s, bool idle)
{
	if (s->idle == idle)
		return;
	s->idle = idle;
	if (idle)
		METRIC_INC(s->pw->stats->idle);
	else
		__atomic_fetch_sub(&s->pw->stats->idle, 1, __ATOMIC_RELAXED);
}

void session_serve_release(struct proxy_session *s)
{
	if (!s->serving)
		return;
	s->serving = false;
	if (s->serve_release)
		s->serve_release(s->serve_arg);
	s->serve_ptr = NULL;
	s->serve_release = NULL;
}

void proxy_session_serve(struct proxy_session *s, const char *body, size_t len,
			 void (*release)(void *arg), void *arg)
{
	session_serve_release(s);
	s->serve_ptr = body;
	s->serve_len = len;
	s->serve_off = 0;
	s->serve_release = release;
	s->serve_arg = arg;
	s->serving = true;
}

void proxy_session_resume(struct proxy_session *s)
{
	if (s->phase != SESSION_WAIT)
		return;
	s->phase = SESSION_HEAD;
	timer_arm(s->pw->loop, &s->timer, s->pw->limits->header_ms);
	task_defer(s->pw->loop, &s->run_task);
}

/* Copies a memory response body into cout. */
static bool session_serve_pump(struct proxy_session *s)
{
	size_t n = s->serve_len - s->serve_off;
	size_t room = buf_space(&s->cout);
	if (n > room)
		n = room;
	if (n == 0)
		return false;
	buf_append(&s->cout, s->serve_ptr + s->serve_off, n);
	s->serve_off += n;
	return true;
}

void proxy_session_close(struct proxy_session *s, const char *reason)
{
	if (s->phase == SESSION_CLOSED)
		return;
	struct proxy_worker *pw = s->pw;
	s->phase = SESSION_CLOSED;
	s->close_reason = reason;
	session_set_idle(s, false);
	log_debug("%s: closed: %s", s->peer_text, reason);
	loop_unwatch_closing(&s->watch); /* transport_close below closes the socket */
	timer_disarm(pw->loop, &s->timer);
	task_cancel(pw->loop, &s->run_task);
	if (s->up) {
		upstream_release(s->up, false);
		s->up = NULL;
	}
	transport_close(&s->client);
	buf_free(&s->cin);
	buf_free(&s->cout);
	buf_free(&s->uin);
	buf_free(&s->uout);
	buf_free(&s->retry_head);
	free(s->location);
	s->location = NULL;
	if (session_log_pending(s))
		session_log_end(s, s->resp_started ? s->status : 499,
				s->serving ? s->serve_off : s->resp_body.moved, reason);
	session_log_free(s);
	if (s->resp_relaying && pw->role->cache_response_done) {
		s->resp_relaying = false;
		pw->role->cache_response_done(s, false);
	}
	session_serve_release(s);
	if (pw->role->on_close)
		pw->role->on_close(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		pw->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pw->active--;
	__atomic_fetch_sub(&pw->stats->active, 1, __ATOMIC_RELAXED);
	/* Events of this iteration may still name the session. */
	task_defer(pw->loop, &s->free_task);
	if ((pw->draining || pw->retired) && pw->active == 0 && pw->on_idle)
		pw->on_idle(pw);
}

/* Sends close_notify and FIN, then reads what the client still sends for a
 * moment: closing with unread bytes would reset the connection and could
 * destroy the response we just wrote. */
static void session_begin_linger(struct proxy_session *s, bool tls_ok)
{
	if (tls_ok)
		transport_shutdown(&s->client);
	shutdown(s->client.fd, SHUT_WR);
	s->phase = SESSION_LINGER;
	timer_arm(s->pw->loop, &s->timer, tls_ok ? SESSION_LINGER_MS : SESSION_LINGER_MS / 2);
}

/* Whether the client has sent all it is going to before our close: its
 * request read whole, nothing after it, no edge unread. Then closing at
 * once resets nothing (as nginx's lingering_close on decides), and saves
 * waiting for its close_notify and FIN. */
static bool session_client_done_sending(struct proxy_session *s)
{
	return s->req_body.input_done && buf_len(&s->cin) == 0 && !s->client.readable &&
	       !transport_has_pending(&s->client);
}

static bool session_linger_read(struct proxy_session *s)
{
	char scratch[4096];
	for (;;) {
		ssize_t n = recv(s->client.fd, scratch, sizeof scratch, 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		proxy_session_close(s, s->close_reason ? s->close_reason : "done");
		return true;
	}
}

/* A connection idle between requests closes now: a request that crosses
 * the close is one its client sends again, as HTTP clients do on a kept-
 * alive connection. One that has not had its first request yet is a
 * client that has just connected and is sending it: that request is
 * answered, with Connection: close (the header timeout still bounds a
 * client that sends nothing). */
void proxy_session_drain(struct proxy_session *s)
{
	if (s->phase == SESSION_HEAD && buf_len(&s->cin) == 0 && s->requests > 0) {
		proxy_session_close(s, "shutting down");
		return;
	}
	s->close_after = true;
}

/* Reads from the client when there is room. Returns true on progress. */
static bool client_read(struct proxy_session *s)
{
	const struct proxy_limits *lim = s->pw->limits;
	size_t cap = lim->http.header_bytes_max + 1024;
	if (cap < SESSION_IO_BUF)
		cap = SESSION_IO_BUF;
	bool progress = false;
	if (!s->cin.data) {
		/* An idle connection holds no buffer: the first bytes of its
		 * next request land in the worker's scratch, and only bytes get
		 * one. A read that finds nothing allocates nothing. */
		static __thread char scratch[SESSION_IO_BUF];
		if (!transport_can_read(&s->client) || s->client.eof)
			return false;
		ssize_t n = transport_read(&s->client, scratch, sizeof scratch);
		if (n == TRANSPORT_AGAIN)
			return false;
		if (n < 0) {
			proxy_session_close(s, "client read error");
			return false;
		}
		if (n == 0)
			return true; /* eof noted; callers decide */
		if (!buf_ensure(&s->cin, cap) || !buf_append(&s->cin, scratch, (size_t)n)) {
			proxy_session_close(s, "out of memory");
			return false;
		}
		progress = true;
	}
	while (buf_space(&s->cin) && transport_can_read(&s->client) && !s->client.eof) {
		if (buf_tail(&s->cin) < 1024 || buf_tail(&s->cin) < buf_space(&s->cin) / 2)
			buf_compact(&s->cin);
		ssize_t n = transport_read(&s->client, buf_wr(&s->cin), buf_tail(&s->cin));
		if (n > 0) {
			buf_commit(&s->cin, (size_t)n);
			progress = true;
			continue;
		}
		if (n == 0)
			return true; /* eof noted; callers decide */
		if (n == TRANSPORT_AGAIN)
			break;
		proxy_session_close(s, "client read error");
		return false;
	}
	return progress;
}

/* Writes what the client will take. Returns true on progress. */
static bool client_write(struct proxy_session *s)
{
	bool progress = false;
	while ((buf_len(&s->cout) || transport_unsent(&s->client)) && transport_can_write(&s->client)) {
		if (!buf_len(&s->cout)) {
			/* All of cout was taken; the socket still owes some of it. */
			int r = transport_flush(&s->client);
			if (r == 1) {
				progress = true;
				break;
			}
			if (r == TRANSPORT_AGAIN)
				break;
			proxy_session_close(s, "client write error");
			return false;
		}
		ssize_t n = transport_write(&s->client, buf_rd(&s->cout), buf_len(&s->cout));
		if (n > 0) {
			buf_consume(&s->cout, (size_t)n);
			progress = true;
			if (buf_len(&s->cout) == 0 && s->phase == SESSION_HEAD)
				buf_free(&s->cout); /* written out between requests */
			continue;
		}
		if (n == TRANSPORT_AGAIN)
			break;
		proxy_session_close(s, "client write error");
		return false;
	}
	return progress;
}

bool session_respond_error(struct proxy_session *s, int status, const char *reason)
{
	const char *phrase = http_status_reason(status);
	char body[160];
	int blen = snprintf(body, sizeof body, "%d %s\n", status, phrase);
	if (!buf_ensure(&s->cout, SESSION_OUT_BUF + 2048)) {
		proxy_session_close(s, "out of memory");
		return false;
	}
	bool ok = buf_printf(&s->cout, "HTTP/1.1 %d %s\r\n", status, phrase);
	if (ok && s->location)
		ok = buf_append_field_str(&s->cout, "Location", s->location);
	free(s->location);
	s->location = NULL;
	if (ok && s->pw->role->response_headers)
		ok = s->pw->role->response_headers(s, &s->cout);
	if (!ok || !buf_printf(&s->cout,
			       "Content-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			       blen, s->method == HTTP_METHOD_HEAD ? "" : body)) {
		proxy_session_close(s, reason);
		return false;
	}
	log_info("%s: %d %s (%s)", s->peer_text, status, phrase, reason);
	session_log_end(s, status, s->method == HTTP_METHOD_HEAD ? 0 : (uint64_t)blen, reason);
	s->close_reason = reason;
	s->close_after = true;
	if (s->up) {
		upstream_release(s->up, false);
		s->up = NULL;
	}
	s->status = status;
	proxy_session_count_status(s, status);
	s->phase = SESSION_FLUSH;
	transport_closing(&s->client);
	timer_arm(s->pw->loop, &s->timer, s->pw->limits->body_ms);
	/* Timer paths call this outside session_run: make sure it gets written. */
	task_defer(s->pw->loop, &s->run_task);
	return true;
}

/* Ends the request in flight once its response is wholly in cout. */
static void session_finish_request(struct proxy_session *s)
{
	session_log_end(s, s->status, s->serving ? s->serve_off : s->resp_body.moved, NULL);
	if (s->resp_relaying) {
		s->resp_relaying = false;
		if (s->pw->role->cache_response_done)
			s->pw->role->cache_response_done(s, true);
	}
	session_serve_release(s);
	if (s->pw->role->request_done)
		s->pw->role->request_done(s);
	if (s->up) {
		bool reusable = s->resp_keep_upstream && s->req_sent && buf_len(&s->uin) == 0;
		upstream_release(s->up, reusable);
		s->up = NULL;
	}
	/* Upstream buffers belong to one request; the client's are released
	 * while the connection idles (see client_write). */
	buf_free(&s->uin);
	buf_free(&s->uout);
	buf_free(&s->retry_head);
	s->requests++;
	if (!s->req_body.input_done)
		s->close_after = true; /* the rest of its body would be read as a request */
	if (s->close_after || !s->client_keep_alive || s->pw->draining) {
		s->close_reason = s->close_reason ? s->close_reason : "done";
		s->phase = SESSION_FLUSH;
		transport_closing(&s->client);
		timer_arm(s->pw->loop, &s->timer, s->pw->limits->body_ms);
		return;
	}
	s->phase = SESSION_HEAD;
	s->req_parsed_once = false;
	session_set_idle(s, buf_len(&s->cin) == 0);
	if (buf_len(&s->cin) == 0)
		buf_free(&s->cin);
	if (buf_len(&s->cout) == 0)
		buf_free(&s->cout); /* a response written out in the round it ended */
	timer_arm(s->pw->loop, &s->timer,
		  buf_len(&s->cin) ? s->pw->limits->header_ms : s->pw->limits->idle_ms);
}

static void upstream_on_io(struct upstream_conn *c, unsigned events)
{
	struct proxy_session *s = c->owner;
	transport_note_events(&c->t, events);
	session_run(s);
}

static void upstream_failed(struct proxy_session *s, enum upstream_error err, const char *detail);

static void upstream_on_timeout(struct upstream_conn *c)
{
	struct proxy_session *s = c->owner;
	if (c->connecting || c->handshaking)
		upstream_failed(s, UPSTREAM_ERR_CONNECT_TIMEOUT, NULL);
	else
		upstream_failed(s, UPSTREAM_ERR_RESPONSE_TIMEOUT, NULL);
}

static const struct upstream_owner_ops session_upstream_ops = {
	.on_io = upstream_on_io,
	.on_timeout = upstream_on_timeout,
};

/* Gets a connection for the request in flight. false when the session ended. */
bool session_acquire_upstream(struct proxy_session *s)
{
	s->up = upstream_pool_acquire(s->pool, &session_upstream_ops, s);
	if (!s->up) {
		upstream_failed(s, UPSTREAM_ERR_CONNECT_REFUSED, strerror(errno));
		return false;
	}
	/* A pooled connection has nothing to read until the request is sent
	 * (the pool closes one that turns readable while idle), and its next
	 * edge will say when the response comes. */
	s->up->t.readable = false;
	s->up->t.writable = !s->up->connecting;
	return true;
}

/* A pooled connection the backend had closed fails before any response byte:
 * an idempotent request without a body is sent once more on a new one. */
static bool session_retry(struct proxy_session *s)
{
	if (s->retried || !s->up || !s->up->reused || s->resp_started || buf_len(&s->uin) ||
	    !s->req_idempotent || !s->retry_head.data)
		return false;
	s->retried = true;
	upstream_release(s->up, false);
	s->up = NULL;
	buf_reset(&s->uout);
	buf_append(&s->uout, buf_rd(&s->retry_head), buf_len(&s->retry_head));
	s->req_sent = false;
	return session_acquire_upstream(s);
}

static int default_upstream_status(enum upstream_error err)
{
	return err == UPSTREAM_ERR_CONNECT_TIMEOUT || err == UPSTREAM_ERR_RESPONSE_TIMEOUT ? 504 : 502;
}

static void upstream_failed(struct proxy_session *s, enum upstream_error err, const char *detail)
{
	bool retryable = err == UPSTREAM_ERR_IO || err == UPSTREAM_ERR_BAD_RESPONSE ||
			 err == UPSTREAM_ERR_CONNECT_REFUSED;
	if (retryable && session_retry(s)) {
		task_defer(s->pw->loop, &s->run_task);
		return;
	}
	METRIC_INC(s->pool->errors[err]);
	s->upstream_error = err;
	log_warn("%s: upstream %s: %s%s%s", s->peer_text, s->pool->name, upstream_error_name(err),
		 detail && *detail ? ": " : "", detail ? detail : "");
	if (s->up) {
		upstream_release(s->up, false);
		s->up = NULL;
	}
	if (s->resp_started) {
		proxy_session_close(s, upstream_error_name(err)); /* a response cannot change status midway */
		return;
	}
	if (s->pw->role->cache_upstream_failed && s->pw->role->cache_upstream_failed(s, err)) {
		s->resp_started = true;
		body_pump_init(&s->resp_body, HTTP_BODY_NONE, 0, false);
		task_defer(s->pw->loop, &s->run_task);
		return;
	}
	int status = s->pw->role->upstream_status ? s->pw->role->upstream_status(s, err)
						  : default_upstream_status(err);
	session_respond_error(s, status, upstream_error_name(err));
}

/* A TLS read or write failure before any response byte may be the origin's
 * verdict on our certificate (TLS 1.3 sends it after the handshake). */
static enum upstream_error classify_io_failure(struct proxy_session *s, char *detail, size_t len)
{
	struct upstream_conn *up = s->up;
	if (up->t.ssl && up->pool->tls && up->t.ssl_error)
		return up->pool->tls->classify(up->t.ssl, up->t.ssl_error, detail, len);
	snprintf(detail, len, "%s", up->t.sys_errno ? strerror(up->t.sys_errno) : "connection closed");
	return UPSTREAM_ERR_IO;
}

/* Moves request bytes upstream and response bytes back. */
static bool session_forward(struct proxy_session *s)
{
	bool progress = false;
	struct upstream_conn *up = s->up;
	if (!up)
		return false;
	if (up->connecting) {
		int r = upstream_conn_check_connect(up);
		if (r < 0) {
			upstream_failed(s, UPSTREAM_ERR_CONNECT_REFUSED, strerror(errno));
			return false;
		}
		if (r == 0)
			return false;
		up->t.readable = true;
		progress = true;
	}
	if (up->handshaking) {
		enum upstream_error err;
		char detail[160] = "";
		int r = upstream_conn_handshake(up, &err, detail, sizeof detail);
		if (r < 0) {
			upstream_failed(s, err, detail);
			return false;
		}
		if (r == 0)
			return progress;
		progress = true;
	}
	/* Request body: client -> uout. */
	if (!s->req_body.done) {
		int r = body_pump_run(&s->req_body, &s->cin, &s->uout, s->client.eof);
		if (r < 0) {
			if (s->client.eof && !s->resp_started) {
				proxy_session_close(s, "client closed during request body");
			} else if (!s->resp_started) {
				session_respond_error(s, 400, "malformed request body");
			} else {
				proxy_session_close(s, "malformed request body");
			}
			return false;
		}
		progress |= r > 0;
		if (s->req_body.moved > 0 && s->pw->limits->body_max &&
		    s->req_body.moved > s->pw->limits->body_max && !s->resp_started) {
			session_respond_error(s, 413, "request body too large");
			return false;
		}
	}
	/* uout -> upstream. */
	while (buf_len(&s->uout) && transport_can_write(&up->t)) {
		ssize_t n = transport_write(&up->t, buf_rd(&s->uout), buf_len(&s->uout));
		if (n > 0) {
			buf_consume(&s->uout, (size_t)n);
			progress = true;
			continue;
		}
		if (n == TRANSPORT_AGAIN)
			break;
		char detail[160] = "";
		if (up->t.ssl && !up->t.ssl_error) {
			/* The origin's alert may be waiting behind the reset, on a
			 * socket with no edge left to tell. */
			char scratch[256];
			up->t.readable = true;
			transport_read(&up->t, scratch, sizeof scratch);
		}
		enum upstream_error err = classify_io_failure(s, detail, sizeof detail);
		upstream_failed(s, err, detail);
		return false;
	}
	if (!s->req_sent && s->req_body.done && buf_len(&s->uout) == 0) {
		s->req_sent = true;
		session_log_mark(s, true);
		if (!s->resp_started)
			timer_arm(s->pw->loop, &up->timer, s->pw->limits->response_ms);
	}
	/* upstream -> uin; or, once the body passes through unchanged, straight
	 * into cout, saving a copy of every body byte. */
	if (!buf_ensure(&s->uin, SESSION_OUT_BUF + 1024)) {
		proxy_session_close(s, "out of memory");
		return false;
	}
	while (!up->t.eof && transport_can_read(&up->t)) {
		size_t direct = s->resp_started ? body_pump_direct_room(&s->resp_body, &s->uin, &s->cout,
									SESSION_DIRECT_MIN) : 0;
		if (!direct && !buf_space(&s->uin))
			break;
		if (!direct && buf_tail(&s->uin) < buf_space(&s->uin) / 2)
			buf_compact(&s->uin);
		struct buf *dst = direct ? &s->cout : &s->uin;
		ssize_t n = transport_read(&up->t, buf_wr(dst), direct ? direct : buf_tail(&s->uin));
		if (n > 0) {
			if (direct) {
				/* Bytes past the body's end answer no request: they
				 * are dropped, and the connection is not pooled. */
				size_t body = body_pump_direct_took(&s->resp_body, buf_wr(dst), (size_t)n);
				buf_commit(dst, body);
				if (body < (size_t)n)
					s->resp_keep_upstream = false;
			} else {
				buf_commit(dst, (size_t)n);
			}
			progress = true;
			continue;
		}
		if (n == 0) {
			progress = true;
			break;
		}
		if (n == TRANSPORT_AGAIN)
			break;
		if (!s->resp_started && buf_len(&s->uin) == 0) {
			char detail[160] = "";
			enum upstream_error err = classify_io_failure(s, detail, sizeof detail);
			upstream_failed(s, err, detail);
			return false;
		}
		up->t.eof = true; /* a reset ends a close-delimited body */
		break;
	}
	/* The response head, then its body into cout. */
	if (!s->resp_started) {
		int r = session_parse_response(s);
		if (r < 0)
			return false;
		if (r == 0) {
			if (up->t.eof) {
				upstream_failed(s, UPSTREAM_ERR_BAD_RESPONSE,
						buf_len(&s->uin) ? "truncated head" : "closed without a response");
				return false;
			}
			return progress;
		}
		progress = true;
	}
	if (s->resp_started && !s->resp_body.done) {
		int r = body_pump_run(&s->resp_body, &s->uin, &s->cout, up->t.eof);
		if (r < 0) {
			proxy_session_close(s, "upstream response body truncated or malformed");
			return false;
		}
		progress |= r > 0;
	}
	return progress;
}

static void session_arm_activity_timer(struct proxy_session *s)
{
	const struct proxy_limits *lim = s->pw->limits;
	if (s->phase == SESSION_FORWARD) {
		/* Waiting for the response head is the upstream timer's job. */
		if (!s->req_sent || s->resp_started)
			timer_arm(s->pw->loop, &s->timer, lim->body_ms);
		else
			timer_disarm(s->pw->loop, &s->timer);
	} else if (s->phase == SESSION_FLUSH) {
		timer_arm(s->pw->loop, &s->timer, lim->body_ms);
	}
}

void session_run(struct proxy_session *s)
{
	for (int rounds = 0; s->phase != SESSION_CLOSED; rounds++) {
		bool progress = false;
		switch (s->phase) {
		case SESSION_HANDSHAKE: {
			int r = transport_handshake(&s->client);
			if (r < 0) {
				METRIC_INC(s->pw->stats->handshakes_failed);
				if (s->pw->role->on_handshake_failed)
					s->pw->role->on_handshake_failed(s);
				/* The alert is written; a client that already sent its
				 * request (TLS 1.3) would get a reset instead of it if we
				 * closed with its bytes unread. */
				s->close_reason = "tls handshake failed";
				session_begin_linger(s, false);
				session_linger_read(s);
				return;
			}
			if (r == 0)
				return;
			METRIC_INC(s->pw->stats->handshakes_ok);
			s->phase = SESSION_HEAD;
			if (s->pw->role->on_established && !s->pw->role->on_established(s)) {
				proxy_session_close(s, s->close_reason ? s->close_reason : "refused");
				return;
			}
			transport_forget_handshake(&s->client);
			timer_arm(s->pw->loop, &s->timer, s->pw->limits->header_ms);
			s->req_parsed_once = true;
			session_set_idle(s, true);
			progress = true;
			break;
		}
		case SESSION_HEAD: {
			progress |= client_read(s);
			if (s->phase != SESSION_HEAD)
				break;
			if (buf_len(&s->cin) == 0) {
				if (s->client.eof) {
					proxy_session_close(s, "client closed");
					return;
				}
				break;
			}
			session_set_idle(s, false);
			if (!s->req_parsed_once) {
				s->req_parsed_once = true;
				timer_arm(s->pw->loop, &s->timer, s->pw->limits->header_ms);
			}
			static __thread struct http_request req_scratch;
			s->req = &req_scratch;
			int r = http_parse_request(buf_rd(&s->cin), buf_len(&s->cin), &s->pw->limits->http,
						   s->req);
			if (r == HTTP_INCOMPLETE) {
				if (s->client.eof) {
					proxy_session_close(s, "client closed mid-request");
					return;
				}
				break;
			}
			if (r == HTTP_ERROR) {
				s->method = HTTP_METHOD_GET; /* the error page has a body */
				session_respond_error(s, s->req->error_status, s->req->error_reason);
			} else {
				session_start_request(s, (size_t)r);
			}
			progress = true;
			break;
		}
		case SESSION_WAIT:
			break;
		case SESSION_FORWARD:
			/* A client that hangs up before its response ends has gone
			 * (nginx logs 499): stop pulling for nobody. */
			if (s->client.hup && s->req_body.input_done && !(s->resp_started && s->resp_body.done)) {
				proxy_session_close(s, "client closed before the response");
				return;
			}
			if (!s->req_body.input_done && s->up)
				progress |= client_read(s);
			if (s->phase != SESSION_FORWARD)
				break;
			if (s->up)
				progress |= session_forward(s);
			if (s->phase == SESSION_FORWARD && s->serving)
				progress |= session_serve_pump(s);
			if (s->phase == SESSION_FORWARD && s->resp_started && s->resp_body.done &&
			    (!s->serving || s->serve_off == s->serve_len)) {
				session_finish_request(s);
				progress = true;
			}
			break;
		case SESSION_FLUSH:
			break;
		case SESSION_LINGER:
			session_linger_read(s);
			return;
		case SESSION_CLOSED:
			return;
		}
		if (s->phase == SESSION_CLOSED)
			return;
		/* A response served from memory goes out with its head: one
		 * record, one write, when it fits. */
		if (s->phase == SESSION_FORWARD && s->serving)
			progress |= session_serve_pump(s);
		progress |= client_write(s);
		if (s->phase == SESSION_FLUSH && buf_len(&s->cout) == 0 && !transport_unsent(&s->client)) {
			if (session_client_done_sending(s)) {
				transport_shutdown(&s->client);
				proxy_session_close(s, s->close_reason ? s->close_reason : "done");
				return;
			}
			session_begin_linger(s, true);
			/* The client answers our close later: read now only what
			 * came before it, and otherwise wait for the next edge. */
			if (s->client.readable)
				session_linger_read(s);
			return;
		}
		if (!progress)
			break;
		if (progress && s->phase == SESSION_FORWARD)
			session_arm_activity_timer(s);
		/* Stay fair to other sessions during long transfers. */
		if (rounds > 64) {
			task_defer(s->pw->loop, &s->run_task);
			return;
		}
	}
}

static void session_timer_fired(struct timer *t)
{
	struct proxy_session *s = t->data;
	switch (s->phase) {
	case SESSION_HANDSHAKE:
		if (s->pw->role->on_handshake_failed) {
			s->close_reason = "handshake timeout";
			s->pw->role->on_handshake_failed(s);
		}
		proxy_session_close(s, "handshake timeout");
		break;
	case SESSION_WAIT:
		proxy_session_resume(s); /* waited long enough: the role pulls itself */
		break;
	case SESSION_HEAD:
		if (buf_len(&s->cin)) {
			session_respond_error(s, 408, "request head timeout");
			session_run(s);
		} else {
			proxy_session_close(s, "idle timeout");
		}
		break;
	case SESSION_FORWARD:
		if (!s->resp_started && !s->req_body.input_done) {
			session_respond_error(s, 408, "request body timeout");
			session_run(s);
		} else {
			proxy_session_close(s, "body timeout");
		}
		break;
	default:
		proxy_session_close(s, s->phase == SESSION_LINGER ? (s->close_reason ? s->close_reason : "done")
								  : "write timeout");
		break;
	}
}
