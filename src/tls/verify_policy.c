/*
 * verify_policy: the certificate verify callback (SSL_CTX_set_cert_verify_
 * callback) and the connection record it writes. Replacing the whole-chain
 * step rather than hooking each certificate lets the extra checks (keyUsage,
 * pins) run once, on a chain OpenSSL already accepted, and fail it with an
 * X509 error so that OpenSSL sends the matching alert itself. The record
 * it leaves is what guard_tls_describe_failure reports.
 */
#include "tls/verify_policy.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/cert_text.h"
#include "tls/guard_tls.h"
#include "tls/pins.h"

static CRYPTO_ONCE state_once = CRYPTO_ONCE_STATIC_INIT;
static int state_index = -1;

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
		       void *argp)
{
	struct tls_conn_state *st = ptr;
	if (st) {
		free(st->detail);
		X509_free(st->peer);
		sk_X509_pop_free(st->peer_chain, X509_free);
	}
	free(st);
}

static void state_index_init(void)
{
	state_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, state_free);
}

struct tls_conn_state *tls_conn_state_get(SSL *ssl, bool create)
{
	if (!ssl || !CRYPTO_THREAD_run_once(&state_once, state_index_init) || state_index < 0)
		return NULL;
	struct tls_conn_state *st = SSL_get_ex_data(ssl, state_index);
	if (st || !create)
		return st;
	st = calloc(1, sizeof *st);
	if (st && !SSL_set_ex_data(ssl, state_index, st)) {
		free(st);
		st = NULL;
	}
	return st;
}

const char *verify_policy_class(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return "unknown CA";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "not yet valid";
	/* A revocation status that cannot be established refuses like a
	 * revocation; the detail names which (no CRL, CRL expired, ...). */
	case X509_V_ERR_CERT_REVOKED:
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
		return "revoked";
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
		return "wrong key usage";
	case X509_V_ERR_APPLICATION_VERIFICATION:
		return "not pinned";
	default:
		return "protocol";
	}
}

/* Records a refusal of the certificate at depth on the connection. */
static void record_refusal(struct tls_conn_state *st, int depth, const char *class,
			   const char *what, X509 *leaf)
{
	char subject[160];
	cert_text_subject(leaf, subject, sizeof subject);
	st->class = class;
	/* Only a refusal has a detail: connections that pass keep none. */
	free(st->detail);
	st->detail = malloc(TLS_REFUSAL_DETAIL);
	if (st->detail) {
		if (depth > 0)
			snprintf(st->detail, TLS_REFUSAL_DETAIL, "%s (chain depth %d): %s", what, depth,
				 subject);
		else
			snprintf(st->detail, TLS_REFUSAL_DETAIL, "%s: %s", what, subject);
		cert_text_filter(st->detail, strlen(st->detail));
	}
}

/* Records a refusal on the connection and on the store context, whose error
 * OpenSSL turns into the alert (handshake_failure for a pin, unsupported_
 * certificate for a purpose, certificate_expired, ...). */
static int policy_refuse(X509_STORE_CTX *xctx, struct tls_conn_state *st, int err,
			 const char *class, const char *what, X509 *leaf)
{
	X509_STORE_CTX_set_error(xctx, err);
	record_refusal(st, X509_STORE_CTX_get_error_depth(xctx), class, what, leaf);
	return 0;
}

static bool key_usage_allows_signing(X509 *leaf)
{
	/* A client proves its key by signing (CertificateVerify); the
	 * sslclient purpose also admits keyAgreement, which cannot sign. */
	if (!(X509_get_extension_flags(leaf) & EXFLAG_KUSAGE))
		return true;
	return (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) != 0;
}

/* X509_verify_cert, or the chain the set verified before for exactly
 * these certificates. */
static int verify_chain(const struct verify_policy *policy, X509_STORE_CTX *xctx)
{
	unsigned char key[VERIFY_CACHE_KEY_LEN];
	bool keyed = policy->cache && verify_cache_key(xctx, key);
	if (keyed && verify_cache_lookup(policy->cache, key, xctx))
		return 1;
	int ok = X509_verify_cert(xctx);
	if (ok > 0 && keyed)
		verify_cache_store(policy->cache, key, xctx);
	return ok;
}

