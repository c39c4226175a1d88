/*
 * builtin_engine: an ENGINE that hands libcrypto and libssl OpenSSL's own
 * built-in implementations, for the places where OpenSSL 3.0 takes a
 * cheaper path when an ENGINE provides an algorithm (tls/key_decode.c,
 * tls/record_ciphers.c).
 */
#ifndef PULLGATE_TLS_BUILTIN_ENGINE_H
#define PULLGATE_TLS_BUILTIN_ENGINE_H
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE is deprecated in 3.0, and what we use */
#endif
#include <openssl/engine.h>
#include <stdbool.h>

/* False when OpenSSL is configured for FIPS (default properties ask for
 * fips=yes): the built-in implementations are not the FIPS provider's, so
 * they are then left alone and everything goes through the providers. */
bool builtin_engine_allowed(void);

/* Makes an ENGINE called id and name, unless builtin_engine_allowed says
 * no, gives it its methods with set,
 * adds it to the list and registers it as their default with reg. False
 * when any step fails or the library has no ENGINE support. */
bool builtin_engine_add(const char *id, const char *name, int (*set)(ENGINE *e),
			int (*reg)(ENGINE *e));

#endif
