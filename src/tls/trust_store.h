/*
 * trust_store: the X509_STORE a guard set verifies clients against — CA
 * files, built-in presets and CRLs — with the revocation flags they call for.
 *
 * CRLs: once any CRL is configured, every client leaf must be covered by a
 * current CRL from its issuer (X509_V_FLAG_CRL_CHECK): a missing CRL refuses
 * the client rather than letting it pass unchecked. The whole chain is
 * checked (X509_V_FLAG_CRL_CHECK_ALL) only when every configured anchor has
 * a CRL of its own; otherwise intermediate CAs without a CRL would refuse
 * every client, and leaf-only checking with the issuing CA's CRL is the
 * common deployment.
 */
#ifndef PULLGATE_TLS_TRUST_STORE_H
#define PULLGATE_TLS_TRUST_STORE_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf/guard_conf.h"
#include "tls/cert_inventory.h"

/* Receives a warning about the store being built (msg is only valid during
 * the call). */
typedef void trust_warn_fn(void *arg, const char *msg);

struct trust_store_info {
	size_t anchors;            /* certificates trusted */
	size_t crls;               /* CRLs loaded */
	bool crl_check_all;        /* whole chain checked, not just the leaf */
	const char *shared_preset; /* a shared preset in use (static), or NULL */
};

/* Builds the store from conf's trust section. On failure returns NULL with
 * "file: what is wrong" in err. The caller owns the store (X509_STORE_free).
 * When inv is not NULL, every anchor ("NAME preset" as its file for a
 * built-in one) and every CRL is recorded in it; the caller frees inv, also
 * after a failure. */
X509_STORE *trust_store_build(const struct guard_conf *conf, struct trust_store_info *info,
			      struct cert_inventory *inv, trust_warn_fn *warn, void *warn_arg,
			      char *err, size_t errlen);

#endif
