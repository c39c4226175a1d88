/*
 * guard_tls_accept: the guard's side of pullgate's own TLS 1.3 handshake
 * (tls/tls13_accept.h). It judges exactly as an OpenSSL handshake on the
 * same context would: the SNI picks the hosts entry and its certificate
 * (guard_tls_sni.c), the client's chain goes through the same verify
 * callback with the same parameters (verify_policy.c, with its cache of
 * verified chains), a refusal is recorded on the connection for the
 * refusal log, and the session ticket is one that guard_tls_session.c's
 * checks resume.
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/guard_tls.h"
#include "tls/guard_tls_int.h"
#include "tls/tls13_kdf.h"
#include "tls/verify_policy.h"
#include "tls/x25519.h"

/* The alert OpenSSL's handshake sends for a verification error
 * (ssl_x509err2alert, for the errors the policy refuses with). */
static int alert_for(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return 45; /* certificate_expired */
	case X509_V_ERR_CERT_REVOKED:
		return 44; /* certificate_revoked */
	case X509_V_ERR_INVALID_PURPOSE:
		return 43; /* unsupported_certificate */
	case X509_V_ERR_APPLICATION_VERIFICATION:
		return TLS13_ALERT_HANDSHAKE_FAILURE;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_INVALID_CA:
		return 48; /* unknown_ca */
	case X509_V_ERR_OUT_OF_MEM:
		return TLS13_ALERT_INTERNAL_ERROR;
	default:
		return TLS13_ALERT_BAD_CERTIFICATE;
	}
}

static STACK_OF(X509) * chain_decode(const unsigned char *const *der, const size_t *len, size_t count)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	for (size_t i = 0; chain && i < count; i++) {
		const unsigned char *p = der[i];
		X509 *x = d2i_X509(NULL, &p, (long)len[i]);
		if (!x || p != der[i] + len[i] || !sk_X509_push(chain, x)) {
			X509_free(x);
			sk_X509_pop_free(chain, X509_free);
			return NULL;
		}
	}
	return chain;
}

/* A lone leaf verified before (the verify cache, keyed by its exact
 * bytes): judged without parsing it again, by the checks that do not
 * depend on the chain. The alert (0: accepted), or -1 when it is not
 * known. */
static int judge_known_leaf(SSL *ssl, struct tls_conn_state *st, const struct verify_policy *policy,
                            const unsigned char *const *der, const size_t *len, EVP_PKEY **leaf_key)
{
	unsigned char key[VERIFY_CACHE_KEY_LEN];
	STACK_OF(X509) *kept =
	    verify_cache_key_der(der, len, 1, key) ? verify_cache_find(policy->cache, key) : NULL;
	if (!kept)
		return -1;
	X509 *leaf = sk_X509_value(kept, 0);
	int err = verify_policy_check_leaf(ssl, policy, leaf);
	int alert = err != X509_V_OK ? alert_for(err) : 0;
	STACK_OF(X509) *sent = alert ? NULL : sk_X509_new_reserve(NULL, 1);
	if (!alert && (!sent || !(*leaf_key = X509_get_pubkey(leaf)) || X509_up_ref(leaf) != 1)) {
		sk_X509_free(sent);
		EVP_PKEY_free(*leaf_key);
		*leaf_key = NULL;
		alert = TLS13_ALERT_INTERNAL_ERROR;
	} else if (!alert) {
		sk_X509_push(sent, leaf); /* room reserved: cannot fail */
		X509_up_ref(leaf);
		st->peer = leaf;
		st->peer_chain = sent;
	}
	sk_X509_pop_free(kept, X509_free);
	return alert;
}

/* tls13_server_judge_chain for a guard connection (arg: its SSL). */
static int judge_chain(void *arg, const unsigned char *const *der, const size_t *len, size_t count,
                       EVP_PKEY **leaf_key)
{
	SSL *ssl = arg;
	struct tls_conn_state *st = tls_conn_state_get(ssl, true);
	const struct tls13_accept_offer *offer = tls13_accept_offer_of(SSL_get_SSL_CTX(ssl));
	const struct verify_policy *policy = &((struct guard_tls *)offer->arg)->policy;
	if (st && count == 1) {
		int r = judge_known_leaf(ssl, st, policy, der, len, leaf_key);
		if (r >= 0)
			return r;
	}
	STACK_OF(X509) *chain = st ? chain_decode(der, len, count) : NULL;
	if (!chain) {
		verify_policy_note_refusal(ssl, "protocol", "the client's certificate does not parse");
		ERR_clear_error();
		return st ? TLS13_ALERT_BAD_CERTIFICATE : TLS13_ALERT_INTERNAL_ERROR;
	}
	X509_STORE_CTX *xctx = X509_STORE_CTX_new();
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	int alert = TLS13_ALERT_INTERNAL_ERROR;
	/* As libssl's ssl_verify_cert_chain sets it up for a server. */
	if (xctx &&
	    X509_STORE_CTX_init(xctx, SSL_CTX_get_cert_store(ctx), sk_X509_value(chain, 0), chain) == 1 &&
	    X509_STORE_CTX_set_ex_data(xctx, SSL_get_ex_data_X509_STORE_CTX_idx(), ssl) == 1 &&
	    X509_STORE_CTX_set_default(xctx, "ssl_client") == 1 &&
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xctx), SSL_get0_param(ssl)) == 1) {
		if (verify_policy_check(xctx, policy) > 0) {
			X509 *leaf = X509_STORE_CTX_get0_cert(xctx); /* a cache hit: the kept one */
			*leaf_key = X509_get_pubkey(leaf);
			if (*leaf_key && X509_up_ref(leaf) == 1) {
				st->peer = leaf;
				st->peer_chain = chain;
				chain = NULL;
				alert = 0;
			}
		} else {
			alert = alert_for(X509_STORE_CTX_get_error(xctx));
		}
	}
	X509_STORE_CTX_free(xctx);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return alert;
}

