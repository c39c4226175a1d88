/*
 * edge_tls_visitor: the visitor-facing server contexts. A connection starts
 * on a context without a certificate; its servername callback finds the
 * proxied record the SNI names and switches to the context of that record's
 * certificate (one context per certificate file, however many records use
 * it). A name the edge does not serve gets unrecognized_name and no
 * certificate at all, so a DNS-only name cannot be probed for which zone's
 * certificate it would get.
 */
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "tls/edge_tls_int.h"
#include "tls/tls_sni.h"
#include "tls/tls_keys.h"
#include "tls/tls_suites.h"
#include "tls/transport_records.h"


#define TICKET_KEYS_LEN 80 /* name 16, HMAC 32, AES 32 */
#define EXPIRY_WARN_S (30LL * 86400)

static const unsigned char session_id_context[] = "pullgate-edge";

static CRYPTO_ONCE record_once = CRYPTO_ONCE_STATIC_INIT;
static int record_index = -1;

static void record_index_init(void)
{
	record_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* The SNI of the ClientHello, kept for the ticket check below. */
static int sni_index = -1;

static void sni_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	free(ptr);
}

static void sni_index_init(void)
{
	sni_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, sni_free);
}

static CRYPTO_ONCE sni_once = CRYPTO_ONCE_STATIC_INIT;

static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct slice name;
	if (tls_client_hello_sni(ssl, &name) == 1) {
		char *copy = strndup(name.ptr, name.len);
		if (!copy || !SSL_set_ex_data(ssl, sni_index, copy))
			free(copy);
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* A ticket resumes only under the name it was issued for: OpenSSL would
 * otherwise resume a TLS 1.2 session with the old name, and the visitor
 * would reach the old name's zone. */
static SSL_TICKET_RETURN ticket_decrypt_cb(SSL *ssl, SSL_SESSION *sess, const unsigned char *keyname,
					   size_t keyname_len, SSL_TICKET_STATUS status, void *arg)
{
	switch (status) {
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		break;
	case SSL_TICKET_NONE:
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
	const char *was = SSL_SESSION_get0_hostname(sess);
	const char *now = SSL_get_ex_data(ssl, sni_index);
	if (!was || !now || strcasecmp(was, now) != 0)
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	return status == SSL_TICKET_SUCCESS_RENEW ? SSL_TICKET_RETURN_USE_RENEW : SSL_TICKET_RETURN_USE;
}

static int servername_cb(SSL *ssl, int *al, void *arg)
{
	struct edge_tls *set = arg;
	/* Runs again for a second ClientHello (after HelloRetryRequest). */
	SSL_set_ex_data(ssl, record_index, NULL);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct edge_record *rec =
		sni ? edge_conf_find_record(set->conf, sni, strlen(sni)) : NULL;
	SSL_CTX *ctx = rec && rec->proxied ? set->record_visitor[edge_tls_record_index(set, rec)]
					   : NULL;
	if (!ctx) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (SSL_set_SSL_CTX(ssl, ctx) != ctx || !SSL_set_ex_data(ssl, record_index, (void *)rec)) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
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

/* A server context; with cert NULL, the initial one. Every context of a set
 * gets the same settings and ticket keys: OpenSSL takes options and version
 * limits from the initial context, ALPN and the certificate from the one
 * SNI selects, and decrypts tickets with the initial context's keys. */
static SSL_CTX *ctx_new(struct edge_tls *set, const unsigned char *keys, const char *cert,
			const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = transport_records_ctx_new(TLS_server_method());
	bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
		  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
		  SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) == 1 &&
		  SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) == 1 &&
		  SSL_CTX_set_session_id_context(ctx, session_id_context,
						 sizeof session_id_context - 1) == 1 &&
		  SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)keys, TICKET_KEYS_LEN) == 1;
	if (!ok) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());
		snprintf(err, errlen, "%s: cannot set up TLS: %s", cert ? cert : "visitor TLS",
			 why ? why : "unknown error");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Stateless tickets only: nothing per session to keep or share. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, set);
	CRYPTO_THREAD_run_once(&sni_once, sni_index_init);
	SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, set);
	SSL_CTX_set_session_ticket_cb(ctx, NULL, ticket_decrypt_cb, set);
	if (!cert)
		return ctx;
	long long left = 0;
	if (!tls_keys_load(ctx, cert, key, &left, err, errlen)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (left < EXPIRY_WARN_S)
		log_warn("%s: certificate expires in %lld day(s)", cert, (left + 86399) / 86400);
	return ctx;
}

