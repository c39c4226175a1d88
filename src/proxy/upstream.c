/* upstream: backend connections and the per-worker keep-alive pool. */
#include "proxy/upstream.h"

#include "core/metrics.h"
#include "tls/transport_records.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <unistd.h>

static const char *const error_names[UPSTREAM_ERR_COUNT] = {
	[UPSTREAM_ERR_CONNECT_REFUSED] = "connection refused",
	[UPSTREAM_ERR_CONNECT_TIMEOUT] = "connect timeout",
	[UPSTREAM_ERR_TLS_REFUSED_CERT] = "origin refused our client certificate",
	[UPSTREAM_ERR_TLS_INVALID_CERT] = "origin certificate failed verification",
	[UPSTREAM_ERR_TLS_HANDSHAKE] = "tls handshake failed",
	[UPSTREAM_ERR_RESPONSE_TIMEOUT] = "response timeout",
	[UPSTREAM_ERR_BAD_RESPONSE] = "bad response",
	[UPSTREAM_ERR_IO] = "connection failed mid-exchange",
};

const char *upstream_error_name(enum upstream_error e)
{
	return e < UPSTREAM_ERR_COUNT ? error_names[e] : "?";
}

static void conn_free_task(struct task *t)
{
	free(t->data);
}

static void conn_close(struct upstream_conn *c)
{
	struct loop *loop = c->pool->loop;
	loop_unwatch_closing(&c->watch); /* transport_close below closes the socket */
	timer_disarm(loop, &c->timer);
	/* Without close_notify OpenSSL marks the session not resumable. */
	if (c->t.ssl && !c->handshaking)
		transport_shutdown(&c->t);
	transport_close(&c->t);
	/* The poller's current batch may still name this watch. */
	task_defer(loop, &c->free_task);
}

static void pool_unlink(struct upstream_pool *pool, struct upstream_conn *c)
{
	for (struct upstream_conn **pp = &pool->idle; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			__atomic_fetch_sub(&pool->idle_count, 1, __ATOMIC_RELAXED); /* read by metrics */
			break;
		}
	}
	c->next = NULL;
	c->idle = false;
}

/* An idle connection that becomes readable was closed by the backend (or
 * sent bytes nobody asked for): either way it cannot be reused. */
static void idle_on_io(struct upstream_conn *c, unsigned events)
{
	char b[64];
	transport_note_events(&c->t, events);
	ssize_t n = transport_read(&c->t, b, sizeof b);
	if (n == TRANSPORT_AGAIN && !(events & (IO_HUP | IO_ERR)))
		return;
	pool_unlink(c->pool, c);
	conn_close(c);
}

static void conn_io(struct io_watch *w, unsigned events)
{
	struct upstream_conn *c = w->data;
	if (c->idle)
		idle_on_io(c, events);
	else
		c->ops->on_io(c, events);
}

static void conn_timer(struct timer *t)
{
	struct upstream_conn *c = t->data;
	if (c->idle) {
		pool_unlink(c->pool, c);
		conn_close(c);
	} else {
		c->ops->on_timeout(c);
	}
}

void upstream_pool_init(struct upstream_pool *pool, struct loop *loop,
			const struct sockaddr_storage *addr, socklen_t addr_len, const char *name)
{
	memset(pool, 0, sizeof *pool);
	pool->loop = loop;
	memcpy(&pool->addr, addr, addr_len);
	pool->addr_len = addr_len;
	snprintf(pool->name, sizeof pool->name, "%s", name);
	pool->connect_timeout_ms = 5000;
	pool->idle_timeout_ms = 30000;
	pool->max_idle = 64;
}

void upstream_pool_reset(struct upstream_pool *pool)
{
	upstream_pool_drain(pool);
	if (pool->tls_session)
		SSL_SESSION_free(pool->tls_session);
	pool->tls_session = NULL;
}

void upstream_pool_drain(struct upstream_pool *pool)
{
	while (pool->idle) {
		struct upstream_conn *c = pool->idle;
		pool_unlink(pool, c);
		conn_close(c);
	}
}

