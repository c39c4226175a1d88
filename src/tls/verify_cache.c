/*
 * verify_cache: see verify_cache.h. A direct-mapped table: the key's first
 * bytes pick the slot, a newer chain for the same slot replaces the older
 * one. Each slot has its own lock, held only to copy a few pointers.
 */
#include "tls/verify_cache.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/cert_text.h"

struct verify_slot {
	pthread_mutex_t lock;
	bool used;
	unsigned char key[VERIFY_CACHE_KEY_LEN];
	time_t not_before;       /* latest notBefore in the chain */
	time_t expires;          /* earliest notAfter / CRL nextUpdate */
	STACK_OF(X509) *chain;   /* owned, with a reference on each certificate */
};

struct verify_cache {
	unsigned slots;
	time_t crl_deadline;     /* earliest CRL nextUpdate; 0: none */
	atomic_ullong hits, lookups;
	struct verify_slot slot[];
};

/* The absolute time of t, from the seconds left until it. */
static bool asn1_time_abs(const ASN1_TIME *t, time_t now, time_t *out)
{
	long long left;
	if (!t || !cert_time_left(t, &left))
		return false;
	*out = now + (time_t)left;
	return true;
}

static time_t earliest_crl_update(X509_STORE *store, time_t now)
{
	time_t deadline = 0;
	if (!X509_STORE_lock(store))
		return now; /* unknown: entries die at once */
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
		time_t next;
		if (crl && asn1_time_abs(X509_CRL_get0_nextUpdate(crl), now, &next) &&
		    (deadline == 0 || next < deadline))
			deadline = next;
	}
	X509_STORE_unlock(store);
	return deadline;
}

struct verify_cache *verify_cache_new(X509_STORE *store, unsigned slots)
{
	struct verify_cache *vc = calloc(1, sizeof *vc + (size_t)slots * sizeof vc->slot[0]);
	if (!vc)
		return NULL;
	vc->slots = slots;
	vc->crl_deadline = earliest_crl_update(store, time(NULL));
	for (unsigned i = 0; i < slots; i++)
		pthread_mutex_init(&vc->slot[i].lock, NULL);
	return vc;
}

void verify_cache_free(struct verify_cache *vc)
{
	if (!vc)
		return;
	for (unsigned i = 0; i < vc->slots; i++) {
		sk_X509_pop_free(vc->slot[i].chain, X509_free);
		pthread_mutex_destroy(&vc->slot[i].lock);
	}
	free(vc);
}

/* Hashes a certificate's DER, length first so that concatenations stay
 * unambiguous. */
static bool digest_der(EVP_MD_CTX *md, const unsigned char *der, size_t len)
{
	unsigned char be[4] = { (unsigned char)(len >> 24), (unsigned char)(len >> 16),
				(unsigned char)(len >> 8), (unsigned char)len };
	return len <= INT32_MAX && EVP_DigestUpdate(md, be, sizeof be) == 1 &&
	       EVP_DigestUpdate(md, der, len) == 1;
}

static bool digest_cert(EVP_MD_CTX *md, X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	bool ok = len > 0 && digest_der(md, der, (size_t)len);
	OPENSSL_free(der);
	return ok;
}

static EVP_MD *key_md;
static pthread_once_t key_md_once = PTHREAD_ONCE_INIT;

