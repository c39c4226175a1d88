/*
 * cache_key_hash: the 64-bit hash that places a cache key in a shard and a
 * bucket. Keys come from visitors' URLs, so the hash is seeded once per
 * process from getrandom(): an attacker who cannot learn the seed cannot
 * aim many keys at one bucket. The construction folds 128-bit products of
 * the input with the seed mixed into every step (in the manner of wyhash);
 * only the primary part of a key (up to its first NUL) is hashed, so every
 * variant of a URL lands in the same bucket.
 */
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache_store.h"

#define HASH_K0 0xa0761d6478bd642fULL
#define HASH_K1 0xe7037ed1a0b428dbULL
#define HASH_K2 0x8ebc6af09c88c6e3ULL
#define HASH_K3 0x589965cc75374cc3ULL

static uint64_t hash_seed;
static pthread_once_t hash_seed_once = PTHREAD_ONCE_INIT;

/* The 128-bit product of a and b, its halves xored together. */
static inline uint64_t hash_fold_mul(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
	uint64_t ha = a >> 32, la = (uint32_t)a, hb = b >> 32, lb = (uint32_t)b;
	uint64_t hh = ha * hb, hl = ha * lb, lh = la * hb, ll = la * lb;
	uint64_t mid = (ll >> 32) + (uint32_t)hl + (uint32_t)lh;
	uint64_t lo = (mid << 32) | (uint32_t)ll;
	uint64_t hi = hh + (hl >> 32) + (lh >> 32) + (mid >> 32);
	return lo ^ hi;
#endif
}

static inline uint64_t hash_load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint64_t hash_load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static void hash_seed_init(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
		/* No entropy yet (early boot): weaker, but still not a constant. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)getpid() ^
		    (uint64_t)(uintptr_t)&s;
	}
	hash_seed = hash_fold_mul(s ^ HASH_K0, s ^ HASH_K1) ^ s;
}

uint64_t cache_key_hash(const char *key, size_t len)
{
	pthread_once(&hash_seed_once, hash_seed_init);
	const char *nul = memchr(key, '\0', len);
	if (nul)
		len = (size_t)(nul - key);

	const unsigned char *p = (const unsigned char *)key;
	uint64_t seed = hash_seed ^ HASH_K1;
	uint64_t h = hash_seed ^ hash_fold_mul((uint64_t)len ^ HASH_K0, seed);
	size_t n = len;
	while (n > 16) {
		h = hash_fold_mul(hash_load64(p) ^ seed, hash_load64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	/* The last 1..16 bytes, read as two possibly overlapping words. */
	uint64_t a = 0, b = 0;
	if (n >= 8) {
		a = hash_load64(p);
		b = hash_load64(p + n - 8);
	} else if (n >= 4) {
		a = hash_load32(p);
		b = hash_load32(p + n - 4);
	} else if (n > 0) {
		a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | p[n - 1];
	}
	h = hash_fold_mul(a ^ seed, b ^ h ^ HASH_K2);
	return hash_fold_mul(h ^ HASH_K3, (uint64_t)len ^ seed);
}
