/* transport: the plain implementation and the shared readiness helpers. */
#include "tls/transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "tls/tls13_accept.h"
#include "tls/transport_records.h"

void transport_note_events(struct transport *t, unsigned events)
{
	if (events & (IO_READ | IO_HUP | IO_ERR))
		t->readable = true;
	if (events & (IO_WRITE | IO_ERR))
		t->writable = true;
	if (events & (IO_HUP | IO_ERR))
		t->hup = true;
}

bool transport_can_read(const struct transport *t)
{
	if (t->read_wants_write)
		return t->writable;
	return t->readable || transport_has_pending((struct transport *)t);
}

bool transport_can_write(const struct transport *t)
{
	if (t->write_wants_read)
		return t->readable;
	return t->writable;
}

ssize_t transport_send_some(struct transport *t, const void *p, size_t len)
{
	for (;;) {
		ssize_t n = send(t->fd, p, len, transport_send_flags(t));
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			t->writable = false;
			return 0;
		}
		t->sys_errno = errno;
		return TRANSPORT_ERROR;
	}
}

int transport_flush(struct transport *t)
{
	while (t->unsent) {
		ssize_t n = transport_send_some(t, t->unsent + t->unsent_off,
						t->unsent_len - t->unsent_off);
		if (n < 0)
			return TRANSPORT_ERROR;
		if (n == 0)
			return TRANSPORT_AGAIN;
		t->unsent_off += (size_t)n;
		if (t->unsent_off == t->unsent_len) {
			free(t->unsent);
			t->unsent = NULL;
			t->unsent_len = t->unsent_off = 0;
		}
	}
	return 1;
}

bool transport_keep_unsent(struct transport *t, const char *p, size_t n)
{
	size_t left = t->unsent ? t->unsent_len - t->unsent_off : 0;
	char *all = malloc(left + n);
	if (!all)
		return false;
	if (left)
		memcpy(all, t->unsent + t->unsent_off, left);
	memcpy(all + left, p, n);
	free(t->unsent);
	t->unsent = all;
	t->unsent_len = left + n;
	t->unsent_off = 0;
	return true;
}

void transport_drop_received(struct transport *t, size_t n)
{
	t->rx_len -= n;
	if (t->rx_len) {
		memmove(t->rx, t->rx + n, t->rx_len);
	} else {
		free(t->rx);
		t->rx = NULL;
	}
}

void transport_close(struct transport *t)
{
	free(t->unsent);
	t->unsent = NULL;
	t->unsent_len = t->unsent_off = 0;
	free(t->rx);
	t->rx = NULL;
	t->rx_len = 0;
	transport_records_free(t);
	tls13_accept_free(t);
	if (t->ssl) {
		SSL_free(t->ssl);
		t->ssl = NULL;
	}
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
}

static int plain_handshake(struct transport *t) { return 1; }

static ssize_t plain_read(struct transport *t, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = recv(t->fd, buf, len, 0);
		if (n > 0) {
			t->received = true;
			/* Short: the socket is empty, and edge-triggered polling
			 * reports what comes next; skip the read that would only
			 * say EAGAIN. After a hangup the end of stream is still to
			 * be read, and no new edge would come for it. */
			if ((size_t)n < len && !t->hup)
				t->readable = false;
			return n;
		}
		if (n == 0) {
			t->eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			t->readable = false;
			return TRANSPORT_AGAIN;
		}
		t->sys_errno = errno;
		return TRANSPORT_ERROR;
	}
}

static ssize_t plain_write(struct transport *t, const void *buf, size_t len)
{
	ssize_t n = transport_send_some(t, buf, len);
	return n == 0 && len ? TRANSPORT_AGAIN : n;
}

static void plain_shutdown(struct transport *t) { shutdown(t->fd, SHUT_WR); }
static bool plain_has_pending(struct transport *t) { return false; }

const struct transport_ops transport_plain_ops = {
	.name = "plain",
	.handshake = plain_handshake,
	.read = plain_read,
	.write = plain_write,
	.shutdown = plain_shutdown,
	.has_pending = plain_has_pending,
};

void transport_init_plain(struct transport *t, int fd)
{
	*t = (struct transport){ .ops = &transport_plain_ops, .fd = fd };
}
