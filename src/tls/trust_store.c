/*
 * trust_store: reads anchors and CRLs, checks each CRL against the anchor
 * that issued it, and sets the revocation flags (see trust_store.h for why
 * leaf-only vs whole-chain).
 */
#include "tls/trust_store.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "tls/cert_inventory.h"
#include "tls/cert_text.h"
#include "tls/tls_keys.h"
#include "tls/trust_preset.h"

/* A PEM stream ends cleanly when the last error is "no start line". */
static bool pem_ended_cleanly(void)
{
	unsigned long e = ERR_peek_last_error();
	return !e || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

/* The anchors from bio into store and anchors; each is recorded in inv
 * (when given) as from inv_file. label names bio in errors. */
static bool load_certs(BIO *bio, const char *label, const char *inv_file, bool shared,
		       X509_STORE *store, STACK_OF(X509) *anchors, struct cert_inventory *inv,
		       char *err, size_t errlen)
{
	size_t count = 0;
	X509 *cert;
	ERR_clear_error();
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		tls_cert_prime(cert);
		if (X509_STORE_add_cert(store, cert) != 1 || !sk_X509_push(anchors, cert)) {
			X509_free(cert);
			snprintf(err, errlen, "%s: cannot add certificate", label);
			return false;
		}
		if (inv && !cert_inventory_add_cert(inv, CERT_KIND_TRUST_ANCHOR, inv_file, cert,
						    shared)) {
			snprintf(err, errlen, "%s: cannot record certificate (out of memory or "
				 "unreadable notAfter)", label);
			return false;
		}
		count++;
	}
	bool clean = pem_ended_cleanly();
	ERR_clear_error();
	if (!clean)
		snprintf(err, errlen, "%s: bad PEM after %zu certificate(s)", label, count);
	else if (count == 0)
		snprintf(err, errlen, "%s: no certificate found", label);
	return clean && count > 0;
}

static X509 *crl_issuer(STACK_OF(X509) *anchors, X509_CRL *crl)
{
	for (int i = 0; i < sk_X509_num(anchors); i++) {
		X509 *ca = sk_X509_value(anchors, i);
		if (X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0)
			return ca;
	}
	return NULL;
}

static bool check_crl(const char *path, X509_CRL *crl, STACK_OF(X509) *anchors,
		      trust_warn_fn *warn, void *warn_arg, char *err, size_t errlen)
{
	char msg[512];
	X509 *ca = crl_issuer(anchors, crl);
	if (ca && X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1) {
		char subject[200];
		cert_text_subject(ca, subject, sizeof subject);
		snprintf(err, errlen, "%s: CRL signature does not verify with CA %s", path, subject);
		return false;
	}
	if (!ca) {
		snprintf(msg, sizeof msg, "%s: no configured CA issued this CRL; it only "
			 "applies to intermediate CAs that clients send", path);
		warn(warn_arg, msg);
	}
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	if (next && X509_cmp_current_time(next) < 0) {
		char when[16] = "?";
		cert_text_time(next, true, when, sizeof when);
		snprintf(msg, sizeof msg, "%s: CRL expired on %s: every client certificate it "
			 "covers is refused until it is renewed", path, when);
		warn(warn_arg, msg);
	}
	return true;
}

static bool load_crls(const char *path, X509_STORE *store, STACK_OF(X509) *anchors,
		      STACK_OF(X509_CRL) *crls, struct cert_inventory *inv, trust_warn_fn *warn,
		      void *warn_arg, char *err, size_t errlen)
{
	BIO *bio = BIO_new_file(path, "r");
	if (!bio) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	size_t count = 0;
	bool ok = true;
	X509_CRL *crl;
	ERR_clear_error();
	while (ok && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		ok = check_crl(path, crl, anchors, warn, warn_arg, err, errlen);
		if (ok && inv && !cert_inventory_add_crl(inv, path, crl)) {
			snprintf(err, errlen, "%s: cannot record CRL (out of memory or unreadable "
				 "nextUpdate)", path);
			ok = false;
		}
		if (ok && (X509_STORE_add_crl(store, crl) != 1 || !sk_X509_CRL_push(crls, crl))) {
			snprintf(err, errlen, "%s: cannot add CRL", path);
			ok = false;
		}
		if (!ok)
			X509_CRL_free(crl);
		count++;
	}
	if (ok && !pem_ended_cleanly()) {
		snprintf(err, errlen, "%s: bad PEM after %zu CRL(s)", path, count);
		ok = false;
	} else if (ok && count == 0) {
		snprintf(err, errlen, "%s: no CRL found", path);
		ok = false;
	}
	ERR_clear_error();
	BIO_free(bio);
	return ok;
}