int verify_policy_check(X509_STORE_CTX *xctx, const struct verify_policy *policy)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn_state *st = tls_conn_state_get(ssl, true);
	X509 *leaf = X509_STORE_CTX_get0_cert(xctx);
	if (!st || !leaf) {
		X509_STORE_CTX_set_error(xctx, X509_V_ERR_OUT_OF_MEM);
		return 0;
	}
	int verified = verify_chain(policy, xctx);
	leaf = X509_STORE_CTX_get0_cert(xctx); /* a cache hit shares the kept one */
	if (verified <= 0) {
		int err = X509_STORE_CTX_get_error(xctx);
		if (err == X509_V_OK)
			err = X509_V_ERR_UNSPECIFIED;
		return policy_refuse(xctx, st, err, verify_policy_class(err),
				     X509_verify_cert_error_string(err), leaf);
	}
	X509_STORE_CTX_set_error_depth(xctx, 0);
	X509_STORE_CTX_set_current_cert(xctx, leaf);
	int err = verify_policy_check_leaf(ssl, policy, leaf);
	if (err != X509_V_OK) {
		X509_STORE_CTX_set_error(xctx, err);
		return 0;
	}
	return 1;
}

int verify_policy_check_leaf(SSL *ssl, const struct verify_policy *policy, X509 *leaf)
{
	struct tls_conn_state *st = tls_conn_state_get(ssl, true);
	if (!st)
		return X509_V_ERR_OUT_OF_MEM;
	char why[96];
	const struct pin_set *pins = verify_policy_pins(policy->conf, st->host);
	if (!key_usage_allows_signing(leaf)) {
		record_refusal(st, 0, "wrong key usage", "keyUsage lacks digitalSignature", leaf);
		return X509_V_ERR_INVALID_PURPOSE;
	}
	if (pins && !pin_set_matches(pins, leaf, why, sizeof why)) {
		record_refusal(st, 0, "not pinned", why, leaf);
		return X509_V_ERR_APPLICATION_VERIFICATION;
	}
	return X509_V_OK;
}

static int policy_verify_cb(X509_STORE_CTX *xctx, void *arg)
{
	return verify_policy_check(xctx, arg);
}

void verify_policy_note_refusal(SSL *ssl, const char *class, const char *detail)
{
	struct tls_conn_state *st = tls_conn_state_get(ssl, true);
	if (!st || st->class)
		return;
	st->class = class;
	st->detail = strdup(detail);
}

bool verify_policy_install(SSL_CTX *ctx, const struct verify_policy *policy)
{
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT |
			   SSL_VERIFY_CLIENT_ONCE, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, policy_verify_cb, (void *)policy);
	SSL_CTX_set_verify_depth(ctx, 8);
	return SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 &&
	       SSL_CTX_set_trust(ctx, X509_TRUST_SSL_CLIENT) == 1;
}

const struct pin_set *verify_policy_pins(const struct guard_conf *conf,
					 const struct guard_host *host)
{
	if (host && host->has_pins)
		return &host->pins;
	if (conf && conf->has_pins)
		return &conf->pins;
	return NULL;
}

bool verify_policy_session_ok(const struct guard_conf *conf, const struct guard_host *host,
			      X509 *peer)
{
	if (!peer)
		return false;
	if (X509_cmp_current_time(X509_get0_notBefore(peer)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(peer)) <= 0)
		return false;
	if (!key_usage_allows_signing(peer))
		return false;
	const struct pin_set *pins = verify_policy_pins(conf, host);
	char why[96];
	return !pins || pin_set_matches(pins, peer, why, sizeof why);
}

void guard_tls_describe_failure(SSL *ssl, unsigned long ssl_err, struct tls_refusal *out)
{
	out->class = "protocol";
	out->detail[0] = '\0';
	struct tls_conn_state *st = tls_conn_state_get(ssl, false);
	if (st && st->class) {
		out->class = st->class;
		snprintf(out->detail, sizeof out->detail, "%s", st->detail ? st->detail : "out of memory");
		return;
	}
	int reason = ERR_GET_LIB(ssl_err) == ERR_LIB_SSL ? ERR_GET_REASON(ssl_err) : 0;
	if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE ||
	    reason == SSL_R_NO_CERTIFICATES_RETURNED) {
		out->class = "no certificate";
		snprintf(out->detail, sizeof out->detail, "the client sent no certificate");
		return;
	}
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (verify != X509_V_OK) {
		out->class = verify_policy_class((int)verify);
		snprintf(out->detail, sizeof out->detail, "%s",
			 X509_verify_cert_error_string(verify));
		return;
	}
	const char *why = ssl_err ? ERR_reason_error_string(ssl_err) : NULL;
	snprintf(out->detail, sizeof out->detail, "%s", why ? why : "handshake failed");
}
