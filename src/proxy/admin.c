/* admin: see admin.h. One request per connection, answered and closed. */
#include "proxy/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/net.h"
#include "http/http_parser.h"

#define ADMIN_HEAD_MAX 4096
#define ADMIN_TIMEOUT_MS 5000

struct admin_conn {
	struct admin_server *a;
	int fd;
	struct io_watch watch;
	struct timer timer;
	struct task free_task;
	struct admin_conn *next;
	char head[ADMIN_HEAD_MAX];
	size_t head_len;
	char *out;        /* the response, owned */
	size_t out_len;
	size_t out_sent;
	bool answered;
};

static void conn_free(struct task *t)
{
	struct admin_conn *c = t->data;
	free(c->out);
	free(c);
}

static void conn_close(struct admin_conn *c)
{
	struct admin_server *a = c->a;
	for (struct admin_conn **pp = &a->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	loop_unwatch(a->loop, &c->watch);
	timer_disarm(a->loop, &c->timer);
	close(c->fd);
	task_defer(a->loop, &c->free_task);
}

static void respond(struct admin_conn *c, int status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, http_status_reason(status), type, len);
	c->out = malloc((size_t)n + len);
	if (!c->out) {
		c->out_len = 0;
		return;
	}
	memcpy(c->out, head, (size_t)n);
	memcpy(c->out + n, body, len);
	c->out_len = (size_t)n + len;
	c->answered = true;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes %XX and '+' of a query value into out; false when malformed. */
static bool query_decode(struct slice in, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < in.len; i++) {
		char ch = in.ptr[i];
		if (ch == '%') {
			if (i + 2 >= in.len)
				return false;
			int hi = hexval(in.ptr[i + 1]), lo = hexval(in.ptr[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			ch = (char)(hi * 16 + lo);
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (o + 1 >= cap || ch == '\0')
			return false;
		out[o++] = ch;
	}
	out[o] = '\0';
	return true;
}

static void answer_purge(struct admin_conn *c, struct slice query)
{
	char param[16], value[2048];
	const char *eq = memchr(query.ptr, '=', query.len);
	size_t plen = eq ? (size_t)(eq - query.ptr) : query.len;
	if (plen >= sizeof param) {
		respond(c, 400, "text/plain", "bad purge parameter\n", 20);
		return;
	}
	memcpy(param, query.ptr, plen);
	param[plen] = '\0';
	struct slice v = eq ? slice_make(eq + 1, (size_t)(query.ptr + query.len - eq - 1)) : SLICE_LIT("");
	if (!query_decode(v, value, sizeof value)) {
		respond(c, 400, "text/plain", "bad purge value\n", 16);
		return;
	}
	long n = c->a->purge(c->a->arg, param, value);
	if (n < 0) {
		respond(c, 400, "text/plain", "use /purge?url=URL, /purge?host=HOST or /purge?all\n", 51);
		return;
	}
	char body[64];
	int len = snprintf(body, sizeof body, "purged %ld\n", n);
	respond(c, 200, "text/plain", body, (size_t)len);
}

static void answer(struct admin_conn *c, const struct http_request *req)
{
	if (c->a->reload && req->method == HTTP_METHOD_POST && slice_eq(req->target, SLICE_LIT("/reload"))) {
		char msg[8192] = "";
		int r = c->a->reload(c->a->arg, msg, sizeof msg);
		if (r == 0)
			respond(c, 200, "text/plain", "reloaded\n", 9);
		else
			respond(c, 422, "text/plain", msg, strlen(msg));
		return;
	}
	if (c->a->purge && req->method == HTTP_METHOD_POST && req->target.len >= 7 &&
	    memcmp(req->target.ptr, "/purge?", 7) == 0) {
		answer_purge(c, slice_make(req->target.ptr + 7, req->target.len - 7));
		return;
	}
	struct slice t = req->target;
	bool get = req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD;
	if (get && slice_eq(t, SLICE_LIT("/metrics"))) {
		struct metrics_text m = { 0 };
		c->a->metrics(c->a->arg, &m);
		if (m.failed)
			respond(c, 500, "text/plain", "out of memory\n", 14);
		else
			respond(c, 200, "text/plain; version=0.0.4", m.data ? m.data : "", m.len);
		metrics_text_free(&m);
	} else if (get && (slice_eq(t, SLICE_LIT("/health")) || slice_eq(t, SLICE_LIT("/healthz")))) {
		if (c->a->draining)
			respond(c, 503, "text/plain", "draining\n", 9);
		else
			respond(c, 200, "text/plain", "ok\n", 3);
	} else {
		respond(c, 404, "text/plain", "not found: try /metrics or /health\n", 35);
	}
}

static void conn_io(struct io_watch *w, unsigned events)
{
	struct admin_conn *c = w->data;
	while (!c->answered && c->head_len < sizeof c->head) {
		ssize_t n = recv(c->fd, c->head + c->head_len, sizeof c->head - c->head_len, 0);
		if (n > 0) {
			c->head_len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(c);
		return;
	}
	if (!c->answered) {
		static const struct http_limits lim = { 1024, ADMIN_HEAD_MAX, 32 };
		struct http_request req;
		int r = http_parse_request(c->head, c->head_len, &lim, &req);
		if (r == HTTP_INCOMPLETE)
			return;
		if (r == HTTP_ERROR)
			respond(c, req.error_status, "text/plain", "bad request\n", 12);
		else
			answer(c, &req);
		if (!c->out) {
			conn_close(c);
			return;
		}
	}
	while (c->out_sent < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_sent += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;
	}
	shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

static void conn_timeout(struct timer *t)
{
	conn_close(t->data);
}

static void admin_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct admin_server *a = l->data;
	struct admin_conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return;
	}
	c->a = a;
	c->fd = fd;
	timer_init(&c->timer, conn_timeout, c);
	task_init(&c->free_task, conn_free, c);
	if (loop_watch(a->loop, &c->watch, fd, conn_io, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = a->conns;
	a->conns = c;
	timer_arm(a->loop, &c->timer, ADMIN_TIMEOUT_MS);
}

int admin_start(struct admin_server *a, struct loop *loop, const struct sockaddr_storage *addr,
		socklen_t len, char *err, size_t errlen)
{
	a->loop = loop;
	a->conns = NULL;
	int fd = net_listen(addr, len, 64, err, errlen);
	if (fd < 0)
		return -1;
	if (listener_start(&a->listener, loop, fd, admin_accept, a) < 0) {
		close(fd);
		snprintf(err, errlen, "cannot watch the admin listener");
		return -1;
	}
	return 0;
}

void admin_stop(struct admin_server *a)
{
	if (!a->loop)
		return;
	listener_stop(&a->listener);
	while (a->conns)
		conn_close(a->conns);
	loop_run_pending(a->loop);
	a->loop = NULL;
}

int admin_request(const struct sockaddr_storage *addr, socklen_t len, const char *method, const char *path,
		  char *out, size_t cap)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 30 };
	if (fd < 0) {
		snprintf(out, cap, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	char req[512];
	int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: pullgate\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			 method, path);
	if (connect(fd, (const struct sockaddr *)addr, len) < 0 || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		snprintf(out, cap, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	static char resp[16384];
	size_t got = 0;
	for (;;) {
		ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof resp - 1)
			break;
	}
	close(fd);
	resp[got] = '\0';
	int status = 0;
	const char *body = strstr(resp, "\r\n\r\n");
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1 || !body) {
		snprintf(out, cap, "no answer from the admin listener");
		return -1;
	}
	snprintf(out, cap, "%s", body + 4);
	return status;
}
