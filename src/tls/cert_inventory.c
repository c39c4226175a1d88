/*
 * cert_inventory: the record of what a TLS set uses that expires, and the
 * one wording of its expiry warnings for both roles (see cert_inventory.h).
 */
#include "tls/cert_inventory.h"

#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tls/cert_text.h"

#define DAY_S 86400LL

const char *cert_kind_name(enum cert_kind kind)
{
	switch (kind) {
	case CERT_KIND_SERVER: return "server";
	case CERT_KIND_CLIENT: return "client";
	case CERT_KIND_TRUST_ANCHOR: return "trust_anchor";
	case CERT_KIND_VISITOR: return "visitor";
	case CERT_KIND_CRL: return "crl";
	}
	return "unknown";
}

/* How a warning names the kind. */
static const char *kind_text(enum cert_kind kind)
{
	switch (kind) {
	case CERT_KIND_SERVER: return "server certificate";
	case CERT_KIND_CLIENT: return "origin-pull certificate";
	case CERT_KIND_TRUST_ANCHOR: return "trust anchor";
	case CERT_KIND_VISITOR: return "visitor certificate";
	case CERT_KIND_CRL: return "CRL";
	}
	return "certificate";
}

int cert_inventory_days_left(time_t expires, time_t now)
{
	long long left = (long long)expires - (long long)now;
	/* Rounded up, so "expires in 1 day" until the very last second; the
	 * same count as client_cert_days_left. */
	long long days = left > 0 ? (left + DAY_S - 1) / DAY_S : -(-left / DAY_S);
	if (days > INT_MAX)
		return INT_MAX;
	return days < INT_MIN + 1 ? INT_MIN + 1 : (int)days;
}

int cert_inventory_level(const struct cert_info *ci)
{
	if (ci->kind == CERT_KIND_CRL)
		return ci->days_left <= 0 ? 2 : 0;
	return ci->days_left <= CERT_INVENTORY_URGENT_DAYS ? 2 :
	       ci->days_left <= CERT_INVENTORY_WARN_DAYS ? 1 : 0;
}

/* "2 days ago", "1 day ago", "less than a day ago" for days_left <= 0. */
static void ago_text(int days_left, char *out, size_t outlen)
{
	long long ago = -(long long)days_left;
	if (ago == 0)
		snprintf(out, outlen, "less than a day ago");
	else
		snprintf(out, outlen, "%lld day%s ago", ago, ago == 1 ? "" : "s");
}

bool cert_inventory_warning_text(const char *role, const struct cert_info *ci, char *out,
				 size_t outlen)
{
	int level = cert_inventory_level(ci);
	if (level == 0)
		return false;
	const char *urgent = level == 2 ? "URGENT: " : "";
	char date[32] = "?", ago[48];
	struct tm tm;
	if (gmtime_r(&ci->expires, &tm))
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
	if (ci->kind == CERT_KIND_CRL) {
		/* With CRL checking on, OpenSSL refuses a certificate whose
		 * CRL is past its nextUpdate (X509_V_ERR_CRL_HAS_EXPIRED). */
		ago_text(ci->days_left, ago, sizeof ago);
		snprintf(out, outlen, "%s%s: CRL %s (issued by %s) is past its next update (%s, "
			 "%s): client certificates it covers are refused until it is refreshed",
			 urgent, role, ci->file, ci->subject, ago, date);
	} else if (ci->days_left <= 0) {
		ago_text(ci->days_left, ago, sizeof ago);
		snprintf(out, outlen, "%s%s: %s %s (%s) expired %s (%s)", urgent, role,
			 kind_text(ci->kind), ci->file, ci->subject, ago, date);
	} else {
		snprintf(out, outlen, "%s%s: %s %s (%s) expires in %d day%s (%s)", urgent, role,
			 kind_text(ci->kind), ci->file, ci->subject, ci->days_left,
			 ci->days_left == 1 ? "" : "s", date);
	}
	return true;
}

