/*
 * tls13_records: TLS 1.3 record protection.
 *
 * Each record's nonce is the key's IV with the record's sequence number
 * XORed into its last eight bytes; the record header is the additional
 * data; the content is followed by its real type (RFC 8446, 5.2-5.3). The
 * AEAD runs through EVP with the legacy cipher objects, so that
 * tls/record_ciphers.c's ENGINE (when installed) serves them with
 * OpenSSL's built-in code, as it does for libssl's records.
 */
#include "tls/tls13_records.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <pthread.h>
#include <string.h>

#include "tls/tls13_hkdf.h"
#include "tls/tls13_kdf.h"

static EVP_KDF *tls13_kdf;
static pthread_once_t tls13_kdf_once = PTHREAD_ONCE_INIT;

/* The key schedule the roles' handshakes use (tls/tls13_kdf.h), when it
 * is installed by the time the first connection takes over; the default
 * provider's otherwise. */
static void tls13_kdf_fetch(void)
{
	tls13_kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, tls13_kdf_propq());
}

/* HKDF-Expand-Label(secret, label, "", out_len) (RFC 8446, 7.1): with
 * tls/tls13_hkdf.h's arithmetic, as the key schedule's provider does it,
 * when that provider is installed (no lookups, no allocation); through
 * the library's TLS13-KDF otherwise (FIPS). */
static bool expand_label(const struct tls13_records *r, const unsigned char *secret,
			 const char *label, unsigned char *out, size_t out_len)
{
	static const unsigned char prefix[] = "tls13 ";
	if (tls13_kdf_propq())
		return tls13_hkdf_expand_label(r->secret_len == 48 ? &tls13_sha384 : &tls13_sha256,
					       secret, r->secret_len, prefix, sizeof prefix - 1,
					       (const unsigned char *)label, strlen(label), NULL, 0,
					       out, out_len);
	pthread_once(&tls13_kdf_once, tls13_kdf_fetch);
	if (!tls13_kdf)
		return false;
	EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(tls13_kdf);
	if (!kctx)
		return false;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(r->md), 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, r->secret_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, sizeof prefix - 1),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label)),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(kctx, out, out_len, params) > 0;
	EVP_KDF_CTX_free(kctx);
	return ok;
}

/* Derives k's key and IV from k->secret and gives its context the key. */
static bool key_install(const struct tls13_records *r, struct tls13_key *k, int enc)
{
	unsigned char key[EVP_MAX_KEY_LENGTH];
	int key_len = EVP_CIPHER_get_key_length(r->cipher);
	bool ok = key_len > 0 && (size_t)key_len <= sizeof key &&
		  expand_label(r, k->secret, "key", key, (size_t)key_len) &&
		  expand_label(r, k->secret, "iv", k->iv, sizeof k->iv) &&
		  EVP_CipherInit_ex(k->aead, r->cipher, NULL, key, NULL, enc) == 1;
	OPENSSL_cleanse(key, sizeof key);
	k->seq = 0;
	return ok;
}

bool tls13_records_init(struct tls13_records *r, uint32_t suite_id,
			const unsigned char *open_secret, const unsigned char *seal_secret,
			size_t secret_len, uint64_t seal_seq)
{
	memset(r, 0, sizeof *r);
	switch (suite_id) {
	case TLS1_3_CK_AES_128_GCM_SHA256:
		r->cipher = EVP_aes_128_gcm();
		r->md = EVP_sha256();
		break;
	case TLS1_3_CK_AES_256_GCM_SHA384:
		r->cipher = EVP_aes_256_gcm();
		r->md = EVP_sha384();
		break;
	case TLS1_3_CK_CHACHA20_POLY1305_SHA256:
		r->cipher = EVP_chacha20_poly1305();
		r->md = EVP_sha256();
		break;
	default:
		return false;
	}
	if (!r->cipher || !r->md || (size_t)EVP_MD_get_size(r->md) != secret_len ||
	    secret_len > sizeof r->open.secret)
		return false;
	r->secret_len = secret_len;
	memcpy(r->open.secret, open_secret, secret_len);
	memcpy(r->seal.secret, seal_secret, secret_len);
	r->open.aead = EVP_CIPHER_CTX_new();
	r->seal.aead = EVP_CIPHER_CTX_new();
	if (!r->open.aead || !r->seal.aead || !key_install(r, &r->open, 0) ||
	    !key_install(r, &r->seal, 1)) {
		tls13_records_clear(r);
		return false;
	}
	r->seal.seq = seal_seq;
	return true;
}

void tls13_records_clear(struct tls13_records *r)
{
	EVP_CIPHER_CTX_free(r->open.aead);
	EVP_CIPHER_CTX_free(r->seal.aead);
	OPENSSL_cleanse(r, sizeof *r);
}

bool tls13_key_update(struct tls13_records *r, struct tls13_key *k)
{
	unsigned char next[EVP_MAX_MD_SIZE];
	if (!expand_label(r, k->secret, "traffic upd", next, r->secret_len))
		return false;
	memcpy(k->secret, next, r->secret_len);
	OPENSSL_cleanse(next, sizeof next);
	return key_install(r, k, k == &r->seal);
}

