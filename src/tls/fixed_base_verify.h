/*
 * fixed_base_verify: ECDSA P-256 verification with a precomputed table for
 * a public key that is verified again and again (see fixed_base_verify.c).
 * Attached by tls/shared_ec_keys.c to the keys it shares.
 */
#ifndef PULLGATE_TLS_FIXED_BASE_VERIFY_H
#define PULLGATE_TLS_FIXED_BASE_VERIFY_H
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY_METHOD is deprecated in 3.0, and what we use */
#endif
#include <openssl/ec.h>
#include <stdbool.h>

/* After this many verifications with one key, its table is built. */
#define FIXED_BASE_VERIFY_AFTER 16
/* At most this many tables (about 150 KiB each) exist at once. */
#define FIXED_BASE_VERIFY_TABLES 8

/* Gives key, a P-256 public key nobody else holds yet, the verification
 * here. False (key unchanged, verified by OpenSSL's own code) for another
 * curve or when out of memory. */
bool fixed_base_verify_attach(EC_KEY *key);

/* Tables that exist now, and verifications that used one, since start. */
void fixed_base_verify_counts(unsigned *tables, unsigned long long *fast);

#endif
