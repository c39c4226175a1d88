/*
 * transport: a non-blocking byte stream over a socket, plain or TLS, behind
 * one interface so that HTTP and proxy code never call SSL_* themselves.
 *
 * Readiness is edge-triggered: the owner records IO_READ/IO_WRITE events with
 * transport_note_events and calls read/write until they return
 * TRANSPORT_AGAIN. TLS may need the opposite direction (a read that must
 * write, a write that must read); the transport tracks that itself, so the
 * owner only retries on any event. transport_has_pending tells about bytes
 * the TLS layer already decrypted that the socket will never signal again.
 */
#ifndef PULLGATE_TLS_TRANSPORT_H
#define PULLGATE_TLS_TRANSPORT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define TRANSPORT_AGAIN (-2)
#define TRANSPORT_ERROR (-1)

struct transport;

struct transport_ops {
	const char *name;
	/* 1 when the handshake is done, 0 to wait for events, -1 on failure. */
	int (*handshake)(struct transport *t);
	/* > 0 bytes, 0 at a clean end of stream, TRANSPORT_AGAIN or TRANSPORT_ERROR. */
	ssize_t (*read)(struct transport *t, void *buf, size_t len);
	/* > 0 bytes written, TRANSPORT_AGAIN or TRANSPORT_ERROR. */
	ssize_t (*write)(struct transport *t, const void *buf, size_t len);
	/* Sends a close notification where the protocol has one; best effort. */
	void (*shutdown)(struct transport *t);
	bool (*has_pending)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	int fd;
	SSL *ssl;              /* NULL for plain, and once our own records need it no more */
	bool readable;         /* socket may have bytes (edge seen, no EAGAIN since) */
	bool writable;         /* socket may take bytes */
	bool read_wants_write; /* TLS read blocked until the socket is writable */
	bool write_wants_read; /* TLS write blocked until the socket is readable */
	bool eof;              /* peer finished sending */
	bool hup;              /* the poller saw the peer hang up (FIN or error) */
	bool stage_writes;     /* TLS: a long write leaves as several records in one send */
	bool received;         /* the peer sent at least one byte */
	bool closing;          /* the connection closes after what is written now */
	unsigned long ssl_error; /* first OpenSSL error of a failure, for reasons */
	int sys_errno;         /* errno of a failed system call */
	char *unsent;          /* accepted bytes the socket has not taken yet (owned) */
	size_t unsent_len, unsent_off;
	unsigned char *rx;     /* TLS: received bytes not yet consumed (owned) */
	size_t rx_len;
	struct tls_capture *capture; /* a watched handshake (tls/transport_records.h; owned) */
	struct tls_stream *stream;   /* our own records once taken over (owned) */
	struct tls13_accepting *accepting; /* our own handshake under way (tls/tls13_accept.h; owned) */
	bool accept_declined;        /* the hello went to OpenSSL */
	bool accepted_ours;          /* the handshake was our own, and done */
};

extern const struct transport_ops transport_plain_ops;
extern const struct transport_ops transport_tls_ops;

void transport_init_plain(struct transport *t, int fd);
/* Takes ssl (freed by transport_close). server: accept side or connect side. */
void transport_init_tls(struct transport *t, int fd, SSL *ssl, bool server);

/* Once the owner has read what it needs of the handshake (the peer's
 * certificate, the SNI), a TLS server connection lets go of it: one whose
 * records are our own (tls/transport_records.h) frees its SSL, leaving
 * t->ssl NULL; another lets go of its session (tls/tls_release.h). A no-op
 * otherwise. */
void transport_forget_handshake(struct transport *t);

/* The protocol version's name ("TLSv1.3"), or NULL for a plain transport. */
const char *transport_tls_version(const struct transport *t);

/* Whether the peer sent anything at all: a connection that closes without
 * a byte is a probe (a load balancer's check), not a failed handshake. */
bool transport_received_any(const struct transport *t);

/* Records poller events as readiness. */
void transport_note_events(struct transport *t, unsigned events);
/* True when a read attempt may make progress now. */
bool transport_can_read(const struct transport *t);
/* True when a write attempt may make progress now. */
bool transport_can_write(const struct transport *t);

static inline int transport_handshake(struct transport *t) { return t->ops->handshake(t); }
static inline ssize_t transport_read(struct transport *t, void *b, size_t n) { return t->ops->read(t, b, n); }
static inline ssize_t transport_write(struct transport *t, const void *b, size_t n) { return t->ops->write(t, b, n); }
static inline bool transport_has_pending(struct transport *t) { return t->ops->has_pending(t); }
static inline void transport_shutdown(struct transport *t) { t->ops->shutdown(t); }
/* Whether bytes a write accepted still wait for the socket: the output is
 * not out (nor may a shutdown follow) until transport_flush says so. */
static inline bool transport_unsent(const struct transport *t) { return t->unsent != NULL; }
/* The connection closes once what is written from now on is out: sends
 * hold back their last partial segment (MSG_MORE), so that the response,
 * the close_notify and the FIN that follow (transport_shutdown, then
 * shutdown(2), which pushes them out) leave in one segment rather than
 * three. */
static inline void transport_closing(struct transport *t) { t->closing = true; }
/* The flags of every send(2) on t. */
static inline int transport_send_flags(const struct transport *t)
{
	return MSG_NOSIGNAL | (t->closing ? MSG_MORE : 0);
}
/* send(2) of what the socket takes of p[0..len): the count (0 when it is
 * full, which clears writable) or TRANSPORT_ERROR with sys_errno set. */
ssize_t transport_send_some(struct transport *t, const void *p, size_t len);
/* Sends what waits: 1 when nothing is left, TRANSPORT_AGAIN, TRANSPORT_ERROR. */
int transport_flush(struct transport *t);
/* Keeps p[0..n) as unsent bytes (after any already kept); false when out
 * of memory. */
bool transport_keep_unsent(struct transport *t, const char *p, size_t n);
/* Drops the first n of the received bytes not yet consumed (t->rx). */
void transport_drop_received(struct transport *t, size_t n);
/* Frees the SSL and closes the socket. */
void transport_close(struct transport *t);

#endif
