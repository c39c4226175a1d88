/*
 * edge_tls: the edge's TLS as one immutable, refcounted set built from an
 * edge_conf — visitor-facing server contexts chosen by SNI per hostname, and
 * origin-facing client contexts, one per distinct (SSL mode, client
 * certificate, CA bundle). A reload builds a new set; connections keep the
 * one they started with.
 */
#ifndef PULLGATE_TLS_EDGE_TLS_H
#define PULLGATE_TLS_EDGE_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "conf/edge_conf.h"
#include "tls/cert_inventory.h"

struct edge_tls;

/* Reads every certificate and key the configuration names and checks each
 * origin-pull client certificate (a leaf, not a CA; key matches; clientAuth
 * when an extended key usage is present; within its validity). On failure
 * returns NULL with "file: what is wrong" in err. Logs a warning for a client
 * certificate that expires within 30 days, and a louder one within 14. */
struct edge_tls *edge_tls_build(const struct edge_conf *conf, char *err, size_t errlen);
void edge_tls_ref(struct edge_tls *set);
void edge_tls_unref(struct edge_tls *set);

/* The context visitor connections start with. Its servername callback
 * selects the record's (or zone's) certificate, and refuses an SNI that names
 * no proxied record — or no SNI at all — with an unrecognized_name alert. */
SSL_CTX *edge_tls_visitor_ctx(struct edge_tls *set);
/* After the handshake: the record the SNI selected. */
const struct edge_record *edge_tls_visitor_record(SSL *ssl);

/* A new client SSL for a pull from rec's origin (ssl full or strict): SNI set
 * (rec->origin_sni), verification per mode (strict: chain to the bundle and
 * the origin name or IP), and the client certificate when pulls are
 * authenticated. NULL when the mode has no TLS or on allocation failure. */
SSL *edge_tls_origin_ssl(struct edge_tls *set, const struct edge_record *rec);
/* An identity for pooling: equal for two records exactly when their origin
 * SSLs are made the same way (mode, client certificate, CA bundle). */
const void *edge_tls_origin_ctx_id(struct edge_tls *set, const struct edge_record *rec);

/* Calls fn for each origin-pull client certificate the set uses, with its
 * file and the whole days until it expires (negative once expired). */
void edge_tls_each_client_cert(struct edge_tls *set,
			       void (*fn)(void *arg, const char *file, int days_left), void *arg);

/* Calls fn for everything the set uses that expires: its visitor
 * certificates and origin-pull client certificates (one per file), and the
 * certificates of the strict-mode CA bundles named in the configuration, as
 * trust anchors. The system bundle is left out: the operating system keeps
 * it, and its many roots would warn about CAs no origin uses. Reads only
 * what the build recorded, never a file; safe from any thread while the
 * caller holds a reference. */
void edge_tls_inventory(struct edge_tls *set, cert_info_fn fn, void *arg);

enum origin_tls_failure {
	ORIGIN_TLS_REFUSED_CERT,   /* the origin rejected our client certificate (or wanted one) */
	ORIGIN_TLS_INVALID_CERT,   /* strict: the origin's certificate failed verification */
	ORIGIN_TLS_HANDSHAKE,      /* any other TLS failure */
};
/* Classifies a failed handshake or a failed first read on an origin
 * connection (TLS 1.3 reports a refused client certificate only then).
 * ssl_err is the first OpenSSL error of the failure. detail gets a short
 * text (the alert, the verify error). */
enum origin_tls_failure edge_tls_classify_origin_failure(SSL *ssl, unsigned long ssl_err, char *detail,
							  size_t detail_len);

#endif
