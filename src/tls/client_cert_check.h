/*
 * client_cert_check: is an origin-pull client certificate fit to be
 * presented? An origin's guard would refuse a CA certificate, a leaf without
 * clientAuth or an expired one with a bare alert; checking at start-up and
 * reload turns that into a message that names the file.
 */
#ifndef PULLGATE_TLS_CLIENT_CERT_CHECK_H
#define PULLGATE_TLS_CLIENT_CERT_CHECK_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#define CLIENT_CERT_WARN_DAYS 30   /* a warning from here on */
#define CLIENT_CERT_URGENT_DAYS 14 /* and an "URGENT:" one from here on */

/* Checks leaf (borrowed) as the certificate in cert_path: not a CA, clientAuth
 * among its extended key usages when it lists any, within its validity
 * period. On failure returns false with "cert_path: what is wrong" in err. */
bool client_cert_check_leaf(X509 *leaf, const char *cert_path, char *err, size_t errlen);

/* Reads the first certificate of cert_path, checks it as above, then loads
 * the chain and key_path into ctx (tls_keys_load: the key is wiped after
 * parsing and must match the leaf). Returns the leaf, which the caller frees,
 * or NULL with "file: what is wrong" in err. */
X509 *client_cert_load(SSL_CTX *ctx, const char *cert_path, const char *key_path, char *err,
		       size_t errlen);

/* Whole days until cert's notAfter, rounded up (a certificate that expires
 * later today has 1); 0 or less once it has expired, INT_MIN when its time
 * cannot be read. */
int client_cert_days_left(X509 *cert);

/* When cert expires within CLIENT_CERT_WARN_DAYS, writes the warning
 * ("origin-pull certificate FILE (SCOPE) expires in N days (YYYY-MM-DD)",
 * prefixed "URGENT: " within CLIENT_CERT_URGENT_DAYS) into out and returns
 * true; otherwise returns false. scope says where the certificate is used,
 * e.g. "zone example.com". */
bool client_cert_expiry_warning(X509 *cert, const char *cert_path, const char *scope, char *out,
				size_t outlen);

#endif
