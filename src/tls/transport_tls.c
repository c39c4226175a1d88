/*
 * transport_tls: non-blocking OpenSSL on a socket. Each WANT_READ or
 * WANT_WRITE clears the matching readiness flag, so the owner retries only
 * after the poller reports that edge; a read that wants write (or the
 * reverse) is remembered and retried on the other edge.
 */
#include <errno.h>
#include <openssl/err.h>

#include "tls/transport.h"

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
	ERR_clear_error();
	errno = 0;
	int ret = SSL_do_handshake(t->ssl);
	if (ret == 1) {
		t->read_wants_write = t->write_wants_read = false;
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

static ssize_t tls_read(struct transport *t, void *buf, size_t len)
{
	ERR_clear_error();
	errno = 0;
	t->read_wants_write = false;
	int n = SSL_read(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	return tls_settle(t, n, true);
}

static ssize_t tls_write(struct transport *t, const void *buf, size_t len)
{
	ERR_clear_error();
	errno = 0;
	t->write_wants_read = false;
	int n = SSL_write(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	int r = tls_settle(t, n, false);
	return r == 0 ? TRANSPORT_ERROR : r;
}

static void tls_shutdown(struct transport *t)
{
	ERR_clear_error();
	if (SSL_is_init_finished(t->ssl))
		SSL_shutdown(t->ssl);
	ERR_clear_error();
}

static bool tls_has_pending(struct transport *t)
{
	return SSL_has_pending(t->ssl);
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
	SSL_set_fd(ssl, fd);
	/* A peer that closes without close_notify ends the stream; HTTP framing
	 * decides whether the message was complete. */
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			       SSL_MODE_RELEASE_BUFFERS);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
}
