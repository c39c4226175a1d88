/*
 * x25519_pool: the ephemeral X25519 key pairs of the handshakes a thread
 * answers, made X25519_POOL_BATCH at a time (see x25519_pool.c).
 */
#ifndef PULLGATE_TLS_X25519_POOL_H
#define PULLGATE_TLS_X25519_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "tls/x25519.h"

#define X25519_POOL_BATCH 8

/* A new key pair, never handed out before, into priv and pub. False when
 * libcrypto's random generator fails or x25519_init did. */
bool x25519_pool_take(uint8_t priv[X25519_KEY_LEN], uint8_t pub[X25519_KEY_LEN]);

#endif
