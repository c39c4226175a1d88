/*
 * tls_release: established connections let go of handshake state.
 *
 * The session cannot simply be set to none: SSL_set_session first puts the
 * context's method back on the connection whenever the two differ, and a
 * server context's method is version-flexible while an established
 * connection's is the negotiated version's; the reset discards the record
 * layer. So the connection first moves to a bare context made with its own
 * negotiated method (made once, for the life of the process), where the
 * reset does not happen.
 */
#include "tls/tls_release.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>

/* Setting a key's type anew frees what it held and leaves it empty. */
static void empty_key(EVP_PKEY *k)
{
	if (EVP_PKEY_set_type(k, EVP_PKEY_get_base_id(k)) != 1)
		ERR_clear_error();
	EVP_PKEY_free(k); /* the reference the getter took */
}

void tls_key_exchange_release(SSL *ssl)
{
	EVP_PKEY *k = NULL;
	if (SSL_get_tmp_key(ssl, &k) == 1 && k)
		empty_key(k);
	k = NULL;
	if (SSL_get_peer_tmp_key(ssl, &k) == 1 && k)
		empty_key(k);
}

/* The bare context, made on first use with the negotiated method. Only
 * TLS 1.3 server connections get here, so there is one method; a context
 * for another would not do, and such a connection keeps its session. */
static _Atomic(SSL_CTX *) bare_ctx;
static pthread_mutex_t bare_lock = PTHREAD_MUTEX_INITIALIZER;

static SSL_CTX *bare_context(const SSL_METHOD *method)
{
	SSL_CTX *ctx = atomic_load_explicit(&bare_ctx, memory_order_acquire);
	if (!ctx) {
		pthread_mutex_lock(&bare_lock);
		ctx = atomic_load_explicit(&bare_ctx, memory_order_relaxed);
		if (!ctx && (ctx = SSL_CTX_new(method)) != NULL)
			atomic_store_explicit(&bare_ctx, ctx, memory_order_release);
		pthread_mutex_unlock(&bare_lock);
	}
	return ctx && SSL_CTX_get_ssl_method(ctx) == method ? ctx : NULL;
}

bool tls_session_release(SSL *ssl)
{
	SSL_SESSION *sess = SSL_get_session(ssl);
	if (!sess || !SSL_is_server(ssl) || !SSL_is_init_finished(ssl) ||
	    SSL_version(ssl) != TLS1_3_VERSION ||
	    SSL_get_early_data_status(ssl) == SSL_EARLY_DATA_ACCEPTED ||
	    SSL_SESSION_get_max_fragment_length(sess) != TLSEXT_max_fragment_length_DISABLED)
		return false;
	SSL_CTX *bare = bare_context(SSL_get_ssl_method(ssl));
	if (!bare || SSL_set_SSL_CTX(ssl, bare) != bare || SSL_set_session(ssl, NULL) != 1) {
		ERR_clear_error();
		return false;
	}
	return true;
}
