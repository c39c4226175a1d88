/*
 * tls13_accept: a server connection's handshake done by pullgate's own TLS
 * 1.3 code (tls/tls13_server.h) instead of OpenSSL's, when the connection's
 * context offers it and the ClientHello is one it answers.
 *
 * The transport reads the first record itself. A ClientHello that is not
 * ours (TLS 1.2, a resumption, another group, a hello that does not parse,
 * one the role declines) stays in the transport's received bytes, and
 * OpenSSL's handshake reads it from there as if nothing had happened. Ours
 * ends with the records in our hands (tls/transport_records.h), as an
 * OpenSSL handshake that the transport took over does; the SSL object was
 * never used and goes with transport_forget_handshake.
 */
#ifndef PULLGATE_TLS_TLS13_ACCEPT_H
#define PULLGATE_TLS_TLS13_ACCEPT_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "tls/tls13_client_hello.h"
#include "tls/tls13_server.h"
#include "tls/transport.h"

/* What the role answers a ClientHello with. */
struct tls13_accept_choice {
	const struct tls13_server_identity *id; /* borrowed for the handshake */
	tls13_server_judge_chain *judge;
	void *judge_arg;
	/* Set: once the handshake is done, a session ticket that OpenSSL
	 * resumes (tls/tls13_ticket.h), sealed with these keys (name 16, HMAC
	 * 32, AES 32, as SSL_CTX_set_tlsext_ticket_keys takes them) for this
	 * session id context, and the client certificate it vouches for,
	 * from peer (with the ticket's lifetime in seconds; NULL: no ticket). */
	const unsigned char *ticket_keys;
	const unsigned char *sid_ctx;
	size_t sid_ctx_len;
	X509 *(*peer)(void *judge_arg, long *lifetime);
	/* Told why a handshake failed after our flight went out (the alert
	 * sent, or TLS13_SERVER_PEER_ALERT), for the role's refusal log. */
	void (*failed)(void *judge_arg, int alert);
};

/* What a context offers: prepare looks at the hello on ssl (it may switch
 * ssl's context for the SNI, and note on ssl what it found) and fills
 * *choice; false leaves the hello to OpenSSL. */
struct tls13_accept_offer {
	bool (*prepare)(void *arg, SSL *ssl, const struct tls13_client_hello *ch,
	                struct tls13_accept_choice *choice);
	void *arg;
};

/* Makes connections on ctx try our handshake first; offer is borrowed and
 * must outlive ctx. False when out of memory. */
bool tls13_accept_offer_install(SSL_CTX *ctx, const struct tls13_accept_offer *offer);

/* The offer ctx makes, or NULL. */
const struct tls13_accept_offer *tls13_accept_offer_of(SSL_CTX *ctx);

/* The transport's side, from its handshake step (tls/transport_tls.c):
 * 1 when the handshake is done, 0 to wait for events, -1 when it failed,
 * 2 when OpenSSL is to do it. */
int tls13_accept_step(struct transport *t);

/* Frees what an unfinished handshake of ours holds. */
void tls13_accept_free(struct transport *t);

#endif
