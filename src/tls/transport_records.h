/*
 * transport_records: an established TLS 1.3 connection's records, sealed
 * and opened by pullgate (tls/tls13_records.h) instead of libssl.
 *
 * OpenSSL still does the whole handshake. While it runs, the connection
 * notes the application traffic secrets (from the key schedule's provider,
 * tls/tls13_kdf.h, or else the context's key log callback) and how many
 * records OpenSSL sealed and opened with them after each side's Finished;
 * the socket BIO hands OpenSSL one record at a time, so bytes OpenSSL has
 * not asked for stay with the transport. A server takes
 * its records over as soon as the handshake is done; a client (a pooled
 * upstream connection) once its first response is in, by when OpenSSL has
 * read the server's session tickets for the pool. Per request this skips
 * libssl's record machinery, about half of what a kept-alive request cost
 * in user space. Once the role has read what it needs of the handshake
 * (transport_forget_handshake), a server connection's SSL itself goes:
 * most of an idle connection's memory. A connection that cannot be taken
 * over (TLS 1.2, early data, a negotiated fragment length, a key update
 * OpenSSL went through, a context with neither source of secrets) stays
 * with OpenSSL, with the same results.
 */
#ifndef PULLGATE_TLS_TRANSPORT_RECORDS_H
#define PULLGATE_TLS_TRANSPORT_RECORDS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/transport.h"

/* A new context whose connections can take their records over: made with
 * the provider key schedule's property query (tls/tls13_kdf.h), which
 * hands the handshake's secrets to the watch; without that provider, with
 * the key log callback instead. NULL when out of memory. */
SSL_CTX *transport_records_ctx_new(const SSL_METHOD *method);

/* Gives a context made elsewhere the key log callback that taking over
 * needs. */
void transport_records_prepare(SSL_CTX *ctx);

/* Around each call that may derive a watched handshake's secrets: the
 * calling thread's key schedule hands them to t's watch (t NULL: to no
 * one). */
void transport_records_observe(struct transport *t);

/* Starts watching a connection's handshake (before it begins). False when
 * out of memory; the connection then stays with OpenSSL. */
bool transport_records_watch(struct transport *t);

/* Takes the records over when the connection qualifies; true if it did
 * (t->ops changed). A server does it when its handshake is done; a client
 * (a pooled upstream connection) when it goes back to the pool after its
 * first response, once the server's tickets have come: a client that
 * finds OpenSSL partway through a record keeps watching, to try again.
 * Otherwise the watch ends either way. */
bool transport_records_take_over(struct transport *t);

/* Ends the watch of a handshake that OpenSSL did not do after all. */
void transport_records_unwatch(struct transport *t);

/* Whether what a TLS 1.3 server writes now may wait for its next send:
 * its session tickets, written once the client's Finished is in, when the
 * client's first request came in the same read. They then leave in the
 * response's segment instead of one of their own (a ticket is for later
 * connections: nobody waits for it). */
bool transport_records_tickets_may_wait(const struct transport *t);

/* The application traffic secrets and where each direction stands. */
struct transport_secrets {
	uint32_t suite_id; /* SSL_CIPHER_get_id */
	const unsigned char *open_secret; /* the peer's */
	const unsigned char *seal_secret; /* ours */
	size_t secret_len;
	uint64_t open_seq, seal_seq; /* records each way under these secrets so far */
	bool client;                 /* the connecting side (it may get tickets) */
};

/* Puts t's records in our hands with these secrets (tls/tls13_records.h).
 * The take over's last step, and how tests and the fuzz target make such a
 * transport on any socket. False when out of memory or the suite is not
 * ours to protect. */
bool transport_records_start(struct transport *t, const struct transport_secrets *k);

/* Frees what the connection's watch or records hold. */
void transport_records_free(struct transport *t);

/* Seals len bytes (at most TLS13_MAX_PLAIN) of content type with the
 * records t has taken over into out (TLS13_SEALED_LEN(len) bytes of room),
 * for what the handshake's end still sends (a session ticket): the
 * record's length, 0 on failure. */
size_t transport_records_seal(struct transport *t, int type, const void *in, size_t len,
			      unsigned char *out);

/* The most transport_records_hold keeps. */
#define TRANSPORT_RECORDS_HELD_MAX 2048

/* Keeps len bytes of records sealed with transport_records_seal to go out
 * in front of the next write's, in its send: a session ticket, when the
 * client's first request came with its Finished and the response follows.
 * A close_notify sent alone drops them. False (nothing kept) when out of
 * memory, longer than TRANSPORT_RECORDS_HELD_MAX or others wait already:
 * the caller then sends them itself. */
bool transport_records_hold(struct transport *t, const unsigned char *rec, size_t len);

/* The transport an SSL of ours is bound to (transport_tls.c), or NULL. */
struct transport *transport_tls_of(const SSL *ssl);

extern const struct transport_ops transport_records_ops;

#endif
