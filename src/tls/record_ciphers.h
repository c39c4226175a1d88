/*
 * record_ciphers: TLS records protected by OpenSSL's built-in AEAD
 * implementations, called directly, rather than through a provider.
 */
#ifndef PULLGATE_TLS_RECORD_CIPHERS_H
#define PULLGATE_TLS_RECORD_CIPHERS_H
#include <stdbool.h>

/* Registers the built-in AES-GCM and ChaCha20-Poly1305 ciphers with an
 * ENGINE, so that every SSL_CTX made afterwards uses them (see
 * record_ciphers.c). Once, before any SSL_CTX exists; false when the
 * library has no ENGINE support (records then go through the providers:
 * the same results, only slower). */
bool record_ciphers_install(void);

#endif
