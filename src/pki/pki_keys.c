/*
 * pki_keys: key generation and key files. Private key bytes held in memory
 * (file contents, PEM encodings) are wiped before they are released.
 */
#include "pki/pki_keys.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "pki/pki_err.h"
#include "pki/pki_files.h"

int pki_key_type_parse(const char *name, enum pki_key_type *out)
{
	static const struct {
		const char *name;
		enum pki_key_type type;
	} types[] = {
		{ "ecdsa", PKI_KEY_ECDSA_P256 },
		{ "ed25519", PKI_KEY_ED25519 },
		{ "rsa2048", PKI_KEY_RSA2048 },
		{ "rsa3072", PKI_KEY_RSA3072 },
	};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(name, types[i].name) == 0) {
			*out = types[i].type;
			return 0;
		}
	}
	return -1;
}

EVP_PKEY *pki_key_generate(enum pki_key_type type, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;

	switch (type) {
	case PKI_KEY_ECDSA_P256:
		/* OpenSSL 3 encodes the curve by name, as TLS peers expect. */
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case PKI_KEY_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case PKI_KEY_RSA2048:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case PKI_KEY_RSA3072:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	}
	if (!key)
		pki_err_ssl(err, errlen, "key generation failed");
	return key;
}

/* Refuses to prompt: an encrypted key fails to load instead of blocking on
 * the terminal. */
static int pki_key_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

EVP_PKEY *pki_key_load(const char *path, char *err, size_t errlen)
{
	unsigned char *data;
	size_t len;
	BIO *bio;
	EVP_PKEY *key = NULL;

	if (pki_file_read(path, &data, &len, err, errlen) < 0)
		return NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio)
		key = PEM_read_bio_PrivateKey(bio, NULL, pki_key_no_passphrase, NULL);
	BIO_free(bio);
	pki_file_free(data, len);
	if (!key) {
		ERR_clear_error();
		pki_err_set(err, errlen,
			    "%s: no PEM private key (encrypted keys are not supported)", path);
	}
	return key;
}

BIO *pki_key_to_pem(EVP_PKEY *key, const char *path, char *err, size_t errlen)
{
	/* BIO_s_secmem frees its buffer with OPENSSL_secure_clear_free, which
	 * wipes it even when no secure heap is set up. */
	BIO *bio = BIO_new(BIO_s_secmem());

	if (!bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		pki_err_ssl(err, errlen, "%s: cannot encode private key", path);
		BIO_free(bio);
		return NULL;
	}
	return bio;
}

void pki_key_describe(const EVP_PKEY *key, char *out, size_t outlen)
{
	char group[64];

	snprintf(out, outlen, "other");
	if (!key)
		return;
	if (EVP_PKEY_is_a(key, "RSA")) {
		snprintf(out, outlen, "rsa%d", EVP_PKEY_get_bits(key));
	} else if (EVP_PKEY_is_a(key, "ED25519")) {
		snprintf(out, outlen, "ed25519");
	} else if (EVP_PKEY_is_a(key, "EC") &&
		   EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
						  group, sizeof group, NULL)) {
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			snprintf(out, outlen, "ecdsa-p256");
		else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			snprintf(out, outlen, "ecdsa-p384");
		else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
			snprintf(out, outlen, "ecdsa-p521");
	}
}

bool pki_key_is_rsa(const EVP_PKEY *key)
{
	return EVP_PKEY_is_a(key, "RSA");
}

const EVP_MD *pki_key_sign_md(const EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return NULL;
	return EVP_sha256();
}