void cert_inventory_warn(const char *role, const struct cert_info *ci)
{
	char msg[1024];
	if (cert_inventory_warning_text(role, ci, msg, sizeof msg))
		log_warn("%s", msg);
}

/* ---- the stored form ----------------------------------------------- */

static bool asn1_to_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	*out = timegm(&tm);
	return true;
}

/* "CN=..." alone when name has a common name (short enough for a label
 * and a log line), else all of it; RFC 2253 escaping either way. */
static void name_text(const X509_NAME *name, char *out, size_t outlen)
{
	out[0] = '\0';
	X509_NAME *cn_only = NULL;
	int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (at >= 0) {
		cn_only = X509_NAME_new();
		if (!cn_only || !X509_NAME_add_entry(cn_only, X509_NAME_get_entry(name, at), -1, 0)) {
			X509_NAME_free(cn_only);
			cn_only = NULL;
		}
	}
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio && X509_NAME_print_ex(bio, cn_only ? cn_only : name, 0, XN_FLAG_RFC2253) >= 0) {
		char *data = NULL;
		long len = BIO_get_mem_data(bio, &data);
		size_t n = len > 0 ? (size_t)len : 0;
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, data, n);
		out[n] = '\0';
		cert_text_filter(out, n);
	}
	BIO_free(bio);
	X509_NAME_free(cn_only);
	ERR_clear_error();
}

static bool add_entry(struct cert_inventory *inv, enum cert_kind kind, const char *file,
		      const X509_NAME *name, time_t expires, bool shared)
{
	struct cert_inventory_entry e = { .kind = kind, .shared = shared, .expires = expires };
	name_text(name, e.subject, sizeof e.subject);
	for (size_t i = 0; i < inv->count; i++) {
		const struct cert_inventory_entry *o = &inv->entries[i];
		if (o->kind == kind && o->expires == expires && strcmp(o->file, file) == 0 &&
		    strcmp(o->subject, e.subject) == 0)
			return true;
	}
	if (inv->count == inv->cap) {
		size_t cap = inv->cap ? inv->cap * 2 : 8;
		struct cert_inventory_entry *grown = realloc(inv->entries, cap * sizeof *grown);
		if (!grown)
			return false;
		inv->entries = grown;
		inv->cap = cap;
	}
	if (!(e.file = strdup(file)))
		return false;
	inv->entries[inv->count++] = e;
	return true;
}

bool cert_inventory_add_cert(struct cert_inventory *inv, enum cert_kind kind, const char *file,
			     X509 *cert, bool shared)
{
	time_t expires;
	if (!cert || !asn1_to_time(X509_get0_notAfter(cert), &expires))
		return false;
	return add_entry(inv, kind, file, X509_get_subject_name(cert), expires, shared);
}

bool cert_inventory_add_crl(struct cert_inventory *inv, const char *file, X509_CRL *crl)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	time_t expires;
	if (!next)
		return true;
	if (!asn1_to_time(next, &expires))
		return false;
	return add_entry(inv, CERT_KIND_CRL, file, X509_CRL_get_issuer(crl), expires, false);
}

void cert_inventory_each(const struct cert_inventory *inv, cert_info_fn fn, void *arg)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < inv->count; i++) {
		const struct cert_inventory_entry *e = &inv->entries[i];
		struct cert_info ci = { .kind = e->kind, .file = e->file, .shared = e->shared,
					.expires = e->expires,
					.days_left = cert_inventory_days_left(e->expires, now) };
		memcpy(ci.subject, e->subject, sizeof ci.subject);
		fn(arg, &ci);
	}
}

void cert_inventory_free(struct cert_inventory *inv)
{
	for (size_t i = 0; i < inv->count; i++)
		free(inv->entries[i].file);
	free(inv->entries);
	memset(inv, 0, sizeof *inv);
}
