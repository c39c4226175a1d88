/*
 * tls13_kdf: the TLS 1.3 key schedule libssl asks for ("TLS13-KDF"), from
 * a small built-in provider, and the application traffic secrets it
 * derives handed to whoever watches a handshake (see tls13_kdf.c).
 */
#ifndef PULLGATE_TLS_TLS13_KDF_H
#define PULLGATE_TLS_TLS13_KDF_H
#include <stdbool.h>
#include <stddef.h>

/* The provider's name, and the property query that prefers its KDF. */
#define TLS13_KDF_PROVIDER "pullgate-tls13"
#define TLS13_KDF_PROPQ "?provider=" TLS13_KDF_PROVIDER

/* Loads the provider, once, keeping OpenSSL's default providers as they
 * would be. False when OpenSSL is configured for FIPS (the key schedule
 * then stays the FIPS provider's) or the provider cannot be loaded. */
bool tls13_kdf_install(void);

/* The property query to make an SSL_CTX with, so that its handshakes use
 * the provider's key schedule: NULL when it is not installed. */
const char *tls13_kdf_propq(void);

/* Until tls13_kdf_observe(NULL, NULL), every application traffic secret
 * ("c ap traffic", "s ap traffic") the calling thread derives is given to
 * fn, with arg: the client's or the server's, len bytes. */
typedef void tls13_kdf_observer(void *arg, bool client, const unsigned char *secret, size_t len);
void tls13_kdf_observe(tls13_kdf_observer *fn, void *arg);

#endif
