/*
 * transport_tls: non-blocking OpenSSL on a socket. Each WANT_READ or
 * WANT_WRITE clears the matching readiness flag, so the owner retries only
 * after the poller reports that edge; a read that wants write (or the
 * reverse) is remembered and retried on the other edge.
 *
 * OpenSSL reads through our own socket BIO, with read-ahead on: one recv
 * takes in whatever records have arrived, and a recv that returns less than
 * it asked for means the socket is empty, so the next read waits for the
 * poller's edge instead of asking the kernel for an EAGAIN. Edge-triggered
 * polling reports every later arrival, so nothing is missed.
 *
 * Writes: OpenSSL hands the BIO one record at a time. On a transport with
 * stage_writes, a write longer than a record stages its records in the
 * worker's buffer and sends up to TLS_STAGE_RECORDS of them with one send:
 * one system call and one socket buffer instead of one per 16 KiB record,
 * which is most of what a large response costs. What the socket does not
 * take waits in the transport's unsent bytes (transport_flush).
 *
 * A server connection whose context offers it first tries pullgate's own
 * TLS 1.3 handshake (tls/tls13_accept.h), which leaves any hello it does
 * not answer in t->rx for OpenSSL. A TLS 1.3 connection's handshake is
 * watched, and once it is done (a client's once its first response is
 * in) the connection's records are our own (tls/transport_records.h). While watched, OpenSSL reads one
 * record at a time, so that what it has not asked for stays with the
 * transport (t->rx): one recv still takes all that has arrived, and the
 * BIO serves it piece by piece.
 */
#include <errno.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tls/tls13_accept.h"
#include "tls/tls_release.h"
#include "tls/transport.h"
#include "tls/transport_records.h"

#define TLS_STAGE_RECORDS 4
#define TLS_RECORD_ROOM (SSL3_RT_HEADER_LENGTH + SSL3_RT_MAX_PLAIN_LENGTH + SSL3_RT_MAX_ENCRYPTED_OVERHEAD)

static __thread struct {
	const struct transport *owner; /* staging for this transport, or NULL */
	size_t len;
	char data[TLS_STAGE_RECORDS * TLS_RECORD_ROOM];
} stage;

static BIO_METHOD *sock_method;
static int sock_type; /* sock_method's BIO type */
static pthread_once_t sock_method_once = PTHREAD_ONCE_INIT;

/* One socket BIO per thread serves every connection the thread makes: its
 * data is pointed at the transport before each call into OpenSSL (tls_bind),
 * and a connection is only ever driven by the thread that made it. A BIO of
 * its own per connection cost about 0.2 KiB of every idle connection. The
 * thread's reference goes when the thread ends; each SSL holds its own. */
static __thread BIO *thread_bio;
static pthread_key_t thread_bio_key;

/* Serves up to len of the bytes received but not yet consumed. */
static int take_received(struct transport *t, char *buf, int len)
{
	size_t n = t->rx_len < (size_t)len ? t->rx_len : (size_t)len;
	memcpy(buf, t->rx, n);
	transport_drop_received(t, n);
	return (int)n;
}

/* While a handshake is watched (tls/transport_records.h), OpenSSL asks for
 * one record at a time; one recv still takes whatever has arrived, and
 * what OpenSSL did not ask for stays with the transport. */
static __thread char ahead[TLS_RECORD_ROOM];

/* The BIO's data is the transport, set before each call into OpenSSL: a
 * transport may be copied (accepted, then moved into its session). */
static int sock_read(BIO *b, char *buf, int len)
{
	struct transport *t = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (t->rx_len)
		return take_received(t, buf, len);
	if (!t->readable) {
		BIO_set_retry_read(b);
		return -1;
	}
	bool watched = t->capture != NULL;
	char *dst = watched ? ahead : buf;
	size_t want = watched ? sizeof ahead : (size_t)len;
	ssize_t n = recv(t->fd, dst, want, 0);
	if (n > 0) {
		t->received = true;
		if ((size_t)n < want && !t->hup) /* see plain_read */
			t->readable = false;
		if (!watched)
			return (int)n;
		size_t served = (size_t)n < (size_t)len ? (size_t)n : (size_t)len;
		memcpy(buf, ahead, served);
		if ((size_t)n > served) {
			t->rx = malloc((size_t)n - served);
			if (!t->rx)
				return -1;
			memcpy(t->rx, ahead + served, (size_t)n - served);
			t->rx_len = (size_t)n - served;
		}
		return (int)served;
	}
	if (n == 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		if (errno != EINTR)
			t->readable = false;
		BIO_set_retry_read(b);
	}
	return -1;
}

static int sock_write(BIO *b, const char *buf, int len)
{
	struct transport *t = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (stage.owner == t) {
		if ((size_t)len > sizeof stage.data - stage.len) {
			BIO_set_retry_write(b);
			return -1;
		}
		memcpy(stage.data + stage.len, buf, (size_t)len);
		stage.len += (size_t)len;
		return len;
	}
	int flags = transport_send_flags(t);
	if (t->capture && transport_records_tickets_may_wait(t))
		flags |= MSG_MORE; /* the next send, without it, takes them along */
	ssize_t n = send(t->fd, buf, (size_t)len, flags);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_write(b);
	return -1;
}