static X509 *ticket_peer(void *arg, long *lifetime)
{
	struct tls_conn_state *st = tls_conn_state_get(arg, false);
	if (!st || !st->peer)
		return NULL;
	*lifetime = guard_ticket_lifetime(st->peer, GUARD_SESSION_LIFETIME_S);
	return st->peer;
}

/* Why our handshake failed, for the refusal log, unless the chain's
 * judgement said already. */
static void handshake_failed(void *arg, int alert)
{
	char detail[64];
	if (alert == TLS13_ALERT_CERTIFICATE_REQUIRED) {
		verify_policy_note_refusal(arg, "no certificate", "the client sent no certificate");
		return;
	}
	if (alert == TLS13_SERVER_PEER_ALERT)
		snprintf(detail, sizeof detail, "the client ended the handshake with an alert");
	else
		snprintf(detail, sizeof detail, "handshake failed (alert %d sent)", alert);
	verify_policy_note_refusal(arg, "protocol", detail);
}

static bool prepare(void *arg, SSL *ssl, const struct tls13_client_hello *ch,
                    struct tls13_accept_choice *choice)
{
	struct guard_tls *set = arg;
	struct tls_conn_state *st = tls_conn_state_get(ssl, true);
	if (!st)
		return false;
	int i = ch->server_name.len ? guard_tls_host_index(set->conf, ch->server_name) : -1;
	st->host = i >= 0 ? &set->conf->hosts[i] : NULL;
	const struct tls13_server_identity *id =
	    i >= 0 && set->host_ctx[i] ? &set->host_id[i] : &set->default_id;
	SSL_CTX *ctx = i >= 0 && set->host_ctx[i] ? set->host_ctx[i] : set->default_ctx;
	if (!id->key || (ctx != SSL_get_SSL_CTX(ssl) && SSL_set_SSL_CTX(ssl, ctx) != ctx))
		return false;
	*choice = (struct tls13_accept_choice){
	    .id = id,
	    .judge = judge_chain,
	    .judge_arg = ssl,
	    .ticket_keys = set->ticket_keys,
	    .sid_ctx = guard_session_id_context,
	    .sid_ctx_len = GUARD_SESSION_ID_CONTEXT_LEN,
	    .peer = ticket_peer,
	    .failed = handshake_failed,
	};
	return true;
}

/* What ctx presents, for our handshake; id stays empty when its key is
 * not one our handshake signs with. */
static void identity_of(SSL_CTX *ctx, struct tls13_server_identity *id)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = SSL_CTX_get0_privatekey(ctx);
	X509 *leaf = SSL_CTX_get0_certificate(ctx);
	memset(id, 0, sizeof *id);
	if (key && leaf && SSL_CTX_get0_chain_certs(ctx, &chain) == 1)
		(void)tls13_server_identity_init(id, key, leaf, chain);
	ERR_clear_error();
}

bool guard_tls_accept_setup(struct guard_tls *set)
{
	const struct guard_conf *conf = set->conf;
	set->host_id = calloc(conf->host_count + 1, sizeof *set->host_id);
	if (!set->host_id)
		return false;
	/* Our key schedule is the provider's arithmetic: where that provider
	 * is not loaded (OpenSSL configured for FIPS), OpenSSL does every
	 * handshake. So it does when the table of x25519 base-point multiples
	 * cannot be had (out of memory), built here so that no handshake waits
	 * for it. */
	if (!tls13_kdf_propq() || !x25519_init())
		return true;
	set->offer = (struct tls13_accept_offer){.prepare = prepare, .arg = set};
	identity_of(set->default_ctx, &set->default_id);
	bool ok = tls13_accept_offer_install(set->default_ctx, &set->offer);
	for (size_t i = 0; ok && i < conf->host_count; i++)
		if (set->host_ctx[i]) {
			identity_of(set->host_ctx[i], &set->host_id[i]);
			ok = tls13_accept_offer_install(set->host_ctx[i], &set->offer);
		}
	return ok;
}

void guard_tls_accept_clear(struct guard_tls *set)
{
	tls13_server_identity_clear(&set->default_id);
	if (set->host_id)
		for (size_t i = 0; i < set->conf->host_count; i++)
			tls13_server_identity_clear(&set->host_id[i]);
	free(set->host_id);
	set->host_id = NULL;
	OPENSSL_cleanse(set->ticket_keys, sizeof set->ticket_keys);
}
