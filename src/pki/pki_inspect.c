/*
 * pki_inspect: `pki inspect FILE` — prints a certificate (the first PEM
 * certificate in FILE) or, failing that, a PEM CRL as "key: value" lines
 * whose names and order are a stable interface for scripts and tests.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki_cmds.h"
#include "pki/pki_err.h"
#include "pki/pki_files.h"
#include "pki/pki_keys.h"
#include "pki/pki_pin.h"
#include "pki/pki_time.h"

static void print_name(BIO *b, const char *key, const X509_NAME *name)
{
	BIO_printf(b, "%s: ", key);
	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
	BIO_printf(b, "\n");
}

/* Uppercase hex without colons; "0" for zero. */
static void print_serial(BIO *b, const char *key, const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	BIO_printf(b, "%s: %s\n", key, hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

static int print_time(BIO *b, const char *key, const ASN1_TIME *at, time_t *t)
{
	char buf[PKI_TIME_STR_LEN];

	if (pki_time_from_asn1(at, t) < 0)
		return -1;
	pki_time_format(*t, buf);
	BIO_printf(b, "%s: %s\n", key, buf);
	return 0;
}

static void print_key_usage(BIO *b, X509 *x)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{ KU_DIGITAL_SIGNATURE, "digitalSignature" },
		{ KU_NON_REPUDIATION, "nonRepudiation" },
		{ KU_KEY_ENCIPHERMENT, "keyEncipherment" },
		{ KU_DATA_ENCIPHERMENT, "dataEncipherment" },
		{ KU_KEY_AGREEMENT, "keyAgreement" },
		{ KU_KEY_CERT_SIGN, "keyCertSign" },
		{ KU_CRL_SIGN, "cRLSign" },
		{ KU_ENCIPHER_ONLY, "encipherOnly" },
		{ KU_DECIPHER_ONLY, "decipherOnly" },
	};
	uint32_t ku = X509_get_key_usage(x);
	const char *sep = "";

	BIO_printf(b, "key_usage: ");
	if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE) || ku == 0) {
		BIO_printf(b, "none\n");
		return;
	}
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
		if (ku & bits[i].bit) {
			BIO_printf(b, "%s%s", sep, bits[i].name);
			sep = ",";
		}
	}
	BIO_printf(b, "\n");
}

static void print_eku(BIO *b, X509 *x)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	char oid[80];

	BIO_printf(b, "extended_key_usage: ");
	if (!eku || sk_ASN1_OBJECT_num(eku) == 0) {
		BIO_printf(b, "none\n");
		EXTENDED_KEY_USAGE_free(eku);
		return;
	}
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(obj);
		const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;

		if (!sn) {
			OBJ_obj2txt(oid, sizeof oid, obj, 1);
			sn = oid;
		}
		BIO_printf(b, "%s%s", i ? "," : "", sn);
	}
	BIO_printf(b, "\n");
	EXTENDED_KEY_USAGE_free(eku);
}

/* Prints a name from a certificate that may be hostile: anything outside
 * printable ASCII, and the list separator, become \xHH. */
static void print_escaped(BIO *b, const unsigned char *p, int len)
{
	for (int i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',' || p[i] == '\\')
			BIO_printf(b, "\\x%02X", p[i]);
		else
			BIO_write(b, &p[i], 1);
	}
}

static void print_ip(BIO *b, const ASN1_OCTET_STRING *ip)
{
	char buf[INET6_ADDRSTRLEN];
	int len = ASN1_STRING_length(ip);
	const unsigned char *p = ASN1_STRING_get0_data(ip);

	if ((len == 4 && inet_ntop(AF_INET, p, buf, sizeof buf)) ||
	    (len == 16 && inet_ntop(AF_INET6, p, buf, sizeof buf)))
		BIO_printf(b, "IP:%s", buf);
	else
		BIO_printf(b, "IP:?");
}

static void print_san(BIO *b, X509 *x)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;

	BIO_printf(b, "san: ");
	if (n == 0)
		BIO_printf(b, "none");
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		ASN1_STRING *s;

		if (i)
			BIO_printf(b, ",");
		switch (g->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			s = g->d.ia5;
			BIO_printf(b, "%s:", g->type == GEN_DNS ? "DNS" :
					     g->type == GEN_EMAIL ? "email" : "URI");
			print_escaped(b, ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
			break;
		case GEN_IPADD:
			print_ip(b, g->d.iPAddress);
			break;
		default:
			BIO_printf(b, "other");
			break;
		}
	}
	BIO_printf(b, "\n");
	GENERAL_NAMES_free(gens);
}