static int sock_puts(BIO *b, const char *str)
{
	return sock_write(b, str, (int)strlen(str));
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct transport *t = BIO_get_data(b);
	switch (cmd) {
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DUP:
		return 1;
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = t ? t->fd : -1;
		return t ? t->fd : -1;
	case BIO_CTRL_GET_CLOSE:
		return BIO_NOCLOSE;
	case BIO_CTRL_SET_CLOSE:
		return 1;
	default:
		return 0;
	}
}

static void thread_bio_release(void *bio)
{
	BIO_free(bio);
}

static void sock_method_init(void)
{
	if (pthread_key_create(&thread_bio_key, thread_bio_release) != 0)
		return; /* no method: OpenSSL's own socket BIO per connection */
	sock_type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR;
	BIO_METHOD *m = BIO_meth_new(sock_type, "pullgate socket");
	if (m && BIO_meth_set_read(m, sock_read) == 1 && BIO_meth_set_write(m, sock_write) == 1 &&
	    BIO_meth_set_puts(m, sock_puts) == 1 && BIO_meth_set_ctrl(m, sock_ctrl) == 1)
		sock_method = m;
	else
		BIO_meth_free(m);
}

/* The calling thread's socket BIO, with a reference for the caller; NULL
 * when there is none (then OpenSSL's own socket BIO serves). */
static BIO *thread_socket_bio(void)
{
	pthread_once(&sock_method_once, sock_method_init);
	if (!sock_method)
		return NULL;
	if (!thread_bio) {
		BIO *b = BIO_new(sock_method);
		if (!b)
			return NULL;
		BIO_set_init(b, 1);
		if (pthread_setspecific(thread_bio_key, b) != 0) {
			BIO_free(b);
			return NULL;
		}
		thread_bio = b;
	}
	return BIO_up_ref(thread_bio) == 1 ? thread_bio : NULL;
}

struct transport *transport_tls_of(const SSL *ssl)
{
	BIO *b = SSL_get_rbio(ssl);
	return b && sock_method && BIO_method_type(b) == sock_type
		       ? BIO_get_data(b)
		       : NULL;
}

/* Points the socket BIO at t (no-op on an SSL with OpenSSL's own BIO). */
static inline void tls_bind(struct transport *t)
{
	BIO *b = SSL_get_rbio(t->ssl);
	if (b && BIO_method_type(b) != BIO_TYPE_SOCKET)
		BIO_set_data(b, t);
}

/* Maps an SSL_get_error result; returns TRANSPORT_AGAIN or TRANSPORT_ERROR. */
static int tls_settle(struct transport *t, int ret, bool reading)
{
	int err = SSL_get_error(t->ssl, ret);
	switch (err) {
	case SSL_ERROR_WANT_READ:
		t->readable = false;
		if (!reading)
			t->write_wants_read = true;
		return TRANSPORT_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		t->writable = false;
		if (reading)
			t->read_wants_write = true;
		return TRANSPORT_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		t->eof = true;
		return 0;
	case SSL_ERROR_SYSCALL:
		t->sys_errno = errno;
		if (!t->ssl_error)
			t->ssl_error = ERR_peek_error();
		/* An EOF without close_notify: treat as end of stream for
		 * reads (HTTP framing decides whether that was complete). */
		if (reading && ERR_peek_error() == 0 && errno == 0) {
			t->eof = true;
			ERR_clear_error();
			return 0;
		}
		ERR_clear_error();
		return TRANSPORT_ERROR;
	default:
		if (!t->ssl_error)
			t->ssl_error = ERR_peek_error();
		ERR_clear_error();
		return TRANSPORT_ERROR;
	}
}

static int tls_handshake(struct transport *t)
{
	/* A watched server connection may get our own handshake. */
	if (!t->accept_declined && t->capture && SSL_is_server(t->ssl)) {
		int r = tls13_accept_step(t);
		if (r != 2)
			return r;
	}
	tls_bind(t);
	ERR_clear_error();
	errno = 0;
	transport_records_observe(t);
	int ret = SSL_do_handshake(t->ssl);
	transport_records_observe(NULL);
	if (ret == 1) {
		t->read_wants_write = t->write_wants_read = false;
		tls_key_exchange_release(t->ssl);
		if (t->capture && SSL_is_server(t->ssl))
			transport_records_take_over(t); /* a client's waits for its tickets */
		return 1;
	}
	int err = SSL_get_error(t->ssl, ret);
	if (err == SSL_ERROR_WANT_READ) {
		t->readable = false;
		return 0;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		t->writable = false;
		return 0;
	}
	/* Keep the error queue's first entry for the caller's reason; the
	 * caller clears the queue after describing it. */
	t->ssl_error = ERR_peek_error();
	t->sys_errno = errno;
	return -1;
}

/* An empty error queue needs no clearing; clearing it costs more than
 * looking, on every read and write. */
static inline void tls_clear_errors(void)
{
	if (ERR_peek_error())
		ERR_clear_error();
}

