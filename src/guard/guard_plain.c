/*
 * guard_plain: the optional plain-HTTP listener of an origin (the port-80
 * side door). It never proxies: it closes at once, or answers one request
 * with a redirect to the TLS port and closes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/hostname.h"
#include "core/log.h"
#include "core/net.h"
#include "guard/guard.h"

#define PLAIN_HEAD_MAX 8192
#define PLAIN_TIMEOUT_MS 10000

struct plain_conn {
	struct guard_worker *gw;
	const struct guard_plain_listener *conf;
	int fd;
	struct io_watch watch;
	struct timer timer;
	struct task free_task;
	struct plain_conn *next;
	size_t len;
	char head[PLAIN_HEAD_MAX];
};

/* Open side-door connections per worker, for draining. */
static __thread struct plain_conn *plain_conns;

static void plain_free(struct task *t)
{
	free(t->data);
}

static void plain_close(struct plain_conn *c)
{
	struct guard_worker *gw = c->gw;
	for (struct plain_conn **pp = &plain_conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	loop_unwatch_closing(&c->watch);
	timer_disarm(gw->worker.loop, &c->timer);
	close(c->fd);
	gw->plain_active--;
	task_defer(gw->worker.loop, &c->free_task);
	if (gw->stopping && guard_worker_sessions(gw) == 0 && gw->plain_active == 0)
		loop_stop(gw->worker.loop);
}

static void plain_reply(struct plain_conn *c, const char *resp, size_t len)
{
	ssize_t r = send(c->fd, resp, len, MSG_NOSIGNAL);
	(void)r;
	shutdown(c->fd, SHUT_WR);
}

static void plain_redirect(struct plain_conn *c, const struct http_request *req)
{
	char resp[PLAIN_HEAD_MAX + 512];
	struct slice host = hostname_from_host_header(req->host);
	struct slice path = req->target;
	if (!host.len || path.len == 0 || path.ptr[0] != '/') {
		int n = snprintf(resp, sizeof resp,
				 "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		plain_reply(c, resp, (size_t)n);
		return;
	}
	char port[16] = "";
	if (c->conf->redirect_port != 443)
		snprintf(port, sizeof port, ":%u", c->conf->redirect_port);
	bool v6 = memchr(host.ptr, ':', host.len) != NULL;
	int n = snprintf(resp, sizeof resp,
			 "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://%s%.*s%s%s%.*s\r\n"
			 "Content-Length: 0\r\nConnection: close\r\n\r\n",
			 v6 ? "[" : "", (int)host.len, host.ptr, v6 ? "]" : "", port, (int)path.len, path.ptr);
	if (n > 0 && (size_t)n < sizeof resp)
		plain_reply(c, resp, (size_t)n);
}

static void plain_readable(struct io_watch *w, unsigned events)
{
	struct plain_conn *c = w->data;
	for (;;) {
		if (c->len == sizeof c->head)
			break;
		ssize_t n = recv(c->fd, c->head + c->len, sizeof c->head - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		plain_close(c);
		return;
	}
	struct http_limits lim = { .request_line_max = 4096, .header_bytes_max = PLAIN_HEAD_MAX,
				   .header_count_max = 64 };
	static __thread struct http_request req;
	int r = http_parse_request(c->head, c->len, &lim, &req);
	if (r == HTTP_INCOMPLETE)
		return;
	if (r == HTTP_ERROR) {
		char resp[128];
		int n = snprintf(resp, sizeof resp, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
				 req.error_status, http_status_reason(req.error_status));
		plain_reply(c, resp, (size_t)n);
	} else {
		plain_redirect(c, &req);
	}
	plain_close(c);
}

static void plain_timeout(struct timer *t)
{
	plain_close(t->data);
}

void guard_plain_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct guard_worker *gw = l->data;
	const struct guard_plain_listener *conf = l->cookie;
	if (conf->action == PLAIN_ACTION_CLOSE) {
		close(fd);
		return;
	}
	struct plain_conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return;
	}
	c->gw = gw;
	c->conf = conf;
	c->fd = fd;
	timer_init(&c->timer, plain_timeout, c);
	task_init(&c->free_task, plain_free, c);
	if (loop_watch_read(gw->worker.loop, &c->watch, fd, plain_readable, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = plain_conns;
	plain_conns = c;
	gw->plain_active++;
	timer_arm(gw->worker.loop, &c->timer, PLAIN_TIMEOUT_MS);
}

void guard_plain_drain(struct guard_worker *gw)
{
	while (plain_conns)
		plain_close(plain_conns);
}