static struct upstream_conn *conn_open(struct upstream_pool *pool)
{
	int fd = socket(pool->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (pool->addr.ss_family != AF_UNIX) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	struct upstream_conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->pool = pool;
	transport_init_plain(&c->t, fd);
	timer_init(&c->timer, conn_timer, c);
	task_init(&c->free_task, conn_free_task, c);
	int r = connect(fd, (struct sockaddr *)&pool->addr, pool->addr_len);
	if (r < 0 && errno != EINPROGRESS && errno != EAGAIN) {
		int e = errno;
		close(fd);
		free(c);
		errno = e;
		return NULL;
	}
	c->connecting = r < 0;
	if (loop_watch(pool->loop, &c->watch, fd, conn_io, c) < 0) {
		int e = errno;
		close(fd);
		free(c);
		errno = e;
		return NULL;
	}
	METRIC_INC(pool->opened);
	return c;
}

struct upstream_conn *upstream_pool_acquire(struct upstream_pool *pool,
					    const struct upstream_owner_ops *ops, void *owner)
{
	struct upstream_conn *c = pool->idle;
	if (c) {
		pool_unlink(pool, c);
		timer_disarm(pool->loop, &c->timer);
		c->reused = true;
		METRIC_INC(pool->reused);
	} else {
		c = conn_open(pool);
		if (!c)
			return NULL;
		if (c->connecting)
			timer_arm(pool->loop, &c->timer, pool->connect_timeout_ms);
	}
	c->ops = ops;
	c->owner = owner;
	return c;
}

int upstream_conn_check_connect(struct upstream_conn *c)
{
	if (!c->connecting)
		return 1;
	if (!c->t.writable)
		return 0;
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->t.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return 0;
	if (err) {
		errno = err;
		return -1;
	}
	c->connecting = false;
	if (!c->pool->tls) {
		timer_disarm(c->pool->loop, &c->timer);
		return 1;
	}
	/* The connect timeout covers the TLS handshake too. */
	SSL *ssl = c->pool->tls->new_ssl(c->pool->tls_arg);
	if (!ssl) {
		errno = ENOMEM;
		return -1;
	}
	if (c->pool->tls_session)
		SSL_set_session(ssl, c->pool->tls_session);
	bool readable = c->t.readable, writable = c->t.writable;
	transport_init_tls(&c->t, c->t.fd, ssl, false);
	c->t.readable = readable;
	c->t.writable = writable;
	c->handshaking = true;
	return 1;
}

int upstream_conn_handshake(struct upstream_conn *c, enum upstream_error *err, char *detail, size_t len)
{
	if (!c->handshaking)
		return 1;
	int r = transport_handshake(&c->t);
	if (r == 0)
		return 0;
	if (r < 0) {
		*err = c->pool->tls->classify(c->t.ssl, c->t.ssl_error, detail, len);
		ERR_clear_error();
		return -1;
	}
	c->handshaking = false;
	if (SSL_session_reused(c->t.ssl))
		METRIC_INC(c->pool->resumed);
	timer_disarm(c->pool->loop, &c->timer);
	return 1;
}

void upstream_release(struct upstream_conn *c, bool reusable)
{
	struct upstream_pool *pool = c->pool;
	c->ops = NULL;
	c->owner = NULL;
	timer_disarm(pool->loop, &c->timer);
	if (reusable && c->t.ssl && !c->handshaking) {
		/* TLS 1.3 tickets arrive after the handshake: keep the newest. */
		SSL_SESSION *sess = SSL_get1_session(c->t.ssl);
		if (sess && SSL_SESSION_is_resumable(sess) && sess != pool->tls_session) {
			if (pool->tls_session)
				SSL_SESSION_free(pool->tls_session);
			pool->tls_session = sess;
		} else if (sess) {
			SSL_SESSION_free(sess);
		}
		/* The tickets are in: the records can be ours from now on. */
		if (c->t.capture)
			transport_records_take_over(&c->t);
	}
	if (!reusable || c->handshaking || c->connecting || pool->idle_count >= pool->max_idle || c->t.eof) {
		conn_close(c);
		return;
	}
	c->idle = true;
	c->reused = false;
	c->next = pool->idle;
	pool->idle = c;
	METRIC_INC(pool->idle_count);
	timer_arm(pool->loop, &c->timer, pool->idle_timeout_ms);
}
