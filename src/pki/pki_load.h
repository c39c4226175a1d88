/*
 * pki_load: reading certificates, CRLs and a signing CA (certificate + key)
 * from PEM files, with errors that name the file.
 */
#ifndef PULLGATE_PKI_PKI_LOAD_H
#define PULLGATE_PKI_PKI_LOAD_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The first PEM certificate in path; the caller frees it. */
X509 *pki_load_cert(const char *path, char *err, size_t errlen);

/* Every PEM certificate in path (at least one); the caller frees the stack
 * with sk_X509_pop_free(st, X509_free). */
STACK_OF(X509) *pki_load_certs(const char *path, char *err, size_t errlen);

/* The first PEM CRL in path; the caller frees it. */
X509_CRL *pki_load_crl(const char *path, char *err, size_t errlen);

/* Loads a CA that is about to sign: the key must match the certificate and
 * the certificate must be a CA (basicConstraints CA:TRUE, and keyCertSign or
 * cRLSign — per `usage` — in keyUsage when keyUsage is present). usage is
 * KU_KEY_CERT_SIGN or KU_CRL_SIGN. Returns 0 and two objects the caller
 * frees, or -1. */
int pki_load_ca(const char *cert_path, const char *key_path, unsigned usage,
		X509 **cert, EVP_PKEY **key, char *err, size_t errlen);

#endif
