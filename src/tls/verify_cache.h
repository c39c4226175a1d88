/*
 * verify_cache: chains the guard has already verified, so that a client
 * certificate seen before skips chain building and its CA signature check.
 *
 * The key is SHA-256 over the exact DER bytes of every certificate the
 * client presented, in order; only successes are kept. An entry lives no
 * longer than the earliest notAfter in its verified chain and the earliest
 * nextUpdate of the CRLs in the trust store, and the cache belongs to one
 * TLS set, so new anchors or CRLs (a reload) start an empty one. What a hit
 * skips is only what depends on those inputs: the handshake's
 * CertificateVerify signature, keyUsage and the pins are checked on every
 * handshake. Safe for concurrent use by all workers.
 */
#ifndef PULLGATE_TLS_VERIFY_CACHE_H
#define PULLGATE_TLS_VERIFY_CACHE_H

#include <openssl/x509.h>
#include <stdbool.h>

#define VERIFY_CACHE_KEY_LEN 32

struct verify_cache;

/* A cache of up to slots chains verified against store (borrowed; it must
 * outlive the cache). NULL when out of memory. */
struct verify_cache *verify_cache_new(X509_STORE *store, unsigned slots);
void verify_cache_free(struct verify_cache *vc);

/* The key of what xctx is about to verify (its leaf and untrusted chain).
 * False when it cannot be computed (then do not use the cache). */
bool verify_cache_key(X509_STORE_CTX *xctx, unsigned char key[VERIFY_CACHE_KEY_LEN]);

/* The same key, from the certificates' DER as the client sent them (leaf
 * first), without parsing them. */
bool verify_cache_key_der(const unsigned char *const *der, const size_t *len, size_t count,
			  unsigned char key[VERIFY_CACHE_KEY_LEN]);

/* On a live entry for key, a copy of the verified chain (leaf first, a
 * reference on each certificate, for the caller to free); NULL on a miss.
 * Counted as a lookup, and as a hit when found. */
STACK_OF(X509) *verify_cache_find(struct verify_cache *vc, const unsigned char key[VERIFY_CACHE_KEY_LEN]);

/* On a live entry for key, gives xctx a copy of the verified chain with
 * X509_V_OK and returns true; false on a miss. On a hit, xctx's leaf (and
 * the first entry of its untrusted list) becomes the kept chain's leaf,
 * the same bytes parsed once: a leaf taken from xctx before the call is
 * then freed. */
bool verify_cache_lookup(struct verify_cache *vc, const unsigned char key[VERIFY_CACHE_KEY_LEN],
			 X509_STORE_CTX *xctx);

/* Keeps the chain xctx has just verified successfully under key. */
void verify_cache_store(struct verify_cache *vc, const unsigned char key[VERIFY_CACHE_KEY_LEN],
			X509_STORE_CTX *xctx);

/* Lookups answered from the cache, and lookups in all, since start. */
void verify_cache_counts(const struct verify_cache *vc, unsigned long long *hits,
			 unsigned long long *lookups);

#endif