static int print_pins(BIO *b, X509 *x)
{
	unsigned char md[PKI_SHA256_LEN];
	char hex[PKI_HEX_COLON_LEN];
	char b64[PKI_B64_LEN];

	if (pki_pin_cert_sha256(x, md) < 0)
		return -1;
	pki_hex(md, sizeof md, true, ':', hex, sizeof hex);
	BIO_printf(b, "sha256: %s\n", hex);
	if (pki_pin_spki_sha256(x, md) < 0)
		return -1;
	pki_base64(md, sizeof md, b64, sizeof b64);
	pki_hex(md, sizeof md, false, '\0', hex, sizeof hex);
	BIO_printf(b, "spki_sha256: %s\nspki_sha256_hex: %s\n", b64, hex);
	return 0;
}

static int inspect_cert(BIO *b, X509 *x, const char *path, time_t now, char *err,
			size_t errlen)
{
	time_t nb, na;
	char keyname[32];

	print_name(b, "subject", X509_get_subject_name(x));
	print_name(b, "issuer", X509_get_issuer_name(x));
	print_serial(b, "serial", X509_get0_serialNumber(x));
	if (print_time(b, "not_before", X509_get0_notBefore(x), &nb) < 0 ||
	    print_time(b, "not_after", X509_get0_notAfter(x), &na) < 0) {
		pki_err_set(err, errlen, "%s: unreadable validity time", path);
		return -1;
	}
	BIO_printf(b, "days_left: %ld\n", pki_time_days_left(na, now));
	BIO_printf(b, "status: %s\n", now < nb ? "not yet valid" :
				      now > na ? "expired" : "valid");
	pki_key_describe(X509_get0_pubkey(x), keyname, sizeof keyname);
	BIO_printf(b, "key: %s\n", keyname);
	BIO_printf(b, "ca: %s\n",
		   (X509_get_extension_flags(x) & EXFLAG_CA) ? "true" : "false");
	print_key_usage(b, x);
	print_eku(b, x);
	print_san(b, x);
	if (print_pins(b, x) < 0) {
		pki_err_ssl(err, errlen, "%s: cannot compute fingerprints", path);
		return -1;
	}
	return 0;
}

static int inspect_crl(BIO *b, X509_CRL *crl, const char *path, char *err,
		       size_t errlen)
{
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
	ASN1_INTEGER *number = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	int n = revoked ? sk_X509_REVOKED_num(revoked) : 0;
	time_t t;
	int rc = -1;

	print_name(b, "issuer", X509_CRL_get_issuer(crl));
	if (print_time(b, "last_update", X509_CRL_get0_lastUpdate(crl), &t) < 0 ||
	    (next && print_time(b, "next_update", next, &t) < 0)) {
		pki_err_set(err, errlen, "%s: unreadable update time", path);
		goto out;
	}
	if (!next)
		BIO_printf(b, "next_update: none\n");
	if (number) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(number, NULL);
		char *dec = bn ? BN_bn2dec(bn) : NULL;
		BIO_printf(b, "crl_number: %s\n", dec ? dec : "?");
		OPENSSL_free(dec);
		BN_free(bn);
	} else {
		BIO_printf(b, "crl_number: none\n");
	}
	BIO_printf(b, "revoked: %d\n", n);
	for (int i = 0; i < n; i++)
		print_serial(b, "revoked_serial",
			     X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i)));
	rc = 0;
out:
	ASN1_INTEGER_free(number);
	return rc;
}

int pki_cmd_inspect(const struct pki_opts *o, time_t now, FILE *out, char *err,
		    size_t errlen)
{
	const char *path = o->files[0];
	unsigned char *data;
	size_t len;
	BIO *in = NULL, *b = NULL;
	X509 *x = NULL;
	X509_CRL *crl = NULL;
	int rc = -1;

	if (pki_file_read(path, &data, &len, err, errlen) < 0)
		return -1;
	in = BIO_new_mem_buf(data, (int)len);
	b = BIO_new_fp(out, BIO_NOCLOSE);
	if (!in || !b) {
		pki_err_ssl(err, errlen, "%s: out of memory", path);
		goto out;
	}
	x = PEM_read_bio_X509(in, NULL, NULL, NULL);
	if (!x) {
		BIO_free(in);
		in = BIO_new_mem_buf(data, (int)len);
		crl = in ? PEM_read_bio_X509_CRL(in, NULL, NULL, NULL) : NULL;
	}
	ERR_clear_error();
	if (x)
		rc = inspect_cert(b, x, path, now, err, errlen);
	else if (crl)
		rc = inspect_crl(b, crl, path, err, errlen);
	else
		pki_err_set(err, errlen, "%s: no PEM certificate or X509 CRL", path);
	if (b)
		(void)BIO_flush(b);
out:
	X509_free(x);
	X509_CRL_free(crl);
	BIO_free(in);
	BIO_free(b);
	pki_file_free(data, len);
	return rc;
}
