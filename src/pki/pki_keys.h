/*
 * pki_keys: private keys — generation of the supported key types, loading a
 * PEM key from a file, and encoding as unencrypted PKCS#8 PEM into memory
 * that is wiped when freed.
 */
#ifndef PULLGATE_PKI_PKI_KEYS_H
#define PULLGATE_PKI_PKI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/evp.h>

enum pki_key_type {
	PKI_KEY_ECDSA_P256,
	PKI_KEY_ED25519,
	PKI_KEY_RSA2048,
	PKI_KEY_RSA3072,
};

/* Parses "ecdsa", "ed25519", "rsa2048", "rsa3072"; returns 0 or -1. */
int pki_key_type_parse(const char *name, enum pki_key_type *out);

/* A new key of the given type; the caller frees it with EVP_PKEY_free. */
EVP_PKEY *pki_key_generate(enum pki_key_type type, char *err, size_t errlen);

/* Reads the first PEM private key in path (never prompts for a passphrase:
 * encrypted keys are refused). The file's bytes are wiped after parsing. */
EVP_PKEY *pki_key_load(const char *path, char *err, size_t errlen);

/* The key as PKCS#8 PEM in a memory BIO backed by wiped-on-free memory; the
 * caller owns the BIO and frees it with BIO_free. `path` names errors. */
BIO *pki_key_to_pem(EVP_PKEY *key, const char *path, char *err, size_t errlen);

/* The inspect name of a public key: "ecdsa-p256", "ecdsa-p384",
 * "ecdsa-p521", "ed25519", "rsa<bits>" or "other". Writes into out. */
void pki_key_describe(const EVP_PKEY *key, char *out, size_t outlen);

bool pki_key_is_rsa(const EVP_PKEY *key);

/* The digest to sign with: SHA-256, or NULL for keys that sign whole
 * messages (Ed25519, Ed448). */
const EVP_MD *pki_key_sign_md(const EVP_PKEY *key);

#endif
