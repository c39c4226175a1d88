/*
 * x25519: the public key of a new X25519 key pair, from a table of
 * base-point multiples (see x25519.c for why it is ours).
 */
#ifndef PULLGATE_TLS_X25519_H
#define PULLGATE_TLS_X25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X25519_KEY_LEN 32

/* Builds the table of base-point multiples; false when out of memory.
 * The first key generation calls it too; a role calls it at start so
 * that no handshake waits for it. */
bool x25519_init(void);

/* pub = X25519(priv, 9): the public key of a private key (32 random
 * bytes, clamped here as RFC 7748 says). Constant time in priv. False
 * only when x25519_init failed. */
bool x25519_public_key(uint8_t pub[X25519_KEY_LEN], const uint8_t priv[X25519_KEY_LEN]);

/* The most keys x25519_public_keys takes at once. */
#define X25519_BATCH_MAX 16

/* pub[i] = X25519(priv[i], 9) for each i < n, with one field inversion
 * for all n (Montgomery's trick) where x25519_public_key spends one each:
 * a quarter of its time. Constant time in the keys. False when n is 0 or
 * above X25519_BATCH_MAX, or x25519_init failed. */
bool x25519_public_keys(uint8_t (*pub)[X25519_KEY_LEN], const uint8_t (*priv)[X25519_KEY_LEN], size_t n);

#endif
