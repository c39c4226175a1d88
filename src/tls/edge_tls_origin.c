/*
 * edge_tls_origin: the client contexts origin pulls are made with, one per
 * distinct (SSL mode, client certificate, CA bundle), and the per-connection
 * settings that cannot be shared (SNI, the name or IP strict mode verifies).
 * A record with authenticated pulls off is keyed with no certificate, so it
 * can never be given a context that carries one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tls/client_cert_check.h"
#include "tls/edge_tls_int.h"
#include "tls/tls_keys.h"
#include "tls/tls_suites.h"
#include "tls/transport_records.h"

static const unsigned char alpn_http11[] = "\x08http/1.1";

/* Marks an SSL whose origin asked for a client certificate. */
static CRYPTO_ONCE asked_once = CRYPTO_ONCE_STATIC_INIT;
static int asked_index = -1;
static char asked_mark;

static void asked_index_init(void)
{
	asked_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* On a client, OpenSSL calls this exactly when a CertificateRequest
 * arrived; it leaves the certificate as configured. */
static int cert_requested_cb(SSL *ssl, void *arg)
{
	SSL_set_ex_data(ssl, asked_index, &asked_mark);
	return 1;
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The record's origin context key; false when pulls are not over TLS. */
static bool key_of(const struct edge_conf *conf, const struct edge_record *rec,
		   struct edge_origin_ctx *key)
{
	if (!rec->proxied || (rec->ssl != SSL_MODE_FULL && rec->ssl != SSL_MODE_STRICT))
		return false;
	key->mode = rec->ssl;
	key->cert = rec->pull != ORIGIN_PULL_OFF ? rec->client_cert : NULL;
	key->ca = rec->ssl == SSL_MODE_STRICT ? (rec->origin_ca ? rec->origin_ca : conf->origin_ca)
					       : NULL;
	key->ctx = NULL;
	return true;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_cert(const struct cert_files *a, const struct cert_files *b)
{
	return a == b || (a && b && same_str(a->certificate, b->certificate) &&
			  same_str(a->key, b->key));
}

static bool load_bundle(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
	if (!ca) {
		if (SSL_CTX_set_default_verify_paths(ctx) == 1) {
			tls_store_prime(SSL_CTX_get_cert_store(ctx));
			return true;
		}
		snprintf(err, errlen, "system CA bundle: cannot be loaded");
		return false;
	}
	FILE *f = fopen(ca, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", ca, strerror(errno));
		return false;
	}
	fclose(f);
	if (SSL_CTX_load_verify_file(ctx, ca) == 1) {
		tls_store_prime(SSL_CTX_get_cert_store(ctx));
		return true;
	}
	const char *why = ERR_reason_error_string(ERR_peek_last_error());
	snprintf(err, errlen, "%s: no usable CA certificate: %s", ca, why ? why : "unknown");
	return false;
}

/* Logs the expiry warning for the first context that uses a certificate. */
static void warn_expiry(struct edge_tls *set, const struct edge_record *rec,
			const struct cert_files *cert, X509 *leaf)
{
	for (size_t i = 0; i < set->origin_count; i++)
		if (set->origin[i].cert && same_str(set->origin[i].cert->certificate, cert->certificate))
			return;
	char scope[300], msg[700];
	if (rec->pull == ORIGIN_PULL_GLOBAL)
		snprintf(scope, sizeof scope, "global");
	else if (rec->pull == ORIGIN_PULL_ZONE)
		snprintf(scope, sizeof scope, "zone %s", rec->zone->name ? rec->zone->name : "?");
	else
		snprintf(scope, sizeof scope, "hostname %s", rec->name ? rec->name : "?");
	if (client_cert_expiry_warning(leaf, cert->certificate, scope, msg, sizeof msg))
		log_warn("%s", msg);
}

/* A client context for key, stored at set->origin[set->origin_count]. */
static bool ctx_add(struct edge_tls *set, const struct edge_origin_ctx *key,
		    const struct edge_record *rec, char *err, size_t errlen)
{
	struct edge_origin_ctx *oc = &set->origin[set->origin_count];
	*oc = *key;
	/* The pool's connections take their records over once their first
	 * response is in (tls/transport_records.h). */
	SSL_CTX *ctx = oc->ctx = transport_records_ctx_new(TLS_client_method());
	bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
		  SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) == 1 &&
		  SSL_CTX_set_alpn_protos(ctx, alpn_http11, sizeof alpn_http11 - 1) == 0;
	if (!ok) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());
		snprintf(err, errlen, "origin TLS: cannot set up: %s", why ? why : "unknown error");
		goto fail;
	}
	/* With read-ahead, one recv takes in up to this much of a response:
	 * several records of a large body (OpenSSL's default is one), on a
	 * connection whose records stay with OpenSSL. */
	SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
	/* The pool keeps sessions itself; this makes OpenSSL put TLS 1.3
	 * tickets on the SSL_SESSION that SSL_get1_session returns. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_set_cert_cb(ctx, cert_requested_cb, NULL);
	if (key->mode == SSL_MODE_STRICT) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (!load_bundle(ctx, key->ca, err, errlen))
			goto fail;
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	if (key->cert) {
		X509 *leaf = client_cert_load(ctx, key->cert->certificate, key->cert->key, err, errlen);
		if (!leaf)
			goto fail;
		warn_expiry(set, rec, key->cert, leaf);
		X509_free(leaf);
	}
	set->origin_count++;
	return true;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	oc->ctx = NULL;
	return false;
}

static struct edge_origin_ctx *ctx_for(struct edge_tls *set, const struct edge_record *rec,
				       char *err, size_t errlen)
{
	struct edge_origin_ctx key;
	if (!key_of(set->conf, rec, &key))
		return NULL;
	if (rec->pull != ORIGIN_PULL_OFF && (!key.cert || !key.cert->certificate)) {
		snprintf(err, errlen, "%s:%d: record %s has origin pulls on but no client "
			 "certificate", set->conf->file ? set->conf->file : "configuration",
			 rec->line, rec->name ? rec->name : "?");
		return NULL;
	}
	for (size_t i = 0; i < set->origin_count; i++) {
		struct edge_origin_ctx *oc = &set->origin[i];
		if (oc->mode == key.mode && same_cert(oc->cert, key.cert) && same_str(oc->ca, key.ca))
			return oc;
	}
	return ctx_add(set, &key, rec, err, errlen) ? &set->origin[set->origin_count - 1] : NULL;
}

bool edge_tls_origin_build(struct edge_tls *set, char *err, size_t errlen)
{
	const struct edge_conf *conf = set->conf;
	if (!CRYPTO_THREAD_run_once(&asked_once, asked_index_init) || asked_index < 0) {
		snprintf(err, errlen, "%s: cannot set up TLS connection data",
			 conf->file ? conf->file : "configuration");
		return false;
	}
	set->record_origin = calloc(set->record_count + 1, sizeof *set->record_origin);
	set->origin = calloc(set->record_count + 1, sizeof *set->origin);
	if (!set->record_origin || !set->origin) {
		snprintf(err, errlen, "%s: out of memory", conf->file ? conf->file : "configuration");
		return false;
	}
	for (size_t z = 0; z < conf->zone_count; z++)
		for (size_t r = 0; r < conf->zones[z].record_count; r++) {
			const struct edge_record *rec = &conf->zones[z].records[r];
			err[0] = '\0';
			struct edge_origin_ctx *oc = ctx_for(set, rec, err, errlen);
			if (!oc && err[0])
				return false;
			set->record_origin[set->zone_base[z] + r] = oc;
		}
	return true;
}

void edge_tls_origin_free(struct edge_tls *set)
{
	for (size_t i = 0; set->origin && i < set->origin_count; i++)
		SSL_CTX_free(set->origin[i].ctx);
	free(set->origin);
	free(set->record_origin);
	set->origin = NULL;
	set->record_origin = NULL;
}

static struct edge_origin_ctx *origin_of(struct edge_tls *set, const struct edge_record *rec)
{
	if (!set || !set->record_origin || !edge_tls_owns_record(set, rec))
		return NULL;
	return set->record_origin[edge_tls_record_index(set, rec)];
}

SSL *edge_tls_origin_ssl(struct edge_tls *set, const struct edge_record *rec)
{
	struct edge_origin_ctx *oc = origin_of(set, rec);
	/* The key makes this impossible; refusing here keeps it so. */
	if (!oc || (rec->pull == ORIGIN_PULL_OFF && SSL_CTX_get0_certificate(oc->ctx)))
		return NULL;
	const char *name = rec->origin_sni ? rec->origin_sni : rec->origin.host;
	bool ip = name && is_ip_literal(name);
	SSL *ssl = SSL_new(oc->ctx);
	bool ok = ssl != NULL;
	/* RFC 6066: SNI carries host names only, never an address. */
	if (ok && name && !ip)
		ok = SSL_set_tlsext_host_name(ssl, name) == 1;
	if (ok && oc->mode == SSL_MODE_STRICT) {
		if (!name)
			ok = false;
		else if (ip)
			ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
		else {
			SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(ssl, name) == 1;
		}
	}
	if (!ok) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

const void *edge_tls_origin_ctx_id(struct edge_tls *set, const struct edge_record *rec)
{
	struct edge_origin_ctx *oc = origin_of(set, rec);
	return oc ? oc->ctx : NULL;
}

/* Alerts by which an origin turns down our certificate, or the lack of one.
 * handshake_failure counts only when the origin asked for a certificate:
 * otherwise it means no common cipher or group. */
static const struct {
	int reason;
	const char *alert;
} refusal_alerts[] = {
	{ SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED, "certificate_required" },
	{ SSL_R_TLSV1_ALERT_UNKNOWN_CA, "unknown_ca" },
	{ SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, "bad_certificate" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, "certificate_unknown" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, "certificate_expired" },
	{ SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED, "certificate_revoked" },
	{ SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, "unsupported_certificate" },
	{ SSL_R_TLSV1_ALERT_ACCESS_DENIED, "access_denied" },
	{ SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, "handshake_failure" },
};

enum origin_tls_failure edge_tls_classify_origin_failure(SSL *ssl, unsigned long ssl_err,
							  char *detail, size_t detail_len)
{
	int reason = ERR_GET_LIB(ssl_err) == ERR_LIB_SSL ? ERR_GET_REASON(ssl_err) : 0;
	bool asked = ssl && asked_index >= 0 && SSL_get_ex_data(ssl, asked_index) == &asked_mark;
	for (size_t i = 0; reason && i < sizeof refusal_alerts / sizeof refusal_alerts[0]; i++) {
		if (refusal_alerts[i].reason != reason)
			continue;
		if (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && !asked)
			break;
		snprintf(detail, detail_len, "origin sent alert %s", refusal_alerts[i].alert);
		return ORIGIN_TLS_REFUSED_CERT;
	}
	if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
		long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_ERR_UNSPECIFIED;
		snprintf(detail, detail_len, "%s", X509_verify_cert_error_string(verify));
		return ORIGIN_TLS_INVALID_CERT;
	}
	const char *why = ssl_err ? ERR_reason_error_string(ssl_err) : NULL;
	snprintf(detail, detail_len, "%s", why ? why : "handshake failed");
	return ORIGIN_TLS_HANDSHAKE;
}
