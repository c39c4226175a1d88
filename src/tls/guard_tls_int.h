/*
 * guard_tls_int: the inside of a guard TLS set, shared by guard_tls.c (build
 * and lifetime), guard_tls_sni.c (SNI and Host rules) and guard_tls_session.c
 * (tickets). Nothing outside src/tls/guard_tls*.c includes this.
 */
#ifndef PULLGATE_TLS_GUARD_TLS_INT_H
#define PULLGATE_TLS_GUARD_TLS_INT_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conf/guard_conf.h"
#include "core/slice.h"
#include "tls/cert_inventory.h"
#include "tls/tls13_accept.h"
#include "tls/verify_policy.h"

#define GUARD_TICKET_KEYS_LEN 80       /* name 16, HMAC 32, AES 32 */
#define GUARD_SESSION_LIFETIME_S 3600  /* cap on any ticket's life */
#define VERIFY_CACHE_SLOTS 256         /* distinct client chains remembered per set */

#define GUARD_SESSION_ID_CONTEXT_LEN 14

struct guard_tls {
	atomic_int refs;
	const struct guard_conf *conf; /* borrowed; outlives the set */
	X509_STORE *store;
	struct verify_policy policy;   /* conf + the set's verified chains */
	SSL_CTX *default_ctx;
	SSL_CTX **host_ctx;            /* per conf->hosts[i]; NULL without a certificate */
	struct cert_inventory inventory; /* server certificates, anchors, CRLs */
	/* Our own handshake (guard_tls_accept.c): what each context presents
	 * (key NULL: that context's key is not one it can use), the offer
	 * every context makes, and the ticket keys its tickets are sealed
	 * with. */
	struct tls13_server_identity default_id;
	struct tls13_server_identity *host_id; /* per conf->hosts[i] */
	struct tls13_accept_offer offer;
	unsigned char ticket_keys[GUARD_TICKET_KEYS_LEN];
};

/* The index of the hosts entry that SNI name selects, or -1. */
int guard_tls_host_index(const struct guard_conf *conf, struct slice name);

/* The session id context of the guard's sessions. */
extern const unsigned char guard_session_id_context[GUARD_SESSION_ID_CONTEXT_LEN];

/* lifetime, capped at what is left of peer's validity (at least 1). */
long guard_ticket_lifetime(X509 *peer, long lifetime);

/* Prepares set's own handshake for its contexts (after they are built):
 * false when out of memory. A context whose key is not ECDSA P-256 keeps
 * OpenSSL's handshake. */
bool guard_tls_accept_setup(struct guard_tls *set);
void guard_tls_accept_clear(struct guard_tls *set);

/* Registers SNI selection (client hello callback) on ctx for set. */
bool guard_tls_sni_install(SSL_CTX *ctx, struct guard_tls *set);

/* Tickets on ctx: the set's keys (shared by all its contexts, so a ticket
 * resumes across its SNI contexts and in no other set), a lifetime capped
 * at the client certificate's notAfter, and a re-check on every resumption. */
bool guard_tls_session_install(SSL_CTX *ctx, struct guard_tls *set,
			       const unsigned char keys[GUARD_TICKET_KEYS_LEN]);

#endif