static bool load_preset(const char *conf_file, const char *name, X509_STORE *store,
			STACK_OF(X509) *anchors, struct trust_store_info *info,
			struct cert_inventory *inv, char *err, size_t errlen)
{
	const struct trust_preset *p = trust_preset_find(name);
	if (!p) {
		snprintf(err, errlen, "%s: unknown trust preset '%s'", conf_file, name);
		return false;
	}
	char label[64], inv_file[64];
	snprintf(label, sizeof label, "trust preset %s", p->name);
	snprintf(inv_file, sizeof inv_file, "%s preset", p->name);
	BIO *bio = BIO_new_mem_buf(p->pem, -1);
	bool ok = bio && load_certs(bio, label, inv_file, p->shared, store, anchors, inv, err,
				    errlen);
	BIO_free(bio);
	if (p->shared)
		info->shared_preset = p->name;
	return ok;
}

/* Sets the CRL flags and warns about anchors no CRL covers. */
static void set_crl_policy(X509_STORE *store, STACK_OF(X509) *anchors, STACK_OF(X509_CRL) *crls,
			   struct trust_store_info *info, trust_warn_fn *warn, void *warn_arg)
{
	bool all_covered = true;
	for (int i = 0; i < sk_X509_num(anchors); i++) {
		X509 *ca = sk_X509_value(anchors, i);
		bool covered = false;
		for (int j = 0; !covered && j < sk_X509_CRL_num(crls); j++)
			covered = X509_NAME_cmp(X509_get_subject_name(ca),
						X509_CRL_get_issuer(sk_X509_CRL_value(crls, j))) == 0;
		if (!covered) {
			char subject[200], msg[400];
			cert_text_subject(ca, subject, sizeof subject);
			snprintf(msg, sizeof msg, "CRLs are configured but none is issued by %s: "
				 "client certificates it issues directly will be refused", subject);
			warn(warn_arg, msg);
			all_covered = false;
		}
	}
	info->crl_check_all = all_covered;
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK |
			     (all_covered ? X509_V_FLAG_CRL_CHECK_ALL : 0));
}

X509_STORE *trust_store_build(const struct guard_conf *conf, struct trust_store_info *info,
			      struct cert_inventory *inv, trust_warn_fn *warn, void *warn_arg,
			      char *err, size_t errlen)
{
	const char *conf_file = conf->file ? conf->file : "configuration";
	memset(info, 0, sizeof *info);
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *anchors = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	bool ok = store && anchors && crls;
	if (!ok)
		snprintf(err, errlen, "%s: out of memory building the trust store", conf_file);
	for (size_t i = 0; ok && i < conf->ca_files.count; i++) {
		const char *path = conf->ca_files.items[i];
		BIO *bio = BIO_new_file(path, "r");
		if (!bio)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		ok = bio && load_certs(bio, path, path, false, store, anchors, inv, err, errlen);
		BIO_free(bio);
	}
	for (size_t i = 0; ok && i < conf->presets.count; i++)
		ok = load_preset(conf_file, conf->presets.items[i], store, anchors, info, inv, err,
				 errlen);
	if (ok && sk_X509_num(anchors) == 0) {
		snprintf(err, errlen, "%s: no trust anchors: set trust.ca or trust.preset", conf_file);
		ok = false;
	}
	for (size_t i = 0; ok && i < conf->crl_files.count; i++)
		ok = load_crls(conf->crl_files.items[i], store, anchors, crls, inv, warn, warn_arg,
			       err, errlen);
	if (ok) {
		info->anchors = (size_t)sk_X509_num(anchors);
		info->crls = (size_t)sk_X509_CRL_num(crls);
		if (info->crls)
			set_crl_policy(store, anchors, crls, info, warn, warn_arg);
	}
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	if (!ok) {
		X509_STORE_free(store);
		return NULL;
	}
	return store;
}
