/*
 * pki_build: assembling and signing one X.509 v3 certificate — a CA or a
 * client/server leaf — from a description. No file I/O.
 */
#ifndef PULLGATE_PKI_PKI_BUILD_H
#define PULLGATE_PKI_PKI_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/pki_opts.h"

/* Everything is borrowed for the duration of pki_build_cert. */
struct pki_cert_spec {
	const char *cn;
	const char *org;		/* NULL: no O attribute */
	bool is_ca;
	enum pki_leaf_kind leaf;	/* when !is_ca */
	EVP_PKEY *key;			/* the subject's key */
	time_t not_before;
	long days;
	X509 *issuer;			/* NULL: signed by key itself */
	EVP_PKEY *issuer_key;
	const char *const *dns;
	size_t n_dns;
	const char *const *ips;
	size_t n_ips;
};

/* A signed certificate the caller frees, or NULL with err set. Extensions:
 * basicConstraints (critical), keyUsage (critical), extendedKeyUsage for
 * leaves, SKI, AKI (when issued, and on self-signed leaves), and SAN when
 * dns/ips are given. The serial is 16 random bytes, positive. */
X509 *pki_build_cert(const struct pki_cert_spec *s, char *err, size_t errlen);

#endif
