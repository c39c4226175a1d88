/*
 * tls_release: what OpenSSL 3.0 keeps for the whole life of a connection
 * though nothing reads it once the handshake is done, let go early. An idle
 * keep-alive connection is mostly the TLS library's state; these calls are
 * how it gets smaller.
 */
#ifndef PULLGATE_TLS_TLS_RELEASE_H
#define PULLGATE_TLS_TLS_RELEASE_H

#include <openssl/ssl.h>
#include <stdbool.h>

/* Empties the key exchange's two keys (ours and the peer's share) once the
 * handshake is done: OpenSSL 3.0 keeps them, with their locks, until the
 * connection ends, about 0.4 KiB of every idle connection, though nothing
 * reads them again. The keys stay, empty, for SSL_free. */
void tls_key_exchange_release(SSL *ssl);

/* Lets an established TLS 1.3 server connection drop its session, with its
 * lock and its own parse of the peer's certificates (about 3.7 KiB of an
 * idle guard connection): the tickets were issued during the handshake and
 * the records need only the traffic secrets. Call it once the connection's
 * certificate and SNI have been read; afterwards SSL_get_session and
 * SSL_get0_peer_certificate return NULL. The connection's context becomes a
 * bare one of the same method, which carries no callbacks. True when the
 * session went; false when it stays (a client, TLS 1.2, early data, or a
 * negotiated maximum fragment length, which lives in the session). */
bool tls_session_release(SSL *ssl);

#endif
