/*
 * verify_policy: how the guard judges a client certificate during the
 * handshake, and the per-connection record of what it found. The checks run
 * inside OpenSSL's certificate verification, so any failure aborts the
 * handshake with an alert before a byte of application data is read — also
 * in TLS 1.3, where the client believes the handshake is over by then.
 *
 * Order: chain to an anchor with every certificate in its validity period,
 * purpose sslclient (an extendedKeyUsage must include clientAuth), CRLs when
 * configured (done by X509_verify_cert); then keyUsage digitalSignature when
 * the leaf has keyUsage, then the pins of the connection's scope.
 */
#ifndef PULLGATE_TLS_VERIFY_POLICY_H
#define PULLGATE_TLS_VERIFY_POLICY_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "conf/guard_conf.h"
#include "tls/verify_cache.h"

/* What one connection learned during its handshake. Owned by the SSL (freed
 * with it through ex_data); lives as long as the SSL. */
struct tls_conn_state {
	const struct guard_host *host; /* hosts entry the SNI matched, or NULL */
	const char *class;             /* refusal class, NULL when none recorded */
	char *detail;                  /* with class: what was refused (owned), or NULL */
	/* A handshake of our own (tls/tls13_accept.h): the client's verified
	 * certificate and the chain it sent, which the SSL does not know. */
	X509 *peer;
	STACK_OF(X509) *peer_chain;
};

/* The state of ssl, created on first use when create is true. NULL when
 * absent (create false) or on allocation failure. */
struct tls_conn_state *tls_conn_state_get(SSL *ssl, bool create);

/* What a context judges client certificates by: the configuration and the
 * set's cache of verified chains (NULL: none). */
struct verify_policy {
	const struct guard_conf *conf;
	struct verify_cache *cache;
};

/* Makes ctx require and judge client certificates with policy, which is
 * borrowed and must outlive ctx. Returns false on failure. */
bool verify_policy_install(SSL_CTX *ctx, const struct verify_policy *policy);

/* Judges the client chain in xctx (set up as OpenSSL sets it up for ssl's
 * handshake) by policy: 1 when accepted, 0 with the refusal recorded on
 * the connection and as xctx's error. What OpenSSL's handshake calls;
 * pullgate's own handshake calls it the same way. */
int verify_policy_check(X509_STORE_CTX *xctx, const struct verify_policy *policy);

/* The checks that follow a chain verified before (verify_cache_find):
 * keyUsage and the pins of ssl's scope, for its leaf. X509_V_OK, or the
 * X509 error with the refusal recorded on the connection. */
int verify_policy_check_leaf(SSL *ssl, const struct verify_policy *policy, X509 *leaf);

/* Records a refusal that is not the chain's (no certificate, a protocol
 * error) on ssl's connection state, unless one is there already. */
void verify_policy_note_refusal(SSL *ssl, const char *class, const char *detail);

/* The pins that apply to a connection whose SNI matched host (or none): the
 * entry's own pins when it has some, else the global ones, else NULL. */
const struct pin_set *verify_policy_pins(const struct guard_conf *conf,
					 const struct guard_host *host);

/* May a session with this peer certificate resume in the scope of host?
 * Its validity period must hold now and it must satisfy that scope's pins;
 * chain and CRL need no second look because a set never resumes sessions
 * from another set. */
bool verify_policy_session_ok(const struct guard_conf *conf, const struct guard_host *host,
			      X509 *peer);

/* The refusal class of an X509_V_ERR_* code ("unknown CA", "expired", ...;
 * "protocol" when none fits). */
const char *verify_policy_class(int x509_err);

#endif
