/*
 * transport_records: an established TLS 1.3 server connection's records,
 * sealed and opened by pullgate (tls/tls13_records.h) instead of libssl.
 *
 * OpenSSL still does the whole handshake. While it runs, the connection
 * notes the application traffic secrets (the context's key log callback)
 * and how many records OpenSSL sealed with ours after our Finished (its
 * session tickets); the socket BIO hands OpenSSL one record at a time, so
 * bytes after the client's Finished stay with the transport. Once the
 * handshake is done, the transport takes the records over. Per request
 * this skips libssl's record machinery, about half of what a kept-alive
 * request cost in user space. Once the role has read what it needs of the
 * handshake (transport_forget_handshake), the SSL itself goes: most of an
 * idle connection's memory. A connection that cannot be taken over
 * (TLS 1.2, early data, a negotiated fragment length, a context without
 * the callback) stays with OpenSSL, with the same results.
 */
#ifndef PULLGATE_TLS_TRANSPORT_RECORDS_H
#define PULLGATE_TLS_TRANSPORT_RECORDS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/transport.h"

/* Gives a server context the key log callback that taking over needs. */
void transport_records_prepare(SSL_CTX *ctx);

/* Starts watching a server connection's handshake (before it begins).
 * False when out of memory; the connection then stays with OpenSSL. */
bool transport_records_watch(struct transport *t);

/* After a successful handshake: takes the records over when the
 * connection qualifies; true if it did (t->ops changed). Either way the
 * watch ends. */
bool transport_records_take_over(struct transport *t);

/* Puts t's records in our hands with these application traffic secrets
 * (tls/tls13_records.h); of what we send, seal_seq records went out
 * already. The take over's last step, and how tests and the fuzz target
 * make such a transport on any socket. False when out of memory or the
 * suite is not ours to protect. */
bool transport_records_start(struct transport *t, uint32_t suite_id, const unsigned char *open_secret,
			     const unsigned char *seal_secret, size_t secret_len, uint64_t seal_seq);

/* Frees what the connection's watch or records hold. */
void transport_records_free(struct transport *t);

/* The transport an SSL of ours is bound to (transport_tls.c), or NULL. */
struct transport *transport_tls_of(const SSL *ssl);

extern const struct transport_ops transport_records_ops;

#endif