static void key_md_init(void)
{
	key_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

bool verify_cache_key(X509_STORE_CTX *xctx, unsigned char key[VERIFY_CACHE_KEY_LEN])
{
	X509 *leaf = X509_STORE_CTX_get0_cert(xctx);
	STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(xctx);
	if (!leaf || pthread_once(&key_md_once, key_md_init) != 0 || !key_md)
		return false;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok = md && EVP_DigestInit_ex(md, key_md, NULL) == 1 && digest_cert(md, leaf);
	/* OpenSSL's untrusted list is what the client sent, leaf first. */
	for (int i = 0; ok && i < sk_X509_num(untrusted); i++) {
		X509 *x = sk_X509_value(untrusted, i);
		if (i == 0 && X509_cmp(x, leaf) == 0)
			continue;
		ok = digest_cert(md, x);
	}
	ok = ok && EVP_DigestFinal_ex(md, key, &n) == 1 && n == VERIFY_CACHE_KEY_LEN;
	EVP_MD_CTX_free(md);
	return ok;
}

static struct verify_slot *slot_of(struct verify_cache *vc, const unsigned char *key)
{
	unsigned idx = ((unsigned)key[0] << 24 | (unsigned)key[1] << 16 | (unsigned)key[2] << 8 |
			key[3]) % vc->slots;
	return &vc->slot[idx];
}

static STACK_OF(X509) *chain_copy(STACK_OF(X509) *chain)
{
	STACK_OF(X509) *copy = sk_X509_dup(chain);
	for (int i = 0; copy && i < sk_X509_num(copy); i++)
		X509_up_ref(sk_X509_value(copy, i));
	return copy;
}

/* The kept chain's leaf has the very bytes the client sent (the key covers
 * them), so the handshake takes it in place of its own parse: libssl makes
 * the session's peer certificate of the untrusted list's first entry after
 * this callback. Connections with the same certificate then share one
 * parsed copy (about 3 KiB each) rather than keep their own. */
static void share_leaf(X509_STORE_CTX *xctx, X509 *kept)
{
	STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(xctx);
	X509 *fresh = X509_STORE_CTX_get0_cert(xctx);
	if (!kept || !fresh || kept == fresh || !sent || sk_X509_value(sent, 0) != fresh ||
	    X509_up_ref(kept) != 1)
		return;
	sk_X509_set(sent, 0, kept);
	X509_STORE_CTX_set_cert(xctx, kept);
	X509_free(fresh);
}

bool verify_cache_key_der(const unsigned char *const *der, const size_t *len, size_t count,
			  unsigned char key[VERIFY_CACHE_KEY_LEN])
{
	if (!count || pthread_once(&key_md_once, key_md_init) != 0 || !key_md)
		return false;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok = md && EVP_DigestInit_ex(md, key_md, NULL) == 1;
	for (size_t i = 0; ok && i < count; i++)
		ok = digest_der(md, der[i], len[i]);
	ok = ok && EVP_DigestFinal_ex(md, key, &n) == 1 && n == VERIFY_CACHE_KEY_LEN;
	EVP_MD_CTX_free(md);
	return ok;
}

STACK_OF(X509) *verify_cache_find(struct verify_cache *vc, const unsigned char key[VERIFY_CACHE_KEY_LEN])
{
	if (!vc || vc->slots == 0)
		return NULL;
	atomic_fetch_add_explicit(&vc->lookups, 1, memory_order_relaxed);
	struct verify_slot *s = slot_of(vc, key);
	time_t now = time(NULL);
	STACK_OF(X509) *copy = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->used && memcmp(s->key, key, VERIFY_CACHE_KEY_LEN) == 0) {
		if (now >= s->not_before && now < s->expires)
			copy = chain_copy(s->chain);
		else {
			sk_X509_pop_free(s->chain, X509_free);
			s->chain = NULL;
			s->used = false;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (copy)
		atomic_fetch_add_explicit(&vc->hits, 1, memory_order_relaxed);
	return copy;
}

bool verify_cache_lookup(struct verify_cache *vc, const unsigned char key[VERIFY_CACHE_KEY_LEN],
			 X509_STORE_CTX *xctx)
{
	STACK_OF(X509) *copy = verify_cache_find(vc, key);
	if (!copy)
		return false;
	X509_STORE_CTX_set0_verified_chain(xctx, copy);
	X509_STORE_CTX_set_error(xctx, X509_V_OK);
	share_leaf(xctx, sk_X509_value(copy, 0));
	return true;
}

void verify_cache_store(struct verify_cache *vc, const unsigned char key[VERIFY_CACHE_KEY_LEN],
			X509_STORE_CTX *xctx)
{
	if (!vc || vc->slots == 0)
		return;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xctx);
	time_t now = time(NULL);
	time_t expires = vc->crl_deadline, not_before = 0;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		time_t na, nb;
		if (!asn1_time_abs(X509_get0_notAfter(x), now, &na) ||
		    !asn1_time_abs(X509_get0_notBefore(x), now, &nb))
			return;
		if (expires == 0 || na < expires)
			expires = na;
		if (nb > not_before)
			not_before = nb;
	}
	if (sk_X509_num(chain) == 0 || expires <= now)
		return;
	STACK_OF(X509) *copy = chain_copy(chain);
	if (!copy)
		return;
	struct verify_slot *s = slot_of(vc, key);
	pthread_mutex_lock(&s->lock);
	if (s->used && memcmp(s->key, key, VERIFY_CACHE_KEY_LEN) == 0 && now < s->expires) {
		/* Another thread verified the same certificates at the same
		 * time and kept its chain first. That chain stays: handshakes
		 * on other threads may share its leaf, and replacing it could
		 * free that leaf here just after they read it. OpenSSL 3.0
		 * drops a reference with a relaxed decrement, which orders
		 * nothing between their reads and this free (ThreadSanitizer
		 * reports it). */
		pthread_mutex_unlock(&s->lock);
		sk_X509_pop_free(copy, X509_free);
		return;
	}
	STACK_OF(X509) *old = s->chain;
	memcpy(s->key, key, VERIFY_CACHE_KEY_LEN);
	s->chain = copy;
	s->not_before = not_before;
	s->expires = expires;
	s->used = true;
	pthread_mutex_unlock(&s->lock);
	sk_X509_pop_free(old, X509_free);
}

void verify_cache_counts(const struct verify_cache *vc, unsigned long long *hits,
			 unsigned long long *lookups)
{
	*hits = vc ? atomic_load_explicit(&vc->hits, memory_order_relaxed) : 0;
	*lookups = vc ? atomic_load_explicit(&vc->lookups, memory_order_relaxed) : 0;
}
