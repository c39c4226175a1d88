/*
 * guard_tls_sni: picks a connection's hosts entry from its SNI and enforces
 * that its requests' Host belongs to the same entry.
 *
 * The match runs in the client hello callback, not the servername callback:
 * OpenSSL decrypts a session ticket before it calls the servername callback,
 * and the ticket check (guard_tls_session.c) must know which entry's pins
 * the resumed session is to be judged by.
 */
#include "tls/guard_tls.h"

#include <openssl/tls1.h>

#include "core/hostname.h"
#include "tls/guard_tls_int.h"
#include "tls/tls_sni.h"
#include "tls/verify_policy.h"


int guard_tls_host_index(const struct guard_conf *conf, struct slice name)
{
	for (size_t i = 0; i < conf->host_count; i++)
		for (size_t j = 0; j < conf->hosts[i].hostnames.count; j++)
			if (hostname_matches(conf->hosts[i].hostnames.items[j], name))
				return (int)i;
	return -1;
}

/* Runs for every ClientHello (twice after a HelloRetryRequest; the result
 * is the same). */
static int sni_client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct guard_tls *set = arg;
	struct tls_conn_state *st = tls_conn_state_get(ssl, true);
	if (!st) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	st->host = NULL;
	struct slice name;
	int found = tls_client_hello_sni(ssl, &name);
	if (found < 0) {
		*al = SSL_AD_DECODE_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	int i = found ? guard_tls_host_index(set->conf, name) : -1;
	if (i < 0)
		return SSL_CLIENT_HELLO_SUCCESS;
	st->host = &set->conf->hosts[i];
	if (set->host_ctx[i] && SSL_set_SSL_CTX(ssl, set->host_ctx[i]) != set->host_ctx[i]) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Acknowledges SNI; the choice was made in the client hello callback. */
static int sni_servername_cb(SSL *ssl, int *al, void *arg)
{
	return SSL_TLSEXT_ERR_OK;
}

bool guard_tls_sni_install(SSL_CTX *ctx, struct guard_tls *set)
{
	SSL_CTX_set_client_hello_cb(ctx, sni_client_hello_cb, set);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_servername_cb);
	return true;
}

const struct guard_host *guard_tls_matched_host(SSL *ssl)
{
	struct tls_conn_state *st = tls_conn_state_get(ssl, false);
	return st ? st->host : NULL;
}

static bool entry_has(const struct guard_host *h, struct slice name)
{
	for (size_t j = 0; j < h->hostnames.count; j++)
		if (hostname_matches(h->hostnames.items[j], name))
			return true;
	return false;
}

bool guard_tls_host_allowed(struct guard_tls *set, const struct guard_host *matched,
			    struct slice host)
{
	const struct guard_conf *conf = set->conf;
	if (conf->host_count == 0)
		return true;
	struct slice name = hostname_from_host_header(host);
	if (matched)
		return entry_has(matched, name);
	/* An unmatched SNI may not reach an entry's names: that would skip the
	 * entry's pins. */
	for (size_t i = 0; i < conf->host_count; i++)
		if (entry_has(&conf->hosts[i], name))
			return false;
	return true;
}
