/*
 * pins: does a verified leaf certificate match a pin set (see struct pin_set
 * in conf/conf_types.h)? Pins narrow a trust anchor to particular holders:
 * a certificate fingerprint, a public key (SPKI) fingerprint, or the names
 * the certificate was issued to.
 */
#ifndef PULLGATE_TLS_PINS_H
#define PULLGATE_TLS_PINS_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf_types.h"

/* True when the set restricts nothing (no fingerprints, no subjects). */
bool pin_set_is_empty(const struct pin_set *pins);

/* True when leaf satisfies pins. On false, why gets a short reason
 * ("no fingerprint pin matches", "no subject pin matches ..."). pins and
 * leaf are borrowed. An empty (or NULL) set matches every leaf. */
bool pin_set_matches(const struct pin_set *pins, X509 *leaf, char *why, size_t whylen);

/* SHA-256 of the leaf's DER and of its SubjectPublicKeyInfo DER, as pins
 * compare them. Return false on an encoding failure. */
bool pin_cert_sha256(X509 *cert, uint8_t out[32]);
bool pin_spki_sha256(X509 *cert, uint8_t out[32]);

#endif
