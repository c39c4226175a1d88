/*
 * session_log: the access log's view of a request. Its head is copied at the
 * start (the parse's slices die once the head is consumed), times are taken
 * when the pull is sent and answered, and one line is written when the
 * request ends — answered, refused, or cut short.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/session.h"

#define LOG_FIELD 512

struct session_log {
	bool open;                  /* a request is in flight, not yet logged */
	int64_t start_us;
	int64_t start_mono_us;
	int64_t sent_mono_us;       /* 0 until the request went upstream */
	int64_t head_mono_us;
	char method[24], host[256], path[LOG_FIELD], ua[LOG_FIELD], referer[LOG_FIELD];
};

static int64_t now_us(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void copy(char *dst, size_t cap, struct slice src)
{
	size_t n = src.len < cap - 1 ? src.len : cap - 1;
	memcpy(dst, src.ptr, n);
	dst[n] = '\0';
}

static void copy_header(char *dst, size_t cap, const struct http_request *req, const char *name)
{
	const struct http_header *h = http_find_header(req->headers, req->header_count, name);
	copy(dst, cap, h ? h->value : SLICE_LIT(""));
}

void session_log_begin(struct proxy_session *s, const struct http_request *req)
{
	if (!s->pw->access_log)
		return;
	if (!s->log && !(s->log = malloc(sizeof *s->log)))
		return;
	struct session_log *l = s->log;
	l->open = true;
	l->start_us = now_us(CLOCK_REALTIME);
	l->start_mono_us = now_us(CLOCK_MONOTONIC);
	l->sent_mono_us = l->head_mono_us = 0;
	if (!req) { /* a head that did not parse */
		strcpy(l->method, "-");
		l->host[0] = l->ua[0] = l->referer[0] = '\0';
		strcpy(l->path, "-");
		return;
	}
	copy(l->method, sizeof l->method, req->method_name);
	copy(l->host, sizeof l->host, req->host);
	copy(l->path, sizeof l->path, req->target);
	copy_header(l->ua, sizeof l->ua, req, "user-agent");
	copy_header(l->referer, sizeof l->referer, req, "referer");
}

void session_log_mark(struct proxy_session *s, bool sent)
{
	struct session_log *l = s->log;
	if (!l || !l->open)
		return;
	if (sent)
		l->sent_mono_us = now_us(CLOCK_MONOTONIC);
	else if (l->sent_mono_us && !l->head_mono_us)
		l->head_mono_us = now_us(CLOCK_MONOTONIC);
}

void session_log_end(struct proxy_session *s, int status, uint64_t bytes, const char *reason)
{
	if (!s->pw->access_log)
		return;
	if (!s->log || !s->log->open)
		session_log_begin(s, NULL); /* an error before any request was read */
	struct session_log *l = s->log;
	if (!l)
		return;
	l->open = false;
	struct access_entry e = {
		.role = s->pw->role_name ? s->pw->role_name : "-",
		.start_us = l->start_us,
		.duration_ms = (double)(now_us(CLOCK_MONOTONIC) - l->start_mono_us) / 1000.0,
		.origin_ms = l->head_mono_us ? (double)(l->head_mono_us - l->sent_mono_us) / 1000.0 : -1,
		.client = s->peer_ip,
		.method = slice_from_cstr(l->method),
		.host = slice_from_cstr(l->host),
		.path = slice_from_cstr(l->path),
		.user_agent = slice_from_cstr(l->ua),
		.referer = slice_from_cstr(l->referer),
		.status = status,
		.bytes = bytes,
		.tls = transport_tls_version(&s->client),
		.reason = reason,
	};
	if (s->pw->role->log_fields)
		s->pw->role->log_fields(s, &e);
	access_log_write(s->pw->access_log, &e);
	/* An idle connection keeps nothing of its last request. */
	session_log_free(s);
}

void session_log_free(struct proxy_session *s)
{
	free(s->log);
	s->log = NULL;
}

bool session_log_pending(const struct proxy_session *s)
{
	return s->log && s->log->open;
}
