/*
 * x25519_pool: key pairs made a batch at a time, for one
 * RAND_priv_bytes and one field inversion (tls/x25519.h) per batch instead
 * of per handshake. Each thread has its own batch; a pair is wiped from it
 * as it is taken. A fork wipes the batch of the thread that forked (the
 * child's only thread), so that two processes never hand out one pair.
 */
#include "tls/x25519_pool.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

struct x25519_batch {
	uint8_t priv[X25519_POOL_BATCH][X25519_KEY_LEN];
	uint8_t pub[X25519_POOL_BATCH][X25519_KEY_LEN];
	unsigned left; /* pairs not taken yet: the last ones */
};

static __thread struct x25519_batch batch;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void wipe_after_fork(void)
{
	explicit_bzero(&batch, sizeof batch);
}

static void fork_register(void)
{
	(void)pthread_atfork(NULL, NULL, wipe_after_fork);
}

static bool refill(struct x25519_batch *b)
{
	if (RAND_priv_bytes(&b->priv[0][0], sizeof b->priv) != 1 ||
	    !x25519_public_keys(b->pub, (const uint8_t(*)[X25519_KEY_LEN])b->priv, X25519_POOL_BATCH)) {
		explicit_bzero(b, sizeof *b);
		return false;
	}
	b->left = X25519_POOL_BATCH;
	return true;
}

bool x25519_pool_take(uint8_t priv[X25519_KEY_LEN], uint8_t pub[X25519_KEY_LEN])
{
	if (pthread_once(&fork_once, fork_register) != 0)
		return false;
	struct x25519_batch *b = &batch;
	if (b->left == 0 && !refill(b))
		return false;
	unsigned i = X25519_POOL_BATCH - b->left--;
	memcpy(priv, b->priv[i], X25519_KEY_LEN);
	memcpy(pub, b->pub[i], X25519_KEY_LEN);
	explicit_bzero(b->priv[i], X25519_KEY_LEN);
	return true;
}
