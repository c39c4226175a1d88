/*
 * pki_issue: `pki ca` and `pki issue`. Each checks its outputs first (so a
 * refused overwrite costs no key generation), loads and validates the
 * signing CA, generates the key, builds the certificate and writes key and
 * certificate together, all or nothing.
 */
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki_build.h"
#include "pki/pki_cmds.h"
#include "pki/pki_err.h"
#include "pki/pki_files.h"
#include "pki/pki_keys.h"
#include "pki/pki_load.h"

/* Writes the key (0600) and the certificate followed by chain (0644). */
static int write_key_and_cert(const struct pki_opts *o, EVP_PKEY *key, X509 *x,
			      STACK_OF(X509) *chain, char *err, size_t errlen)
{
	BIO *kbio = pki_key_to_pem(key, o->key, err, errlen);
	BIO *cbio = BIO_new(BIO_s_mem());
	char *kdata = NULL, *cdata = NULL;
	struct pki_output outs[2];
	int rc = -1;

	if (!kbio)
		goto out;
	if (!cbio || !PEM_write_bio_X509(cbio, x)) {
		pki_err_ssl(err, errlen, "%s: cannot encode certificate", o->cert);
		goto out;
	}
	for (int i = 0; chain && i < sk_X509_num(chain); i++) {
		if (!PEM_write_bio_X509(cbio, sk_X509_value(chain, i))) {
			pki_err_ssl(err, errlen, "%s: cannot encode chain", o->cert);
			goto out;
		}
	}
	outs[0] = (struct pki_output){ o->key, NULL, 0, 0600 };
	outs[0].len = (size_t)BIO_get_mem_data(kbio, &kdata);
	outs[0].data = kdata;
	outs[1] = (struct pki_output){ o->cert, NULL, 0, 0644 };
	outs[1].len = (size_t)BIO_get_mem_data(cbio, &cdata);
	outs[1].data = cdata;
	rc = pki_files_write(outs, 2, o->force, err, errlen);
out:
	BIO_free(kbio);		/* a secmem BIO: wiped as it is freed */
	BIO_free(cbio);
	return rc;
}

static int check_outputs(const struct pki_opts *o, char *err, size_t errlen)
{
	struct pki_output outs[2] = {
		{ o->key, "", 0, 0600 },
		{ o->cert, "", 0, 0644 },
	};

	return pki_files_check(outs, 2, o->force, err, errlen);
}

/* Shared by both commands once the signer (or none) is known. */
static int make_and_write(const struct pki_opts *o, bool is_ca, X509 *issuer,
			  EVP_PKEY *issuer_key, STACK_OF(X509) *chain, char *err,
			  size_t errlen)
{
	EVP_PKEY *key = pki_key_generate(o->key_type, err, errlen);
	X509 *x = NULL;
	int rc = -1;

	if (!key)
		return -1;
	struct pki_cert_spec spec = {
		.cn = o->cn,
		.org = o->org,
		.is_ca = is_ca,
		.leaf = o->leaf,
		.key = key,
		.not_before = o->not_before,
		.days = o->days,
		.issuer = issuer,
		.issuer_key = issuer_key,
		.dns = o->dns,
		.n_dns = o->n_dns,
		.ips = o->ips,
		.n_ips = o->n_ips,
	};
	x = pki_build_cert(&spec, err, errlen);
	if (x)
		rc = write_key_and_cert(o, key, x, chain, err, errlen);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

int pki_cmd_ca(const struct pki_opts *o, char *err, size_t errlen)
{
	X509 *issuer = NULL;
	EVP_PKEY *issuer_key = NULL;
	int rc;

	if (check_outputs(o, err, errlen) < 0)
		return -1;
	if (o->issuer_cert &&
	    pki_load_ca(o->issuer_cert, o->issuer_key, KU_KEY_CERT_SIGN, &issuer,
			&issuer_key, err, errlen) < 0)
		return -1;
	rc = make_and_write(o, true, issuer, issuer_key, NULL, err, errlen);
	X509_free(issuer);
	EVP_PKEY_free(issuer_key);
	return rc;
}

int pki_cmd_issue(const struct pki_opts *o, char *err, size_t errlen)
{
	X509 *ca = NULL;
	EVP_PKEY *ca_key = NULL;
	STACK_OF(X509) *chain = NULL;
	int rc = -1;

	if (check_outputs(o, err, errlen) < 0)
		return -1;
	if (!o->self_signed &&
	    pki_load_ca(o->ca_cert, o->ca_key, KU_KEY_CERT_SIGN, &ca, &ca_key, err,
			errlen) < 0)
		return -1;
	if (o->chain) {
		chain = pki_load_certs(o->ca_cert, err, errlen);
		if (!chain)
			goto out;
	}
	rc = make_and_write(o, false, ca, ca_key, chain, err, errlen);
out:
	sk_X509_pop_free(chain, X509_free);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}
