/*
 * tls_keys: certificate chain + key loading with errors that name the file.
 * SSL_CTX_use_certificate_chain_file would do the chain, but its errors say
 * nothing about which file or why, and the key path would go through
 * OpenSSL's own file buffers, which we cannot wipe.
 */
#include "tls/tls_keys.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/cert_text.h"

#define TLS_KEYS_MAX_FILE (1024 * 1024)

/* Never prompt: a key that needs a passphrase is a configuration error. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Reads path into a malloc'd buffer the caller wipes and frees. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(TLS_KEYS_MAX_FILE);
	size_t n = buf ? fread(buf, 1, TLS_KEYS_MAX_FILE, f) : 0;
	bool bad = !buf || ferror(f) || n == TLS_KEYS_MAX_FILE;
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s: cannot read (or larger than 1 MiB)", path);
		if (buf)
			OPENSSL_cleanse(buf, TLS_KEYS_MAX_FILE);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static bool load_chain(SSL_CTX *ctx, const char *path, long long *seconds_left, char *err,
		       size_t errlen)
{
	BIO *bio = BIO_new_file(path, "r");
	if (!bio) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	bool ok = false;
	X509 *leaf = PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL);
	if (!leaf) {
		snprintf(err, errlen, "%s: no certificate found", path);
		goto out;
	}
	char when[16] = "?";
	cert_text_time(X509_get0_notAfter(leaf), true, when, sizeof when);
	if (!cert_time_left(X509_get0_notAfter(leaf), seconds_left) || *seconds_left <= 0) {
		snprintf(err, errlen, "%s: expired on %s", path, when);
		goto out;
	}
	tls_cert_prime(leaf);
	if (SSL_CTX_use_certificate(ctx, leaf) != 1 || !SSL_CTX_clear_chain_certs(ctx)) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());
		snprintf(err, errlen, "%s: certificate not usable: %s", path, why ? why : "unknown");
		goto out;
	}
	X509 *ca;
	while ((ca = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		tls_cert_prime(ca);
		if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
			X509_free(ca);
			snprintf(err, errlen, "%s: chain certificate not usable", path);
			goto out;
		}
	}
	/* The loop ends at end of file (no start line) or at a broken block. */
	unsigned long e = ERR_peek_last_error();
	if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		const char *why = ERR_reason_error_string(e);
		snprintf(err, errlen, "%s: bad PEM in chain: %s", path, why ? why : "unknown");
		goto out;
	}
	ok = true;
out:
	ERR_clear_error();
	X509_free(leaf);
	BIO_free(bio);
	return ok;
}

static bool load_key(SSL_CTX *ctx, const char *path, const char *cert_path, char *err,
		     size_t errlen)
{
	size_t len = 0;
	char *pem = read_file(path, &len, err, errlen);
	if (!pem)
		return false;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(pem, len);
	free(pem);
	ERR_clear_error();
	if (!key) {
		snprintf(err, errlen, "%s: no private key found (encrypted keys are not supported)",
			 path);
		return false;
	}
	/* OpenSSL refuses a key of the leaf's type that does not match it;
	 * a key of another type lands in another slot, hence the check. */
	bool ok = SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(key);
	ERR_clear_error();
	if (!ok)
		snprintf(err, errlen, "%s: does not match %s", path, cert_path);
	return ok;
}

bool tls_keys_load(SSL_CTX *ctx, const char *cert_path, const char *key_path,
		   long long *seconds_left, char *err, size_t errlen)
{
	if (!cert_path || !key_path) {
		snprintf(err, errlen, "%s: a certificate needs a key",
			 cert_path ? cert_path : key_path ? key_path : "(none)");
		return false;
	}
	ERR_clear_error();
	if (!load_chain(ctx, cert_path, seconds_left, err, errlen))
		return false;
	/* The chain sent is exactly the file's. Left to itself OpenSSL would
	 * rebuild it on every handshake from the context's trust store, which
	 * on a guard holds the client CAs: a full chain verification per
	 * handshake, and a chain taken from the wrong trust. */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	return load_key(ctx, key_path, cert_path, err, errlen);
}

void tls_cert_prime(X509 *cert)
{
	/* Purpose -1 checks nothing; the call exists for its side effect. */
	(void)X509_check_purpose(cert, -1, 0);
}

void tls_store_prime(X509_STORE *store)
{
	STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(store);
	for (int i = 0; i < sk_X509_OBJECT_num(objects); i++) {
		X509 *cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
		if (cert)
			tls_cert_prime(cert);
	}
}
