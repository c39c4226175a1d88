#ifndef PULLGATE_TLS_KEY_DECODE_H
#define PULLGATE_TLS_KEY_DECODE_H
#include <stdbool.h>

/* Registers OpenSSL's built-in EC, RSA and Ed25519 key methods, so
 * certificate keys decode without a provider decoder (see key_decode.c).
 * Before any certificate is loaded; later calls only answer again. False
 * when the library has no ENGINE support (the roles then work the same,
 * only slower). */
bool key_decode_install(void);

#endif
