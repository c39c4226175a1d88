/*
 * upstream: connections from a worker to one backend, and the per-worker
 * keep-alive pool they return to. A connection has one owner at a time: the
 * session using it, or the pool while idle. The pool closes idle connections
 * that the backend closes or that stay idle past idle_timeout.
 */
#ifndef PULLGATE_PROXY_UPSTREAM_H
#define PULLGATE_PROXY_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/loop.h"
#include "tls/transport.h"

struct upstream_conn;

/* Why a pull failed: each kind has its own status, log reason and counter. */
enum upstream_error {
	UPSTREAM_ERR_CONNECT_REFUSED,  /* refused, unreachable, reset while connecting */
	UPSTREAM_ERR_CONNECT_TIMEOUT,
	UPSTREAM_ERR_TLS_REFUSED_CERT, /* the origin rejected our client certificate */
	UPSTREAM_ERR_TLS_INVALID_CERT, /* the origin's certificate failed verification */
	UPSTREAM_ERR_TLS_HANDSHAKE,    /* any other TLS failure */
	UPSTREAM_ERR_RESPONSE_TIMEOUT,
	UPSTREAM_ERR_BAD_RESPONSE,     /* malformed, or closed without a response */
	UPSTREAM_ERR_IO,               /* a read or write failed mid-exchange */
	UPSTREAM_ERR_COUNT,
};

const char *upstream_error_name(enum upstream_error e);

/* TLS toward an upstream: how to make a client SSL for a new connection and
 * how to tell its failures apart. */
struct upstream_tls_ops {
	SSL *(*new_ssl)(void *arg);
	enum upstream_error (*classify)(SSL *ssl, unsigned long ssl_err, char *detail, size_t len);
};

/* Events for the owning session: poller events, or the owner's timer. */
struct upstream_owner_ops {
	void (*on_io)(struct upstream_conn *c, unsigned events);
	void (*on_timeout)(struct upstream_conn *c);
};

struct upstream_pool {
	struct loop *loop;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char name[160];                /* "127.0.0.1:9000" or "unix:/path", for logs */
	uint32_t connect_timeout_ms;
	uint32_t idle_timeout_ms;
	uint32_t max_idle;
	struct upstream_conn *idle;    /* most recently used first */
	uint32_t idle_count;
	const struct upstream_tls_ops *tls; /* NULL: plain */
	void *tls_arg;
	SSL_SESSION *tls_session;      /* the newest resumable session, for the next connect */
	uint64_t reused;               /* acquisitions served from the pool */
	uint64_t opened;               /* new connections */
	uint64_t resumed;              /* TLS handshakes that resumed a session */
	uint64_t errors[UPSTREAM_ERR_COUNT];
};

struct upstream_conn {
	struct upstream_pool *pool;
	struct transport t;
	struct io_watch watch;
	struct timer timer;
	struct task free_task;
	bool connecting;               /* connect(2) in progress */
	bool handshaking;              /* TLS handshake in progress */
	bool reused;                   /* came from the pool */
	bool idle;
	const struct upstream_owner_ops *ops;
	void *owner;
	struct upstream_conn *next;
};

void upstream_pool_init(struct upstream_pool *pool, struct loop *loop,
			const struct sockaddr_storage *addr, socklen_t addr_len, const char *name);
/* Closes every idle connection. */
void upstream_pool_drain(struct upstream_pool *pool);
/* Drains and forgets the cached TLS session (after a reload). */
void upstream_pool_reset(struct upstream_pool *pool);

/* An idle pooled connection, or a new one whose connect is in progress (or
 * done). NULL with errno set when a socket cannot even be started. */
struct upstream_conn *upstream_pool_acquire(struct upstream_pool *pool,
					    const struct upstream_owner_ops *ops, void *owner);
/* Finishes a connect in progress: 1 connected, 0 still connecting, -1 failed
 * (errno set). */
int upstream_conn_check_connect(struct upstream_conn *c);
/* Drives the TLS handshake after the connect: 1 done (or plain), 0 waiting,
 * -1 failed with *err and detail set. */
int upstream_conn_handshake(struct upstream_conn *c, enum upstream_error *err, char *detail, size_t len);
/* Gives the connection back: kept idle when reusable and the pool has room,
 * closed otherwise. */
void upstream_release(struct upstream_conn *c, bool reusable);

#endif
