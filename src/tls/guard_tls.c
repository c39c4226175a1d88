/*
 * guard_tls: builds the guard's TLS server set — one SSL_CTX for the default
 * certificate and one per hosts entry with its own, all sharing the trust
 * store, the verify policy and the ticket keys — and manages its lifetime.
 * This is the boundary that reports: warnings about the set go to the log.
 */
#include "tls/guard_tls.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tls/guard_tls_int.h"
#include "tls/pins.h"
#include "tls/tls_keys.h"
#include "tls/tls_suites.h"
#include "tls/transport_records.h"
#include "tls/trust_store.h"
#include "tls/verify_policy.h"


#define EXPIRY_WARN_S (30LL * 86400)

static void warn_to_log(void *arg, const char *msg)
{
	log_warn("%s", msg);
}

/* Selects http/1.1 when offered; any other offer goes on without ALPN. */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			  const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x08http/1.1";
	unsigned char *sel = NULL;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *ctx_new(struct guard_tls *set, const char *cert, const char *key,
			const unsigned char *keys, char *err, size_t errlen)
{
	SSL_CTX *ctx = transport_records_ctx_new(TLS_server_method());
	if (ctx)
		SSL_CTX_set1_cert_store(ctx, set->store);
	bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
		  SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) == 1 &&
		  SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) == 1 &&
		  verify_policy_install(ctx, &set->policy) &&
		  guard_tls_session_install(ctx, set, keys) &&
		  guard_tls_sni_install(ctx, set);
	if (!ok) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());
		snprintf(err, errlen, "%s: cannot set up TLS: %s", cert, why ? why : "unknown error");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);

	long long left = 0;
	if (!tls_keys_load(ctx, cert, key, &left, err, errlen)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (!cert_inventory_add_cert(&set->inventory, CERT_KIND_SERVER, cert,
				     SSL_CTX_get0_certificate(ctx), false)) {
		snprintf(err, errlen, "%s: cannot record the certificate (out of memory)", cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (left < EXPIRY_WARN_S)
		log_warn("%s: certificate expires in %lld day(s)", cert, (left + 86399) / 86400);
	return ctx;
}

static void warn_shared_anchor(const struct guard_conf *conf, const char *preset)
{
	static const char risk[] = "any holder of a certificate from that CA can reach this "
				   "origin; pin your own zone or hostname certificate "
				   "(pins.spki_sha256)";
	if (!conf->has_pins || pin_set_is_empty(&conf->pins))
		log_warn("trust preset %s is a shared anchor and no pins are set: %s", preset, risk);
	for (size_t i = 0; i < conf->host_count; i++) {
		const struct guard_host *h = &conf->hosts[i];
		/* An entry without pins of its own is judged by the global pins,
		 * which the line above covers. */
		if (h->has_pins && pin_set_is_empty(&h->pins))
			log_warn("%s:%d: trust preset %s is a shared anchor and hosts entry %s has "
				 "empty pins: %s", conf->file ? conf->file : "configuration",
				 h->line, preset, h->hostnames.count ? h->hostnames.items[0] : "",
				 risk);
	}
}

static void set_free(struct guard_tls *set)
{
	if (!set)
		return;
	if (set->host_ctx)
		for (size_t i = 0; i < set->conf->host_count; i++)
			SSL_CTX_free(set->host_ctx[i]);
	free(set->host_ctx);
	SSL_CTX_free(set->default_ctx);
	guard_tls_accept_clear(set);
	verify_cache_free(set->policy.cache);
	X509_STORE_free(set->store);
	cert_inventory_free(&set->inventory);
	free(set);
}

static bool build_contexts(struct guard_tls *set, char *err, size_t errlen)
{
	const struct guard_conf *conf = set->conf;
	unsigned char keys[GUARD_TICKET_KEYS_LEN];
	if (RAND_priv_bytes(keys, sizeof keys) != 1) {
		snprintf(err, errlen, "%s: no randomness for ticket keys",
			 conf->file ? conf->file : "configuration");
		return false;
	}
	bool ok = true;
	set->default_ctx = ctx_new(set, conf->certificate, conf->key, keys, err, errlen);
	ok = set->default_ctx != NULL;
	for (size_t i = 0; ok && i < conf->host_count; i++) {
		const struct guard_host *h = &conf->hosts[i];
		if (!h->certificate && !h->key)
			continue;
		if (!h->certificate || !h->key) {
			snprintf(err, errlen, "%s:%d: a hosts entry's certificate needs a key and "
				 "its key a certificate", conf->file ? conf->file : "configuration",
				 h->line);
			ok = false;
			break;
		}
		set->host_ctx[i] = ctx_new(set, h->certificate, h->key, keys, err, errlen);
		ok = set->host_ctx[i] != NULL;
	}
	memcpy(set->ticket_keys, keys, sizeof keys);
	OPENSSL_cleanse(keys, sizeof keys);
	if (ok && !guard_tls_accept_setup(set)) {
		snprintf(err, errlen, "%s: out of memory", conf->file ? conf->file : "configuration");
		ok = false;
	}
	return ok;
}

struct guard_tls *guard_tls_build(const struct guard_conf *conf, char *err, size_t errlen)
{
	const char *conf_file = conf->file ? conf->file : "configuration";
	if (!conf->certificate || !conf->key) {
		snprintf(err, errlen, "%s: the guard needs a certificate and a key", conf_file);
		return NULL;
	}
	struct guard_tls *set = calloc(1, sizeof *set);
	if (!set || !(set->host_ctx = calloc(conf->host_count + 1, sizeof *set->host_ctx))) {
		snprintf(err, errlen, "%s: out of memory", conf_file);
		free(set);
		return NULL;
	}
	atomic_init(&set->refs, 1);
	set->conf = conf;
	struct trust_store_info info;
	set->store = trust_store_build(conf, &info, &set->inventory, warn_to_log, NULL, err,
				       errlen);
	set->policy.conf = conf;
	if (set->store && !(set->policy.cache = verify_cache_new(set->store, VERIFY_CACHE_SLOTS))) {
		snprintf(err, errlen, "%s: out of memory", conf_file);
		set_free(set);
		return NULL;
	}
	if (!set->store || !build_contexts(set, err, errlen)) {
		set_free(set);
		return NULL;
	}
	if (info.shared_preset)
		warn_shared_anchor(conf, info.shared_preset);
	return set;
}

void guard_tls_ref(struct guard_tls *set)
{
	atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
}

void guard_tls_unref(struct guard_tls *set)
{
	if (set && atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1)
		set_free(set);
}

SSL_CTX *guard_tls_ctx(struct guard_tls *set)
{
	return set->default_ctx;
}

void guard_tls_verify_counts(struct guard_tls *set, unsigned long long *hits,
			     unsigned long long *lookups)
{
	verify_cache_counts(set ? set->policy.cache : NULL, hits, lookups);
}

void guard_tls_inventory(struct guard_tls *set, cert_info_fn fn, void *arg)
{
	if (set)
		cert_inventory_each(&set->inventory, fn, arg);
}
