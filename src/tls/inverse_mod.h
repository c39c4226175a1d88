/*
 * inverse_mod: the inverse of a 256-bit number modulo an odd 256-bit
 * modulus, in variable time: for public numbers only (an ECDSA
 * signature's s, in tls/fixed_base_verify.c).
 */
#ifndef PULLGATE_TLS_INVERSE_MOD_H
#define PULLGATE_TLS_INVERSE_MOD_H

#include <stdint.h>

/* Numbers as four little-endian 64-bit words. */
typedef uint64_t u256[4];

/* inv = a^-1 mod m, for an odd m below 2^256 and 0 < a < m with
 * gcd(a, m) = 1 (m prime does). Its time depends on a and m. */
void inverse_mod_var(u256 inv, const u256 a, const u256 m);

#endif
