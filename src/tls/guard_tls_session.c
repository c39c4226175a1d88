/*
 * guard_tls_session: stateless session tickets that never let resumption
 * skip a check. Each set has its own random ticket keys, so a ticket issued
 * before a reload (other CAs, CRLs or pins) does not decrypt in the new set;
 * within a set, every resumption re-judges the session's client certificate
 * against the validity period and the pins of the connection's SNI scope.
 * The server keeps no session cache.
 */
#include <openssl/ssl.h>

#include "tls/cert_text.h"
#include "tls/guard_tls_int.h"
#include "tls/verify_policy.h"

const unsigned char guard_session_id_context[GUARD_SESSION_ID_CONTEXT_LEN] = "pullgate-guard";

long guard_ticket_lifetime(X509 *peer, long lifetime)
{
	long long left;
	if (peer && cert_time_left(X509_get0_notAfter(peer), &left) && left < (long long)lifetime)
		return left > 1 ? (long)left : 1;
	return lifetime;
}

/* A new ticket lives no longer than the client certificate it vouches for. */
static int ticket_generate_cb(SSL *ssl, void *arg)
{
	SSL_SESSION *sess = SSL_get_session(ssl);
	X509 *peer = sess ? SSL_SESSION_get0_peer(sess) : NULL;
	if (peer)
		SSL_SESSION_set_timeout(sess, guard_ticket_lifetime(peer, (long)SSL_SESSION_get_timeout(sess)));
	return 1;
}

static SSL_TICKET_RETURN ticket_decrypt_cb(SSL *ssl, SSL_SESSION *sess,
					   const unsigned char *keyname, size_t keyname_len,
					   SSL_TICKET_STATUS status, void *arg)
{
	const struct guard_tls *set = arg;
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
	struct tls_conn_state *st = tls_conn_state_get(ssl, false);
	const struct guard_host *host = st ? st->host : NULL;
	/* A refused session means a full handshake, which judges the
	 * certificate afresh and refuses it with a proper reason. */
	if (!verify_policy_session_ok(set->conf, host, SSL_SESSION_get0_peer(sess)))
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	return status == SSL_TICKET_SUCCESS_RENEW ? SSL_TICKET_RETURN_USE_RENEW
						  : SSL_TICKET_RETURN_USE;
}

bool guard_tls_session_install(SSL_CTX *ctx, struct guard_tls *set,
			       const unsigned char keys[GUARD_TICKET_KEYS_LEN])
{
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, GUARD_SESSION_LIFETIME_S);
	SSL_CTX_set_num_tickets(ctx, 1);
	return SSL_CTX_set_session_id_context(ctx, guard_session_id_context,
					      GUARD_SESSION_ID_CONTEXT_LEN) == 1 &&
	       SSL_CTX_set_tlsext_ticket_keys(ctx, (void *)keys, GUARD_TICKET_KEYS_LEN) == 1 &&
	       SSL_CTX_set_session_ticket_cb(ctx, ticket_generate_cb, ticket_decrypt_cb, set) == 1;
}