static ssize_t tls_read(struct transport *t, void *buf, size_t len)
{
	tls_bind(t);
	tls_clear_errors();
	errno = 0;
	t->read_wants_write = false;
	int n = SSL_read(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	return tls_settle(t, n, true);
}

/* Sends the staged records; what the socket does not take is kept as
 * unsent. False on a failed send (or no memory to keep the rest). */
static bool stage_send(struct transport *t)
{
	size_t off = 0;
	while (off < stage.len) {
		ssize_t n = transport_send_some(t, stage.data + off, stage.len - off);
		if (n < 0)
			return false;
		if (n == 0)
			break; /* the socket is full */
		off += (size_t)n;
	}
	if (off < stage.len && !transport_keep_unsent(t, stage.data + off, stage.len - off)) {
		t->sys_errno = ENOMEM;
		return false;
	}
	return true;
}

/* Several records of buf, staged and sent together. */
static ssize_t tls_write_staged(struct transport *t, const void *buf, size_t len)
{
	size_t done = 0;
	int last = 1;
	stage.owner = t;
	stage.len = 0;
	while (done < len && sizeof stage.data - stage.len >= TLS_RECORD_ROOM) {
		size_t want = len - done;
		int n = SSL_write(t->ssl, (const char *)buf + done, want > INT32_MAX ? INT32_MAX : (int)want);
		if (n <= 0) {
			last = n;
			break;
		}
		done += (size_t)n;
	}
	stage.owner = NULL;
	bool sent = stage.len == 0 || stage_send(t);
	stage.len = 0;
	if (!sent)
		return TRANSPORT_ERROR;
	if (done)
		return (ssize_t)done;
	int r = tls_settle(t, last, false);
	return r == 0 ? TRANSPORT_ERROR : r;
}

static ssize_t tls_write(struct transport *t, const void *buf, size_t len)
{
	tls_bind(t);
	if (t->unsent) {
		int f = transport_flush(t);
		if (f != 1)
			return f;
	}
	tls_clear_errors();
	errno = 0;
	t->write_wants_read = false;
	if (t->stage_writes && len > SSL3_RT_MAX_PLAIN_LENGTH)
		return tls_write_staged(t, buf, len);
	int n = SSL_write(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	int r = tls_settle(t, n, false);
	return r == 0 ? TRANSPORT_ERROR : r;
}

static void tls_shutdown(struct transport *t)
{
	tls_bind(t);
	ERR_clear_error();
	if (SSL_is_init_finished(t->ssl))
		SSL_shutdown(t->ssl);
	ERR_clear_error();
}

static bool tls_has_pending(struct transport *t)
{
	return t->rx_len || SSL_has_pending(t->ssl);
}

void transport_forget_handshake(struct transport *t)
{
	if (!t->ssl)
		return;
	if (t->stream) {
		/* Nothing of the SSL serves our records, and it was most of
		 * an idle connection: 3.4 KiB instead of 15.3. */
		SSL_free(t->ssl);
		t->ssl = NULL;
	} else {
		tls_session_release(t->ssl);
	}
}

const char *transport_tls_version(const struct transport *t)
{
	if (t->stream)
		return "TLSv1.3";
	return t->ssl ? SSL_get_version(t->ssl) : NULL;
}

bool transport_received_any(const struct transport *t)
{
	if (t->received)
		return true;
	/* OpenSSL's own socket BIO (no method of ours) counts for itself. */
	BIO *b = t->ssl ? SSL_get_rbio(t->ssl) : NULL;
	return b && BIO_method_type(b) == BIO_TYPE_SOCKET && BIO_number_read(b) > 0;
}

const struct transport_ops transport_tls_ops = {
	.name = "tls",
	.handshake = tls_handshake,
	.read = tls_read,
	.write = tls_write,
	.shutdown = tls_shutdown,
	.has_pending = tls_has_pending,
};

void transport_init_tls(struct transport *t, int fd, SSL *ssl, bool server)
{
	*t = (struct transport){ .ops = &transport_tls_ops, .fd = fd, .ssl = ssl };
	BIO *bio = thread_socket_bio();
	if (bio) {
		BIO_set_data(bio, t);
		SSL_set_bio(ssl, bio, bio); /* takes the one reference */
		SSL_set_read_ahead(ssl, 1);
	} else {
		SSL_set_fd(ssl, fd); /* OpenSSL's socket BIO: slower, same result */
	}
	/* A peer that closes without close_notify ends the stream; HTTP framing
	 * decides whether the message was complete. */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Accepted connections may idle by the thousand: their record buffers
	 * go back while empty. Pooled upstream connections are few and busy:
	 * they keep theirs rather than allocate them for every response. */
	if (server)
		SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	else
		SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	/* Clients' connections carry the large responses; a pooled upstream
	 * connection's writes are requests, and its session does not flush
	 * unsent bytes (transport_flush). */
	t->stage_writes = server;
	/* TLS 1.3 connections take over their records once established (a
	 * client once its first response is in); that needs our socket BIO. */
	if (bio)
		transport_records_watch(t);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
}
