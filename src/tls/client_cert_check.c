/*
 * client_cert_check: the start-up checks of an origin-pull client certificate
 * and its expiry warning. The chain and key loading itself is tls_keys_load,
 * shared with the guard; this file adds what only a client certificate needs.
 */
#include "tls/client_cert_check.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "tls/cert_text.h"
#include "tls/tls_keys.h"

#define DAY_S 86400LL

/* "serverAuth, codeSigning": the extended key usages cert lists. */
static void eku_names(X509 *cert, char *out, size_t outlen)
{
	out[0] = '\0';
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	size_t used = 0;
	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku) && used + 1 < outlen; i++) {
		ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
		char oid[80];
		int nid = OBJ_obj2nid(obj);
		if (nid != NID_undef)
			snprintf(oid, sizeof oid, "%s", OBJ_nid2sn(nid));
		else if (OBJ_obj2txt(oid, sizeof oid, obj, 1) <= 0)
			snprintf(oid, sizeof oid, "?");
		int n = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", oid);
		used = n < 0 ? used : used + (size_t)n;
	}
	if (used >= outlen)
		out[outlen - 1] = '\0';
	if (!out[0])
		snprintf(out, outlen, "none");
	EXTENDED_KEY_USAGE_free(eku);
	ERR_clear_error();
}

bool client_cert_check_leaf(X509 *leaf, const char *cert_path, char *err, size_t errlen)
{
	uint32_t flags = X509_get_extension_flags(leaf);
	if (flags & EXFLAG_CA) {
		snprintf(err, errlen, "%s: is a CA certificate, not a leaf", cert_path);
		return false;
	}
	/* OpenSSL's sslclient purpose, which the origin applies, wants
	 * clientAuth itself once the extension is there; anyExtendedKeyUsage
	 * is not enough. */
	if ((flags & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT)) {
		char has[160];
		eku_names(leaf, has, sizeof has);
		snprintf(err, errlen, "%s: has no clientAuth extended key usage (it has: %s)",
			 cert_path, has);
		return false;
	}
	long long left;
	char when[32] = "?";
	if (!cert_time_left(X509_get0_notBefore(leaf), &left)) {
		snprintf(err, errlen, "%s: unreadable validity period", cert_path);
		return false;
	}
	if (left > 0) {
		cert_text_time(X509_get0_notBefore(leaf), false, when, sizeof when);
		snprintf(err, errlen, "%s: not valid until %s", cert_path, when);
		return false;
	}
	if (!cert_time_left(X509_get0_notAfter(leaf), &left) || left <= 0) {
		cert_text_time(X509_get0_notAfter(leaf), false, when, sizeof when);
		snprintf(err, errlen, "%s: expired on %s", cert_path, when);
		return false;
	}
	return true;
}

static X509 *read_leaf(const char *cert_path, char *err, size_t errlen)
{
	BIO *bio = BIO_new_file(cert_path, "r");
	if (!bio) {
		snprintf(err, errlen, "%s: cannot open: %s", cert_path, strerror(errno));
		ERR_clear_error();
		return NULL;
	}
	X509 *leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!leaf)
		snprintf(err, errlen, "%s: no certificate found", cert_path);
	return leaf;
}

X509 *client_cert_load(SSL_CTX *ctx, const char *cert_path, const char *key_path, char *err,
		       size_t errlen)
{
	if (!cert_path || !key_path) {
		snprintf(err, errlen, "%s: a client certificate needs a key",
			 cert_path ? cert_path : key_path ? key_path : "(none)");
		return NULL;
	}
	X509 *leaf = read_leaf(cert_path, err, errlen);
	if (!leaf)
		return NULL;
	long long unused;
	if (!client_cert_check_leaf(leaf, cert_path, err, errlen) ||
	    !tls_keys_load(ctx, cert_path, key_path, &unused, err, errlen)) {
		X509_free(leaf);
		return NULL;
	}
	return leaf;
}

int client_cert_days_left(X509 *cert)
{
	long long left;
	if (!cert || !cert_time_left(X509_get0_notAfter(cert), &left))
		return INT_MIN;
	/* Rounded up, so "expires in 1 day" until the very last second. */
	long long days = left > 0 ? (left + DAY_S - 1) / DAY_S : -(-left / DAY_S);
	if (days > INT_MAX)
		return INT_MAX;
	return days < INT_MIN + 1 ? INT_MIN + 1 : (int)days;
}

bool client_cert_expiry_warning(X509 *cert, const char *cert_path, const char *scope, char *out,
				size_t outlen)
{
	int days = client_cert_days_left(cert);
	if (days == INT_MIN || days > CLIENT_CERT_WARN_DAYS)
		return false;
	char date[16] = "?";
	cert_text_time(X509_get0_notAfter(cert), true, date, sizeof date);
	snprintf(out, outlen, "%sorigin-pull certificate %s (%s) expires in %d day%s (%s)",
		 days <= CLIENT_CERT_URGENT_DAYS ? "URGENT: " : "", cert_path, scope, days,
		 days == 1 ? "" : "s", date);
	return true;
}
