/*
 * tls13_hkdf: the key schedule's arithmetic (see tls13_hkdf.h).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and co: the low-level digests, on purpose */
#include "tls/tls13_hkdf.h"

#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

static void sha256_init(void *c)
{
	SHA256_Init(c);
}
static void sha256_update(void *c, const void *p, size_t n)
{
	SHA256_Update(c, p, n);
}
static void sha256_final(void *c, unsigned char *out)
{
	SHA256_Final(out, c);
}
static void sha384_init(void *c)
{
	SHA384_Init(c);
}
static void sha384_update(void *c, const void *p, size_t n)
{
	SHA384_Update(c, p, n);
}
static void sha384_final(void *c, unsigned char *out)
{
	SHA384_Final(out, c);
}

const struct tls13_hash tls13_sha256 = {32, 64, sha256_init, sha256_update, sha256_final};
const struct tls13_hash tls13_sha384 = {48, 128, sha384_init, sha384_update, sha384_final};

const struct tls13_hash *tls13_hash_by_name(const char *name)
{
	static const char *const n256[] = {"SHA256", "SHA2-256", "SHA-256", "2.16.840.1.101.3.4.2.1"};
	static const char *const n384[] = {"SHA384", "SHA2-384", "SHA-384", "2.16.840.1.101.3.4.2.2"};
	for (size_t i = 0; i < sizeof n256 / sizeof n256[0]; i++) {
		if (strcasecmp(name, n256[i]) == 0)
			return &tls13_sha256;
		if (strcasecmp(name, n384[i]) == 0)
			return &tls13_sha384;
	}
	return NULL;
}

void tls13_hmac(const struct tls13_hash *md, const unsigned char *key, size_t key_len,
                const struct tls13_byte_run *runs, size_t nruns, unsigned char *out)
{
	unsigned char k[TLS13_MAX_BLOCK] = {0}, pad[TLS13_MAX_BLOCK], inner[TLS13_MAX_HASH];
	union tls13_hash_ctx h;
	if (key_len > md->block) {
		md->init(&h);
		md->update(&h, key, key_len);
		md->final(&h, k);
	} else if (key_len) {
		memcpy(k, key, key_len);
	}
	for (size_t i = 0; i < md->block; i++)
		pad[i] = k[i] ^ 0x36;
	md->init(&h);
	md->update(&h, pad, md->block);
	for (size_t i = 0; i < nruns; i++)
		if (runs[i].n)
			md->update(&h, runs[i].p, runs[i].n);
	md->final(&h, inner);
	for (size_t i = 0; i < md->block; i++)
		pad[i] = k[i] ^ 0x5c;
	md->init(&h);
	md->update(&h, pad, md->block);
	md->update(&h, inner, md->len);
	md->final(&h, out);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
	OPENSSL_cleanse(inner, sizeof inner);
	OPENSSL_cleanse(&h, sizeof h);
}

/* HKDF-Expand (RFC 5869): out_len bytes of T(1) | T(2) | ... */
static bool hkdf_expand(const struct tls13_hash *md, const unsigned char *prk, size_t prk_len,
                        const unsigned char *info, size_t info_len, unsigned char *out, size_t out_len)
{
	if (out_len > 255 * md->len)
		return false;
	unsigned char t[TLS13_MAX_HASH];
	size_t done = 0;
	for (unsigned char i = 1; done < out_len; i++) {
		struct tls13_byte_run runs[] = {{t, i > 1 ? md->len : 0}, {info, info_len}, {&i, 1}};
		tls13_hmac(md, prk, prk_len, runs, 3, t);
		size_t n = out_len - done < md->len ? out_len - done : md->len;
		memcpy(out + done, t, n);
		done += n;
	}
	OPENSSL_cleanse(t, sizeof t);
	return true;
}

bool tls13_hkdf_expand_label(const struct tls13_hash *md, const unsigned char *secret, size_t secret_len,
                             const unsigned char *prefix, size_t prefix_len, const unsigned char *label,
                             size_t label_len, const unsigned char *data, size_t data_len, unsigned char *out,
                             size_t out_len)
{
	unsigned char info[2 + 1 + 2 * TLS13_LABEL_MAX + 1 + TLS13_LABEL_MAX];
	if (out_len > 0xffff || prefix_len + label_len > TLS13_LABEL_MAX || data_len > TLS13_LABEL_MAX)
		return false;
	size_t n = 0;
	info[n++] = (unsigned char)(out_len >> 8);
	info[n++] = (unsigned char)out_len;
	info[n++] = (unsigned char)(prefix_len + label_len);
	memcpy(info + n, prefix, prefix_len);
	n += prefix_len;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = (unsigned char)data_len;
	if (data_len)
		memcpy(info + n, data, data_len);
	n += data_len;
	return hkdf_expand(md, secret, secret_len, info, n, out, out_len);
}

void tls13_hkdf_extract(const struct tls13_hash *md, const unsigned char *salt, size_t salt_len,
                        const unsigned char *ikm, size_t ikm_len, unsigned char *out)
{
	static const unsigned char zeros[TLS13_MAX_HASH];
	struct tls13_byte_run run = {ikm, ikm_len};
	tls13_hmac(md, salt_len ? salt : zeros, salt_len, &run, 1, out);
}

void tls13_derive_secret(const struct tls13_hash *md, const unsigned char *secret, const char *label,
                         const unsigned char *hash, unsigned char *out)
{
	static const unsigned char prefix[] = "tls13 ";
	/* Cannot fail: the label is one of the schedule's own, the hash short. */
	(void)tls13_hkdf_expand_label(md, secret, md->len, prefix, sizeof prefix - 1,
	                              (const unsigned char *)label, strlen(label), hash, md->len, out,
	                              md->len);
}

void tls13_transcript_init(struct tls13_transcript *t, const struct tls13_hash *md)
{
	t->md = md;
	md->init(&t->ctx);
}

void tls13_transcript_add(struct tls13_transcript *t, const void *msg, size_t len)
{
	t->md->update(&t->ctx, msg, len);
}

void tls13_transcript_hash(const struct tls13_transcript *t, unsigned char *out)
{
	union tls13_hash_ctx copy = t->ctx;
	t->md->final(&copy, out);
}
