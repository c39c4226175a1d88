/*
 * guard_tls: the guard's TLS server side as one immutable, refcounted set —
 * SSL_CTXs (default and per-SNI), the trust store with CRLs, and the pin
 * policy — built from a guard_conf by reading every certificate, key, CA and
 * CRL file. A reload builds a new set and swaps it in; connections keep the
 * set they started with. Sessions (tickets) from one set never resume in
 * another, and never outlive the client certificate's notAfter.
 */
#ifndef PULLGATE_TLS_GUARD_TLS_H
#define PULLGATE_TLS_GUARD_TLS_H

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conf/guard_conf.h"
#include "core/slice.h"
#include "tls/cert_inventory.h"

struct guard_tls;

/* Builds a set from conf (borrowed; must outlive the set). On failure
 * returns NULL and writes "file: what is wrong" into err. Warnings (a shared
 * anchor without pins, a certificate close to expiry) are logged here, once
 * per build, because they describe the set that is about to serve. */
struct guard_tls *guard_tls_build(const struct guard_conf *conf, char *err, size_t errlen);
void guard_tls_ref(struct guard_tls *set);
void guard_tls_unref(struct guard_tls *set);

/* The context a new connection starts with; SNI may switch it. */
SSL_CTX *guard_tls_ctx(struct guard_tls *set);

/* Calls fn for everything the set uses that expires: its server
 * certificates (default and hosts entries, one per file), every trust
 * anchor (a preset's file is "NAME preset") and every CRL with a
 * nextUpdate. Reads only what the build recorded, never a file; safe from
 * any thread while the caller holds a reference. */
void guard_tls_inventory(struct guard_tls *set, cert_info_fn fn, void *arg);

/* Client chains the set verified from its cache of verified chains
 * (verify_cache.h), and lookups in all, since the set was built. */
void guard_tls_verify_counts(struct guard_tls *set, unsigned long long *hits,
			     unsigned long long *lookups);

/* After a completed handshake: the hosts entry its SNI selected, or NULL. */
const struct guard_host *guard_tls_matched_host(SSL *ssl);

/* True when a request with this Host (port allowed, any case) may be served on
 * a connection whose SNI matched the hosts entry matched (guard_tls_matched_host,
 * read once the handshake is done): Host must match that entry, or, when the SNI
 * matched none, no entry at all. Always true when no hosts are configured. */
bool guard_tls_host_allowed(struct guard_tls *set, const struct guard_host *matched,
			    struct slice host);

/* Why a handshake failed. class is one of: "no certificate", "unknown CA",
 * "expired", "not yet valid", "revoked", "wrong key usage", "not pinned",
 * "protocol". detail is a short human text (the verify error, the subject). */
#define TLS_REFUSAL_DETAIL 256
struct tls_refusal {
	const char *class;
	char detail[TLS_REFUSAL_DETAIL];
};
/* ssl_err is ERR_peek_error() at the failure; call before clearing the queue. */
void guard_tls_describe_failure(SSL *ssl, unsigned long ssl_err, struct tls_refusal *out);

/* The identity header block for a verified connection, built once per
 * connection: "Name: value\r\n" lines per conf. Returns a malloc'd string the
 * caller frees, with its length in *len; NULL on allocation failure. */
char *guard_tls_identity_block(SSL *ssl, const struct identity_headers *conf, size_t *len);

/* A connection's identity, immutable once built and shared by reference:
 * the header block (as guard_tls_identity_block) and the hex SHA-256 of
 * the client certificate ("" without one), for the access log. */
struct guard_identity {
	atomic_int refs;
	const struct identity_headers *conf; /* what it was built for */
	size_t len;
	char fingerprint[65];
	char block[];
};

/* The identity of a verified connection, with a reference the caller
 * drops with guard_identity_unref; NULL on allocation failure. Built once
 * per parsed client certificate and kept with it: connections whose
 * handshakes share the certificate (tls/verify_cache.h) share this too. */
struct guard_identity *guard_tls_identity(SSL *ssl, const struct identity_headers *conf);
void guard_identity_unref(struct guard_identity *id);

/* True when name is a header the guard sets itself (Client-Cert,
 * Client-Cert-Chain and the configured identity names): a client's copy is
 * removed before forwarding. */
bool guard_identity_is_reserved(const struct identity_headers *conf, struct slice name);

#endif
