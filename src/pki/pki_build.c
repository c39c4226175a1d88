/*
 * pki_build: certificate assembly. Fixed-form extensions go through
 * OpenSSL's v3 configuration strings; the SAN is built from GENERAL_NAMEs
 * directly so that no user-supplied name is ever parsed as configuration.
 */
#include "pki/pki_build.h"

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki/pki_err.h"
#include "pki/pki_keys.h"

#define PKI_SERIAL_LEN 16

static int set_random_serial(X509 *x)
{
	unsigned char buf[PKI_SERIAL_LEN];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(buf, sizeof buf) != 1)
		return -1;
	/* Positive as RFC 5280 requires; never zero, which some software
	 * rejects. */
	buf[0] &= 0x7f;
	unsigned char any = 0;
	for (size_t i = 0; i < sizeof buf; i++)
		any |= buf[i];
	if (!any)
		buf[PKI_SERIAL_LEN - 1] = 1;
	bn = BN_bin2bn(buf, sizeof buf, NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int set_subject(X509 *x, const char *cn, const char *org)
{
	X509_NAME *name = X509_get_subject_name(x);

	/* O before CN: printed RFC 2253 style (last RDN first) this reads
	 * "CN=edge,O=Example". */
	if (org && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
					       (const unsigned char *)org, -1, -1, 0))
		return -1;
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0))
		return -1;
	return 0;
}

static int set_validity(X509 *x, time_t not_before, long days)
{
	if (!ASN1_TIME_set(X509_getm_notBefore(x), not_before))
		return -1;
	if (!ASN1_TIME_set(X509_getm_notAfter(x), not_before + (time_t)days * 86400))
		return -1;
	return 0;
}

static int add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int push_name(GENERAL_NAMES *gens, int type, ASN1_STRING *value)
{
	GENERAL_NAME *g;

	if (!value)
		return -1;
	g = GENERAL_NAME_new();
	if (!g) {
		ASN1_STRING_free(value);
		return -1;
	}
	GENERAL_NAME_set0_value(g, type, value);
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return -1;
	}
	return 0;
}

static ASN1_STRING *ia5_string(const char *s)
{
	ASN1_IA5STRING *str = ASN1_IA5STRING_new();

	if (str && !ASN1_STRING_set(str, s, -1)) {
		ASN1_IA5STRING_free(str);
		return NULL;
	}
	return str;
}

static int add_san(X509 *x, const struct pki_cert_spec *s, const char *cn_as_dns)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int rc = -1;

	if (!gens)
		return -1;
	for (size_t i = 0; i < s->n_dns; i++)
		if (push_name(gens, GEN_DNS, ia5_string(s->dns[i])) < 0)
			goto out;
	for (size_t i = 0; i < s->n_ips; i++)
		if (push_name(gens, GEN_IPADD, a2i_IPADDRESS(s->ips[i])) < 0)
			goto out;
	if (cn_as_dns && push_name(gens, GEN_DNS, ia5_string(cn_as_dns)) < 0)
		goto out;
	if (sk_GENERAL_NAME_num(gens) > 0 &&
	    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static int add_extensions(X509 *x, const struct pki_cert_spec *s)
{
	X509V3_CTX ctx;
	const char *ku;
	const char *cn_as_dns = NULL;

	X509V3_set_ctx(&ctx, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
	if (s->is_ca) {
		if (add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
		    add_conf_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") < 0)
			return -1;
	} else {
		/* keyEncipherment only means something for RSA key transport. */
		ku = pki_key_is_rsa(s->key) ? "critical,digitalSignature,keyEncipherment"
					    : "critical,digitalSignature";
		if (add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
		    add_conf_ext(x, &ctx, NID_key_usage, ku) < 0 ||
		    add_conf_ext(x, &ctx, NID_ext_key_usage,
				 s->leaf == PKI_LEAF_SERVER ? "serverAuth" : "clientAuth") < 0)
			return -1;
	}
	/* SKI first: AKI of a self-signed certificate copies it. */
	if (add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0)
		return -1;
	if (s->issuer) {
		/* Key id of the issuer; issuer name + serial only if it has none. */
		if (add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid,issuer") < 0)
			return -1;
	} else if (!s->is_ca) {
		if (add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0)
			return -1;
	}
	if (s->is_ca)
		return 0;
	if (s->leaf == PKI_LEAF_SERVER && !s->n_dns && !s->n_ips)
		cn_as_dns = s->cn;
	return add_san(x, s, cn_as_dns);
}

X509 *pki_build_cert(const struct pki_cert_spec *s, char *err, size_t errlen)
{
	X509 *x = X509_new();
	EVP_PKEY *signer = s->issuer ? s->issuer_key : s->key;
	X509_NAME *issuer_name;

	if (!x || !X509_set_version(x, X509_VERSION_3) || set_random_serial(x) < 0 ||
	    set_subject(x, s->cn, s->org) < 0) {
		pki_err_ssl(err, errlen, "cannot build certificate for CN=%s", s->cn);
		goto fail;
	}
	issuer_name = s->issuer ? X509_get_subject_name(s->issuer)
				: X509_get_subject_name(x);
	if (!X509_set_issuer_name(x, issuer_name) ||
	    set_validity(x, s->not_before, s->days) < 0 || !X509_set_pubkey(x, s->key)) {
		pki_err_ssl(err, errlen, "cannot build certificate for CN=%s", s->cn);
		goto fail;
	}
	if (add_extensions(x, s) < 0) {
		pki_err_ssl(err, errlen, "cannot add extensions to CN=%s", s->cn);
		goto fail;
	}
	if (X509_sign(x, signer, pki_key_sign_md(signer)) <= 0) {
		pki_err_ssl(err, errlen, "cannot sign CN=%s", s->cn);
		goto fail;
	}
	return x;
fail:
	X509_free(x);
	return NULL;
}
