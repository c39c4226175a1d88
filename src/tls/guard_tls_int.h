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
#include "tls/cert_inventory.h"
#include "tls/verify_policy.h"

#define GUARD_TICKET_KEYS_LEN 80       /* name 16, HMAC 32, AES 32 */
#define GUARD_SESSION_LIFETIME_S 3600  /* cap on any ticket's life */
#define VERIFY_CACHE_SLOTS 256         /* distinct client chains remembered per set */

struct guard_tls {
	atomic_int refs;
	const struct guard_conf *conf; /* borrowed; outlives the set */
	X509_STORE *store;
	struct verify_policy policy;   /* conf + the set's verified chains */
	SSL_CTX *default_ctx;
	SSL_CTX **host_ctx;            /* per conf->hosts[i]; NULL without a certificate */
	struct cert_inventory inventory; /* server certificates, anchors, CRLs */
};

/* Registers SNI selection (client hello callback) on ctx for set. */
bool guard_tls_sni_install(SSL_CTX *ctx, struct guard_tls *set);

/* Tickets on ctx: the set's keys (shared by all its contexts, so a ticket
 * resumes across its SNI contexts and in no other set), a lifetime capped
 * at the client certificate's notAfter, and a re-check on every resumption. */
bool guard_tls_session_install(SSL_CTX *ctx, struct guard_tls *set,
			       const unsigned char keys[GUARD_TICKET_KEYS_LEN]);

#endif