/* The per-record nonce: the IV with the sequence number XORed in. */
static void record_nonce(const struct tls13_key *k, unsigned char nonce[TLS13_IV_LEN])
{
	memcpy(nonce, k->iv, TLS13_IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[TLS13_IV_LEN - 1 - i] ^= (unsigned char)(k->seq >> (8 * i));
}

/* Up to this much content is copied next to its type and sealed in one
 * pass (a second EVP pass for one byte costs more than the copy). */
#define SEAL_COPY_MAX 2048

size_t tls13_seal(struct tls13_records *r, enum tls13_content type, const void *in, size_t len,
		  unsigned char *out)
{
	struct tls13_key *k = &r->seal;
	if (len > TLS13_MAX_PLAIN || k->seq == UINT64_MAX)
		return 0;
	size_t body = len + 1 + TLS13_TAG_LEN;
	out[0] = TLS13_APPLICATION_DATA; /* the real type is inside */
	out[1] = 0x03;
	out[2] = 0x03;
	out[3] = (unsigned char)(body >> 8);
	out[4] = (unsigned char)body;
	unsigned char *p = out + TLS13_HEADER_LEN;
	unsigned char nonce[TLS13_IV_LEN];
	record_nonce(k, nonce);
	int n, m;
	if (EVP_CipherInit_ex(k->aead, NULL, NULL, NULL, nonce, -1) != 1 ||
	    EVP_CipherUpdate(k->aead, NULL, &n, out, TLS13_HEADER_LEN) != 1)
		return 0;
	/* Content and type in one pass where copying the content costs less
	 * than a second pass; a long content is sealed where it lies. */
	unsigned char t = (unsigned char)type;
	bool ok;
	if (len <= SEAL_COPY_MAX) {
		memcpy(p, in, len);
		p[len] = t;
		ok = EVP_CipherUpdate(k->aead, p, &n, p, (int)len + 1) == 1;
	} else {
		ok = EVP_CipherUpdate(k->aead, p, &n, in, (int)len) == 1 &&
		     EVP_CipherUpdate(k->aead, p + len, &n, &t, 1) == 1;
	}
	if (!ok || EVP_CipherFinal_ex(k->aead, p + len + 1, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(k->aead, EVP_CTRL_AEAD_GET_TAG, TLS13_TAG_LEN, p + len + 1) != 1)
		return 0;
	k->seq++;
	return TLS13_HEADER_LEN + body;
}

int tls13_open(struct tls13_records *r, unsigned char *rec, size_t rec_len, enum tls13_content *type,
	       size_t *content_len)
{
	return tls13_open_into(r, rec, rec_len, rec + TLS13_HEADER_LEN, type, content_len);
}

int tls13_open_into(struct tls13_records *r, unsigned char *rec, size_t rec_len, unsigned char *out,
		    enum tls13_content *type, size_t *content_len)
{
	struct tls13_key *k = &r->open;
	if (rec_len < TLS13_HEADER_LEN)
		return TLS13_ALERT_DECODE_ERROR;
	size_t body = rec_len - TLS13_HEADER_LEN;
	/* After the handshake every record is protected and says it carries
	 * application data; a change_cipher_spec is no longer allowed. */
	if (rec[0] != TLS13_APPLICATION_DATA)
		return TLS13_ALERT_UNEXPECTED_MESSAGE;
	if (rec[1] != 0x03)
		return TLS13_ALERT_PROTOCOL_VERSION;
	if (body > TLS13_MAX_BODY)
		return TLS13_ALERT_RECORD_OVERFLOW;
	if (body < 1 + TLS13_TAG_LEN || k->seq == UINT64_MAX)
		return TLS13_ALERT_BAD_RECORD_MAC;
	unsigned char *p = rec + TLS13_HEADER_LEN;
	size_t sealed = body - TLS13_TAG_LEN;
	unsigned char nonce[TLS13_IV_LEN];
	record_nonce(k, nonce);
	int n, m;
	if (EVP_CipherInit_ex(k->aead, NULL, NULL, NULL, nonce, -1) != 1 ||
	    EVP_CIPHER_CTX_ctrl(k->aead, EVP_CTRL_AEAD_SET_TAG, TLS13_TAG_LEN, p + sealed) != 1 ||
	    EVP_CipherUpdate(k->aead, NULL, &n, rec, TLS13_HEADER_LEN) != 1 ||
	    EVP_CipherUpdate(k->aead, out, &n, p, (int)sealed) != 1 ||
	    EVP_CipherFinal_ex(k->aead, out + n, &m) != 1)
		return TLS13_ALERT_BAD_RECORD_MAC;
	k->seq++;
	/* The content ends at the last non-zero byte, its type; zeros after
	 * it are padding. */
	size_t end = sealed;
	while (end > 0 && out[end - 1] == 0)
		end--;
	if (end == 0)
		return TLS13_ALERT_UNEXPECTED_MESSAGE;
	if (end - 1 > TLS13_MAX_PLAIN)
		return TLS13_ALERT_RECORD_OVERFLOW;
	*type = (enum tls13_content)out[end - 1];
	*content_len = end - 1;
	return 0;
}
