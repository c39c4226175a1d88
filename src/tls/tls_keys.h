/*
 * tls_keys: a server certificate chain and its private key, read from PEM
 * files into an SSL_CTX. Key bytes are read into our own buffer and wiped
 * with OPENSSL_cleanse once parsed; encrypted keys are refused rather than
 * prompting on a terminal.
 */
#ifndef PULLGATE_TLS_TLS_KEYS_H
#define PULLGATE_TLS_TLS_KEYS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* Loads cert_path (leaf first, then its chain) and key_path into ctx and
 * checks that they match and that the leaf has not expired. On success
 * *seconds_left is the time until the leaf's notAfter. On failure returns
 * false with "path: what is wrong" in err. */
bool tls_keys_load(SSL_CTX *ctx, const char *cert_path, const char *key_path,
		   long long *seconds_left, char *err, size_t errlen);

/* OpenSSL 3.0 fills a certificate's extension cache (key identifiers, key
 * usage, basic constraints) on first use under the certificate's own lock,
 * and later readers use the cached fields without taking it. A certificate
 * shared by worker threads therefore has its cache filled here, while it is
 * still private to the thread that loads it. */
void tls_cert_prime(X509 *cert);

/* tls_cert_prime for every certificate already in store. */
void tls_store_prime(X509_STORE *store);

#endif
