/*
 * shared_ec_keys: an EC key method whose public-key decoder hands every
 * certificate with the same curve and point the same decoded key (see
 * shared_ec_keys.c). Installed through tls/key_decode.c.
 */
#ifndef PULLGATE_TLS_SHARED_EC_KEYS_H
#define PULLGATE_TLS_SHARED_EC_KEYS_H
#include <stdbool.h>

#include "tls/builtin_engine.h"

/* Gives e the EC key method (ENGINE_set_pkey_asn1_meths); false when out
 * of memory. */
bool shared_ec_keys_set(ENGINE *e);

/* Decodes answered from the table, and decodes of named-curve keys in
 * all, since start. */
void shared_ec_keys_counts(unsigned long long *hits, unsigned long long *lookups);

#endif
