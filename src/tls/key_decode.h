#ifndef PULLGATE_TLS_KEY_DECODE_H
#define PULLGATE_TLS_KEY_DECODE_H
#include <stdbool.h>

/* Registers OpenSSL's built-in EC key method, so certificate keys decode
 * without a provider decoder (see key_decode.c). Once, before any
 * certificate is loaded. */
bool key_decode_install(void);

#endif
