/*
 * pki_pin: the fingerprints the guard pins to — SHA-256 of a certificate's
 * DER, and SHA-256 of its DER SubjectPublicKeyInfo (the SPKI pin, which
 * survives re-issuing a certificate for the same key) — and their printed
 * forms.
 */
#ifndef PULLGATE_PKI_PKI_PIN_H
#define PULLGATE_PKI_PKI_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#define PKI_SHA256_LEN 32
/* 32 bytes as "AB:CD:..." plus NUL. */
#define PKI_HEX_COLON_LEN (PKI_SHA256_LEN * 3)
/* 32 bytes as base64 plus NUL. */
#define PKI_B64_LEN 45

/* SHA-256 of the certificate's DER encoding; returns 0 or -1. */
int pki_pin_cert_sha256(X509 *x, unsigned char out[PKI_SHA256_LEN]);

/* SHA-256 of the DER SubjectPublicKeyInfo; returns 0 or -1. */
int pki_pin_spki_sha256(X509 *x, unsigned char out[PKI_SHA256_LEN]);

/* Hex of in[0..n): upper or lower case, bytes separated by sep unless sep is
 * '\0'. Truncates to fit outlen (always NUL-terminated). */
void pki_hex(const unsigned char *in, size_t n, bool upper, char sep, char *out,
	     size_t outlen);

/* Standard base64 (with padding) of in[0..n); outlen must hold
 * 4 * ((n + 2) / 3) + 1 bytes, else out is set to "". */
void pki_base64(const unsigned char *in, size_t n, char *out, size_t outlen);

#endif
