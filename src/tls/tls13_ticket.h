/*
 * tls13_ticket: the NewSessionTicket that ends pullgate's own server
 * handshake, in OpenSSL's format, so that OpenSSL resumes it like one of
 * its own: the session (TLS 1.3, the suite, the resumption PSK, the
 * session id context, ALPN and the client certificate; no SNI, which TLS
 * 1.3 resumption does not look at) encoded by
 * i2d_SSL_SESSION, then AES-256-CBC and HMAC-SHA256 under the context's
 * ticket keys (key name | IV | ciphertext | MAC). The PSK follows RFC 8446,
 * 4.6.1, from the resumption master secret and the ticket's nonce.
 */
#ifndef PULLGATE_TLS_TLS13_TICKET_H
#define PULLGATE_TLS_TLS13_TICKET_H

#include <stddef.h>

#include "tls/tls13_accept.h"
#include "tls/tls13_server.h"

#define TLS13_TICKET_MESSAGE_MAX 8192

/* Writes the NewSessionTicket message for the finished handshake s with
 * what choice says (its ticket keys set) into out (room bytes); its
 * length, or 0 when there is no ticket to give (no certificate from
 * choice->peer, no lifetime left, too large, libcrypto failed). ssl names
 * the suite. */
size_t tls13_ticket_message(const struct tls13_server *s, const struct tls13_accept_choice *choice, SSL *ssl,
                            unsigned char *out, size_t room);

#endif
