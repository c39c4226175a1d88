/*
 * pki_crl: `pki revoke` and `pki crl`. A CRL is always rewritten whole: the
 * previous file's entries are kept (after checking the CA signed it), new
 * serials are added once, the CRL number goes up by one and the file is
 * replaced atomically so a guard reloading it never reads half a CRL.
 */
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki_cmds.h"
#include "pki/pki_err.h"
#include "pki/pki_files.h"
#include "pki/pki_keys.h"
#include "pki/pki_load.h"

/* Checks a certificate was issued by ca: issuer name and signature. */
static int check_issued_by(X509 *x, X509 *ca, const char *path,
			   const char *ca_path, char *err, size_t errlen)
{
	if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca)) != 0 ||
	    X509_verify(x, X509_get0_pubkey(ca)) != 1) {
		ERR_clear_error();
		pki_err_set(err, errlen, "%s: not issued by %s", path, ca_path);
		return -1;
	}
	return 0;
}

/* The existing CRL at o->crl, or NULL in *out when there is none yet. */
static int load_previous(const struct pki_opts *o, X509 *ca, X509_CRL **out,
			 char *err, size_t errlen)
{
	X509_CRL *crl;

	*out = NULL;
	if (!pki_file_exists(o->crl))
		return 0;
	crl = pki_load_crl(o->crl, err, errlen);
	if (!crl)
		return -1;
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1) {
		ERR_clear_error();
		pki_err_set(err, errlen, "%s: not a CRL signed by %s", o->crl, o->ca_cert);
		X509_CRL_free(crl);
		return -1;
	}
	*out = crl;
	return 0;
}

static bool crl_has_serial(X509_CRL *crl, const ASN1_INTEGER *serial)
{
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);

	for (int i = 0; revoked && i < sk_X509_REVOKED_num(revoked); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);
		if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(r), serial) == 0)
			return true;
	}
	return false;
}

static int add_entry(X509_CRL *crl, const ASN1_INTEGER *serial,
		     const ASN1_TIME *when)
{
	X509_REVOKED *r;

	if (crl_has_serial(crl, serial))
		return 0;
	r = X509_REVOKED_new();
	if (!r || !X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)serial) ||
	    !X509_REVOKED_set_revocationDate(r, (ASN1_TIME *)when) ||
	    !X509_CRL_add0_revoked(crl, r)) {
		X509_REVOKED_free(r);
		return -1;
	}
	return 0;
}

static int copy_entries(X509_CRL *crl, X509_CRL *prev)
{
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(prev);

	for (int i = 0; revoked && i < sk_X509_REVOKED_num(revoked); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);
		X509_REVOKED *copy;

		if (crl_has_serial(crl, X509_REVOKED_get0_serialNumber(r)))
			continue;
		copy = X509_REVOKED_dup(r);
		if (!copy || !X509_CRL_add0_revoked(crl, copy)) {
			X509_REVOKED_free(copy);
			return -1;
		}
	}
	return 0;
}

/* crlNumber = previous + 1, or 1 for a first CRL. */
static int set_number(X509_CRL *crl, X509_CRL *prev)
{
	ASN1_INTEGER *old = prev ? X509_CRL_get_ext_d2i(prev, NID_crl_number, NULL, NULL)
				 : NULL;
	BIGNUM *bn = old ? ASN1_INTEGER_to_BN(old, NULL) : BN_new();
	ASN1_INTEGER *num = NULL;
	int rc = -1;

	if (bn && BN_add_word(bn, 1) && (num = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1)
		rc = 0;
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(old);
	BN_free(bn);
	return rc;
}

static int add_aki(X509_CRL *crl, X509 *ca)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier,
				   "keyid,issuer");
	if (!ext)
		return -1;
	ok = X509_CRL_add_ext(crl, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static X509_CRL *build_crl(const struct pki_opts *o, time_t now, X509 *ca,
			   EVP_PKEY *ca_key, X509_CRL *prev, X509 **certs)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, now);
	ASN1_TIME *next = ASN1_TIME_set(NULL, now + (time_t)o->days * 86400);
	bool ok = crl && last && next &&
		  X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		  X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) &&
		  X509_CRL_set1_lastUpdate(crl, last) &&
		  X509_CRL_set1_nextUpdate(crl, next);

	if (ok && prev && copy_entries(crl, prev) < 0)
		ok = false;
	for (size_t i = 0; ok && i < o->n_files; i++)
		if (add_entry(crl, X509_get0_serialNumber(certs[i]), last) < 0)
			ok = false;
	ok = ok && set_number(crl, prev) == 0 && add_aki(crl, ca) == 0 &&
	     X509_CRL_sort(crl) && X509_CRL_sign(crl, ca_key, pki_key_sign_md(ca_key)) > 0;
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

static int write_crl(const char *path, X509_CRL *crl, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	struct pki_output out = { path, NULL, 0, 0644 };
	int rc = -1;

	if (!b || !PEM_write_bio_X509_CRL(b, crl)) {
		pki_err_ssl(err, errlen, "%s: cannot encode CRL", path);
		goto out;
	}
	out.len = (size_t)BIO_get_mem_data(b, &data);
	out.data = data;
	rc = pki_files_write(&out, 1, true, err, errlen);
out:
	BIO_free(b);
	return rc;
}

int pki_cmd_revoke(const struct pki_opts *o, time_t now, char *err,
		   size_t errlen)
{
	X509 *ca = NULL;
	EVP_PKEY *ca_key = NULL;
	X509 **certs = NULL;
	X509_CRL *prev = NULL, *crl = NULL;
	int rc = -1;

	if (pki_load_ca(o->ca_cert, o->ca_key, KU_CRL_SIGN, &ca, &ca_key, err,
			errlen) < 0)
		return -1;
	certs = OPENSSL_zalloc((o->n_files + 1) * sizeof *certs);
	if (!certs) {
		pki_err_set(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < o->n_files; i++) {
		certs[i] = pki_load_cert(o->files[i], err, errlen);
		if (!certs[i] ||
		    check_issued_by(certs[i], ca, o->files[i], o->ca_cert, err, errlen) < 0)
			goto out;
	}
	if (load_previous(o, ca, &prev, err, errlen) < 0)
		goto out;
	crl = build_crl(o, now, ca, ca_key, prev, certs);
	if (!crl) {
		pki_err_ssl(err, errlen, "%s: cannot build CRL", o->crl);
		goto out;
	}
	rc = write_crl(o->crl, crl, err, errlen);
out:
	for (size_t i = 0; certs && i < o->n_files; i++)
		X509_free(certs[i]);
	OPENSSL_free(certs);
	X509_CRL_free(prev);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}
