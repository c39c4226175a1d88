/*
 * pki_load: PEM input. Files are read whole (bounded by PKI_FILE_MAX) and
 * parsed from memory so that "no such file" and "not a certificate" are
 * told apart in errors.
 */
#include "pki/pki_load.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki_err.h"
#include "pki/pki_files.h"
#include "pki/pki_keys.h"

static BIO *load_file_bio(const char *path, unsigned char **data, size_t *len,
			  char *err, size_t errlen)
{
	BIO *bio;

	if (pki_file_read(path, data, len, err, errlen) < 0)
		return NULL;
	bio = BIO_new_mem_buf(*data, (int)*len);
	if (!bio) {
		pki_err_ssl(err, errlen, "%s: out of memory", path);
		pki_file_free(*data, *len);
	}
	return bio;
}

X509 *pki_load_cert(const char *path, char *err, size_t errlen)
{
	unsigned char *data;
	size_t len;
	BIO *bio = load_file_bio(path, &data, &len, err, errlen);
	X509 *x;

	if (!bio)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!x)
		pki_err_set(err, errlen, "%s: no PEM certificate", path);
	ERR_clear_error();
	BIO_free(bio);
	pki_file_free(data, len);
	return x;
}

STACK_OF(X509) *pki_load_certs(const char *path, char *err, size_t errlen)
{
	unsigned char *data;
	size_t len;
	BIO *bio = load_file_bio(path, &data, &len, err, errlen);
	STACK_OF(X509) *st;
	X509 *x;

	if (!bio)
		return NULL;
	st = sk_X509_new_null();
	while (st && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(st, x)) {
			X509_free(x);
			break;
		}
	}
	/* The loop ends with "no start line" at the end of the file. */
	ERR_clear_error();
	if (!st || sk_X509_num(st) == 0) {
		pki_err_set(err, errlen, "%s: no PEM certificate", path);
		sk_X509_pop_free(st, X509_free);
		st = NULL;
	}
	BIO_free(bio);
	pki_file_free(data, len);
	return st;
}

X509_CRL *pki_load_crl(const char *path, char *err, size_t errlen)
{
	unsigned char *data;
	size_t len;
	BIO *bio = load_file_bio(path, &data, &len, err, errlen);
	X509_CRL *crl;

	if (!bio)
		return NULL;
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	if (!crl)
		pki_err_set(err, errlen, "%s: no PEM X509 CRL", path);
	ERR_clear_error();
	BIO_free(bio);
	pki_file_free(data, len);
	return crl;
}

int pki_load_ca(const char *cert_path, const char *key_path, unsigned usage,
		X509 **cert, EVP_PKEY **key, char *err, size_t errlen)
{
	X509 *x = pki_load_cert(cert_path, err, errlen);
	EVP_PKEY *k = NULL;
	uint32_t flags;

	if (!x)
		return -1;
	k = pki_key_load(key_path, err, errlen);
	if (!k)
		goto fail;
	if (X509_check_private_key(x, k) != 1) {
		ERR_clear_error();
		pki_err_set(err, errlen, "%s: does not match the key in %s", cert_path,
			    key_path);
		goto fail;
	}
	flags = X509_get_extension_flags(x);
	if (!(flags & EXFLAG_CA)) {
		pki_err_set(err, errlen, "%s: not a CA certificate (no basicConstraints CA:TRUE)",
			    cert_path);
		goto fail;
	}
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & usage)) {
		pki_err_set(err, errlen, "%s: keyUsage does not allow %s", cert_path,
			    usage == KU_CRL_SIGN ? "cRLSign" : "keyCertSign");
		goto fail;
	}
	*cert = x;
	*key = k;
	return 0;
fail:
	EVP_PKEY_free(k);
	X509_free(x);
	return -1;
}
