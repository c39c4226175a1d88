/*
 * pins: fingerprint and subject matching on a leaf certificate. SPKI pins
 * hash the whole SubjectPublicKeyInfo DER (as HPKP and `openssl pkey -pubout
 * -outform DER | sha256` do), not X509_pubkey_digest's bare key bits.
 */
#include "tls/pins.h"

#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "core/hostname.h"

bool pin_set_is_empty(const struct pin_set *pins)
{
	return !pins || (pins->cert_sha256_count == 0 && pins->spki_sha256_count == 0 &&
			 pins->subjects.count == 0);
}

bool pin_cert_sha256(X509 *cert, uint8_t out[32])
{
	unsigned int n = 0;
	return X509_digest(cert, EVP_sha256(), out, &n) == 1 && n == 32;
}

bool pin_spki_sha256(X509 *cert, uint8_t out[32])
{
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0)
		return false;
	unsigned int n = 0;
	bool ok = EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
	OPENSSL_free(der);
	return ok;
}

static bool digest_listed(const uint8_t (*list)[32], size_t count, const uint8_t d[32])
{
	for (size_t i = 0; i < count; i++)
		if (memcmp(list[i], d, 32) == 0)
			return true;
	return false;
}

static bool fingerprint_matches(const struct pin_set *pins, X509 *leaf)
{
	uint8_t d[32];
	if (pins->cert_sha256_count && pin_cert_sha256(leaf, d) &&
	    digest_listed(pins->cert_sha256, pins->cert_sha256_count, d))
		return true;
	if (pins->spki_sha256_count && pin_spki_sha256(leaf, d) &&
	    digest_listed(pins->spki_sha256, pins->spki_sha256_count, d))
		return true;
	return false;
}

static bool name_listed(const struct str_list *patterns, const unsigned char *name, int len)
{
	if (len <= 0)
		return false;
	struct slice s = slice_make((const char *)name, (size_t)len);
	for (size_t i = 0; i < patterns->count; i++)
		if (hostname_matches(patterns->items[i], s))
			return true;
	return false;
}

static bool cn_matches(const struct str_list *patterns, X509 *leaf)
{
	X509_NAME *subj = X509_get_subject_name(leaf);
	int pos = -1;
	while ((pos = X509_NAME_get_index_by_NID(subj, NID_commonName, pos)) >= 0) {
		ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, pos));
		unsigned char *utf8 = NULL;
		int len = ASN1_STRING_to_UTF8(&utf8, data);
		bool hit = name_listed(patterns, utf8, len);
		OPENSSL_free(utf8);
		if (hit)
			return true;
	}
	return false;
}

static bool dns_san_matches(const struct str_list *patterns, X509 *leaf)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	bool hit = false;
	for (int i = 0; !hit && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		if (gn->type == GEN_DNS)
			hit = name_listed(patterns, ASN1_STRING_get0_data(gn->d.dNSName),
					  ASN1_STRING_length(gn->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	return hit;
}

bool pin_set_matches(const struct pin_set *pins, X509 *leaf, char *why, size_t whylen)
{
	if (pin_set_is_empty(pins))
		return true;
	if ((pins->cert_sha256_count || pins->spki_sha256_count) && !fingerprint_matches(pins, leaf)) {
		snprintf(why, whylen, "no certificate or public key pin matches");
		return false;
	}
	if (pins->subjects.count && !cn_matches(&pins->subjects, leaf) &&
	    !dns_san_matches(&pins->subjects, leaf)) {
		snprintf(why, whylen, "neither CN nor a DNS SAN matches a subject pin");
		return false;
	}
	return true;
}
