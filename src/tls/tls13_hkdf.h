/*
 * tls13_hkdf: HMAC, HKDF-Expand-Label (RFC 8446, 7.1) and a running
 * transcript hash over OpenSSL's low-level SHA-256 and SHA-384, with no
 * allocation and no provider lookups: the key schedule's arithmetic, shared
 * by the KDF provider (tls/tls13_kdf.h) and pullgate's own handshake.
 */
#ifndef PULLGATE_TLS_TLS13_HKDF_H
#define PULLGATE_TLS_TLS13_HKDF_H

#include <openssl/sha.h>
#include <stdbool.h>
#include <stddef.h>

#define TLS13_MAX_HASH 48   /* SHA-384 */
#define TLS13_MAX_BLOCK 128 /* SHA-384's block */
#define TLS13_LABEL_MAX 255 /* one length byte in HkdfLabel */

/* A hash, as the key schedule uses it. */
struct tls13_hash {
	size_t len, block;
	void (*init)(void *c);
	void (*update)(void *c, const void *p, size_t n);
	void (*final)(void *c, unsigned char *out);
};

union tls13_hash_ctx {
	SHA256_CTX s256;
	SHA512_CTX s512;
};

extern const struct tls13_hash tls13_sha256, tls13_sha384;

/* The hash a digest name means, as OpenSSL spells it; NULL for any other. */
const struct tls13_hash *tls13_hash_by_name(const char *name);

struct tls13_byte_run {
	const unsigned char *p;
	size_t n;
};

/* HMAC(key, the runs one after another) into out (md->len bytes). */
void tls13_hmac(const struct tls13_hash *md, const unsigned char *key, size_t key_len,
                const struct tls13_byte_run *runs, size_t nruns, unsigned char *out);

/* HKDF-Extract(salt, ikm) into out (md->len bytes). */
void tls13_hkdf_extract(const struct tls13_hash *md, const unsigned char *salt, size_t salt_len,
                        const unsigned char *ikm, size_t ikm_len, unsigned char *out);

/* HKDF-Expand-Label: the HkdfLabel of out_len, prefix | label and data.
 * False when a part is too long for it. */
bool tls13_hkdf_expand_label(const struct tls13_hash *md, const unsigned char *secret, size_t secret_len,
                             const unsigned char *prefix, size_t prefix_len, const unsigned char *label,
                             size_t label_len, const unsigned char *data, size_t data_len, unsigned char *out,
                             size_t out_len);

/* Derive-Secret(secret, label, hash) with the "tls13 " prefix: a secret of
 * the hash's length; hash is a transcript hash (md->len bytes). */
void tls13_derive_secret(const struct tls13_hash *md, const unsigned char *secret, const char *label,
                         const unsigned char *hash, unsigned char *out);

/* The hash of the handshake messages so far. */
struct tls13_transcript {
	const struct tls13_hash *md;
	union tls13_hash_ctx ctx;
};

void tls13_transcript_init(struct tls13_transcript *t, const struct tls13_hash *md);
void tls13_transcript_add(struct tls13_transcript *t, const void *msg, size_t len);
/* The hash of what was added so far (md->len bytes); t goes on. */
void tls13_transcript_hash(const struct tls13_transcript *t, unsigned char *out);

#endif