static bool same_path(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static SSL_CTX *ctx_for(struct edge_tls *set, const unsigned char *keys,
			const struct edge_record *rec, char *err, size_t errlen)
{
	const struct cert_files *cf = rec->visitor_cert;
	if (!cf || !cf->certificate) {
		snprintf(err, errlen, "%s:%d: record %s has no certificate for visitors (its own "
			 "or its zone's)", set->conf->file ? set->conf->file : "configuration",
			 rec->line, rec->name ? rec->name : "?");
		return NULL;
	}
	for (size_t i = 0; i < set->visitor_count; i++)
		if (same_path(set->visitor[i].certificate, cf->certificate) &&
		    same_path(set->visitor[i].key, cf->key))
			return set->visitor[i].ctx;
	SSL_CTX *ctx = ctx_new(set, keys, cf->certificate, cf->key, err, errlen);
	if (ctx)
		set->visitor[set->visitor_count++] =
			(struct edge_visitor_ctx){ cf->certificate, cf->key, ctx };
	return ctx;
}

static bool build_contexts(struct edge_tls *set, const unsigned char *keys, char *err,
			   size_t errlen)
{
	set->visitor_initial = ctx_new(set, keys, NULL, NULL, err, errlen);
	if (!set->visitor_initial)
		return false;
	const struct edge_conf *conf = set->conf;
	for (size_t z = 0; z < conf->zone_count; z++)
		for (size_t r = 0; r < conf->zones[z].record_count; r++) {
			const struct edge_record *rec = &conf->zones[z].records[r];
			if (!rec->proxied)
				continue;
			SSL_CTX *ctx = ctx_for(set, keys, rec, err, errlen);
			if (!ctx)
				return false;
			set->record_visitor[set->zone_base[z] + r] = ctx;
		}
	return true;
}

bool edge_tls_visitor_build(struct edge_tls *set, char *err, size_t errlen)
{
	const char *file = set->conf->file ? set->conf->file : "configuration";
	if (!CRYPTO_THREAD_run_once(&record_once, record_index_init) || record_index < 0) {
		snprintf(err, errlen, "%s: cannot set up TLS connection data", file);
		return false;
	}
	size_t n = set->record_count + 1;
	set->record_visitor = calloc(n, sizeof *set->record_visitor);
	set->visitor = calloc(n, sizeof *set->visitor);
	if (!set->record_visitor || !set->visitor) {
		snprintf(err, errlen, "%s: out of memory", file);
		return false;
	}
	/* One set of ticket keys per set: a ticket resumes on any of its
	 * contexts and on no other set's (a reload starts afresh). */
	unsigned char keys[TICKET_KEYS_LEN];
	if (RAND_priv_bytes(keys, sizeof keys) != 1) {
		snprintf(err, errlen, "%s: no randomness for ticket keys", file);
		return false;
	}
	bool ok = build_contexts(set, keys, err, errlen);
	OPENSSL_cleanse(keys, sizeof keys);
	return ok;
}

void edge_tls_visitor_free(struct edge_tls *set)
{
	for (size_t i = 0; set->visitor && i < set->visitor_count; i++)
		SSL_CTX_free(set->visitor[i].ctx);
	free(set->visitor);
	free(set->record_visitor);
	SSL_CTX_free(set->visitor_initial);
	set->visitor = NULL;
	set->record_visitor = NULL;
	set->visitor_initial = NULL;
}

SSL_CTX *edge_tls_visitor_ctx(struct edge_tls *set)
{
	return set->visitor_initial;
}

const struct edge_record *edge_tls_visitor_record(SSL *ssl)
{
	if (!ssl || record_index < 0)
		return NULL;
	return SSL_get_ex_data(ssl, record_index);
}
