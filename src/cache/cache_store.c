/*
 * cache_store: the sharded table of the edge cache (see cache_store.h).
 *
 * A key's hash picks its shard (top bits) and its bucket (low bits). Each
 * shard has a mutex, a power-of-two array of bucket chains that doubles when
 * it holds more objects than buckets, an equal share of the byte budget and
 * its own S3-FIFO queues (cache_s3fifo.c). Every lock is held for a table
 * walk and a few pointer moves only: objects the store drops are collected
 * on a list and released after the unlock, so freeing a large body never
 * happens under a shard lock.
 *
 * The store holds one reference to each object in its table. Dropping an
 * object (replacement, eviction, removal, purge) unlinks it and releases
 * that reference; a reader that holds its own keeps the object readable.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache/cache_s3fifo.h"
#include "cache/cache_store.h"

#define STORE_SHARDS_MAX 4096u
#define SHARD_BUCKETS_INITIAL 64
#define FREQ_MAX 3

struct cache_shard {
	_Alignas(64) pthread_mutex_t lock; /* a cache line each: no false sharing */
	struct cache_object **buckets;
	size_t bucket_mask;
	size_t count;
	size_t budget;
	struct cache_s3fifo q;
	uint64_t inserts, evictions, purged;
};

struct cache_store {
	struct cache_shard *shards;
	unsigned shard_count;
	unsigned shard_shift;   /* hash >> shard_shift is the shard; 64: one shard */
	size_t max_bytes;
};

static struct cache_shard *store_shard(struct cache_store *store, uint64_t hash)
{
	if (store->shard_count == 1)
		return &store->shards[0];
	return &store->shards[hash >> store->shard_shift];
}

static bool shard_init(struct cache_shard *shard, size_t budget)
{
	memset(shard, 0, sizeof *shard);
	shard->budget = budget;
	shard->buckets = calloc(SHARD_BUCKETS_INITIAL, sizeof *shard->buckets);
	if (!shard->buckets)
		return false;
	shard->bucket_mask = SHARD_BUCKETS_INITIAL - 1;
	if (!cache_s3fifo_init(&shard->q, budget)) {
		free(shard->buckets);
		return false;
	}
	pthread_mutex_init(&shard->lock, NULL);
	return true;
}

/* Releases the store's reference to every object of the shard. */
static void shard_fini(struct cache_shard *shard)
{
	for (size_t i = 0; i <= shard->bucket_mask; i++) {
		struct cache_object *obj = shard->buckets[i];
		while (obj) {
			struct cache_object *next = obj->hnext;
			obj->hnext = NULL;
			obj->linked = false;
			obj->queue = CACHE_QUEUE_NONE;
			cache_object_unref(obj);
			obj = next;
		}
	}
	free(shard->buckets);
	cache_s3fifo_fini(&shard->q);
	pthread_mutex_destroy(&shard->lock);
}

struct cache_store *cache_store_new(size_t max_bytes, unsigned shard_count)
{
	unsigned n = 1, bits = 0;
	while (n < shard_count && n < STORE_SHARDS_MAX) {
		n <<= 1;
		bits++;
	}
	struct cache_store *store = calloc(1, sizeof *store);
	if (!store)
		return NULL;
	store->shards = aligned_alloc(_Alignof(struct cache_shard), n * sizeof *store->shards);
	if (!store->shards) {
		free(store);
		return NULL;
	}
	store->shard_count = n;
	store->shard_shift = 64 - bits;
	store->max_bytes = max_bytes;
	for (unsigned i = 0; i < n; i++) {
		if (!shard_init(&store->shards[i], max_bytes / n)) {
			while (i-- > 0)
				shard_fini(&store->shards[i]);
			free(store->shards);
			free(store);
			return NULL;
		}
	}
	return store;
}

void cache_store_free(struct cache_store *store)
{
	if (!store)
		return;
	for (unsigned i = 0; i < store->shard_count; i++)
		shard_fini(&store->shards[i]);
	free(store->shards);
	free(store);
}

unsigned cache_store_shard_count(const struct cache_store *store)
{
	return store->shard_count;
}

static struct cache_object **shard_bucket(struct cache_shard *shard, uint64_t hash)
{
	return &shard->buckets[hash & shard->bucket_mask];
}

static struct cache_object *shard_find(struct cache_shard *shard, uint64_t hash, const char *key,
				       size_t key_len)
{
	for (struct cache_object *obj = *shard_bucket(shard, hash); obj; obj = obj->hnext) {
		if (obj->hash == hash && obj->key_len == key_len && memcmp(obj->key, key, key_len) == 0)
			return obj;
	}
	return NULL;
}

/* Doubles the bucket array; on ENOMEM the chains just grow longer. */
static void shard_grow(struct cache_shard *shard)
{
	size_t old_n = shard->bucket_mask + 1, n = old_n * 2;
	struct cache_object **buckets = calloc(n, sizeof *buckets);
	if (!buckets)
		return;
	for (size_t i = 0; i < old_n; i++) {
		struct cache_object *obj = shard->buckets[i];
		while (obj) {
			struct cache_object *next = obj->hnext;
			struct cache_object **b = &buckets[obj->hash & (n - 1)];
			obj->hnext = *b;
			*b = obj;
			obj = next;
		}
	}
	free(shard->buckets);
	shard->buckets = buckets;
	shard->bucket_mask = n - 1;
}

/* Takes obj, already out of its bucket chain, out of the shard's queues and
 * puts it on *dead, whose references are dropped after the unlock. The
 * chain link is free for that: a sealed object is never linked again. */
static void shard_drop(struct cache_shard *shard, struct cache_object *obj, struct cache_object **dead)
{
	cache_s3fifo_unlink(&shard->q, obj);
	obj->linked = false;
	shard->count--;
	obj->hnext = *dead;
	*dead = obj;
}

static void shard_unchain(struct cache_shard *shard, struct cache_object *obj)
{
	struct cache_object **pp = shard_bucket(shard, obj->hash);
	while (*pp != obj)
		pp = &(*pp)->hnext;
	*pp = obj->hnext;
}

static void release_dead(struct cache_object *dead)
{
	while (dead) {
		struct cache_object *next = dead->hnext;
		dead->hnext = NULL;
		cache_object_unref(dead);
		dead = next;
	}
}

struct cache_object *cache_store_lookup(struct cache_store *store, const char *key, size_t key_len)
{
	uint64_t hash = cache_key_hash(key, key_len);
	struct cache_shard *shard = store_shard(store, hash);
	pthread_mutex_lock(&shard->lock);
	struct cache_object *obj = shard_find(shard, hash, key, key_len);
	if (obj) {
		if (obj->freq < FREQ_MAX)
			obj->freq++;
		cache_object_ref(obj);
	}
	pthread_mutex_unlock(&shard->lock);
	return obj;
}

/* Evicts until the shard is within its budget; the victims go on *dead. */
static void shard_evict(struct cache_shard *shard, struct cache_object **dead)
{
	while (cache_s3fifo_bytes(&shard->q) > shard->budget) {
		struct cache_object *victim = cache_s3fifo_evict(&shard->q);
		if (!victim)
			break;
		shard_unchain(shard, victim);
		shard_drop(shard, victim, dead);
		shard->evictions++;
	}
}

bool cache_store_insert(struct cache_store *store, struct cache_object *obj)
{
	if (obj->head_len > obj->data_cap || obj->body_len > obj->data_cap - obj->head_len)
		return false;
	size_t charge = cache_object_charge(obj);
	struct cache_shard *shard = store_shard(store, obj->hash);
	struct cache_object *dead = NULL;

	pthread_mutex_lock(&shard->lock);
	if (obj->sealed || charge > shard->budget) {
		pthread_mutex_unlock(&shard->lock);
		return false;
	}
	/* A replacement (a refreshed response) keeps the standing its
	 * predecessor earned: same queue, same frequency. */
	bool to_main = false;
	uint8_t freq = 0;
	struct cache_object *old = shard_find(shard, obj->hash, obj->key, obj->key_len);
	if (old) {
		to_main = old->queue == CACHE_QUEUE_MAIN;
		freq = old->freq;
		shard_unchain(shard, old);
		shard_drop(shard, old, &dead);
	}
	obj->sealed = true;
	obj->charge = charge;
	obj->freq = freq;
	obj->linked = true;
	cache_object_ref(obj);
	struct cache_object **b = shard_bucket(shard, obj->hash);
	obj->hnext = *b;
	*b = obj;
	shard->count++;
	shard->inserts++;
	cache_s3fifo_admit(&shard->q, obj, to_main);
	if (shard->count > shard->bucket_mask + 1)
		shard_grow(shard);
	shard_evict(shard, &dead);
	pthread_mutex_unlock(&shard->lock);

	release_dead(dead);
	return true;
}

/* Drops every object of the shard for which match() holds; returns how many. */
static size_t shard_purge(struct cache_shard *shard, size_t first, size_t last,
			  bool (*match)(const struct cache_object *, const void *), const void *arg,
			  struct cache_object **dead)
{
	size_t n = 0;
	for (size_t i = first; i <= last; i++) {
		struct cache_object **pp = &shard->buckets[i];
		while (*pp) {
			struct cache_object *obj = *pp;
			if (match(obj, arg)) {
				*pp = obj->hnext;
				shard_drop(shard, obj, dead);
				n++;
			} else {
				pp = &obj->hnext;
			}
		}
	}
	shard->purged += n;
	return n;
}

struct primary_match {
	uint64_t hash;
	const char *key;
	size_t len;
};

static bool match_primary(const struct cache_object *obj, const void *arg)
{
	const struct primary_match *m = arg;
	if (obj->hash != m->hash || obj->key_len < m->len || memcmp(obj->key, m->key, m->len) != 0)
		return false;
	return obj->key_len == m->len || obj->key[m->len] == '\0';
}

size_t cache_store_remove_primary(struct cache_store *store, const char *primary, size_t len)
{
	struct primary_match m = { cache_key_hash(primary, len), primary, len };
	struct cache_shard *shard = store_shard(store, m.hash);
	struct cache_object *dead = NULL;
	pthread_mutex_lock(&shard->lock);
	size_t i = m.hash & shard->bucket_mask;
	size_t n = shard_purge(shard, i, i, match_primary, &m, &dead);
	pthread_mutex_unlock(&shard->lock);
	release_dead(dead);
	return n;
}

static bool match_host(const struct cache_object *obj, const void *arg)
{
	return strcasecmp(obj->host, arg) == 0;
}

static bool match_all(const struct cache_object *obj, const void *arg)
{
	return true;
}

/* Applies a purge to every shard, one lock at a time. */
static size_t store_purge(struct cache_store *store, bool (*match)(const struct cache_object *, const void *),
			  const void *arg)
{
	size_t n = 0;
	for (unsigned s = 0; s < store->shard_count; s++) {
		struct cache_shard *shard = &store->shards[s];
		struct cache_object *dead = NULL;
		pthread_mutex_lock(&shard->lock);
		n += shard_purge(shard, 0, shard->bucket_mask, match, arg, &dead);
		pthread_mutex_unlock(&shard->lock);
		release_dead(dead);
	}
	return n;
}

size_t cache_store_purge_host(struct cache_store *store, const char *host)
{
	if (!host)
		return 0;
	return store_purge(store, match_host, host);
}

size_t cache_store_purge_all(struct cache_store *store)
{
	return store_purge(store, match_all, NULL);
}

void cache_store_stats(struct cache_store *store, struct cache_store_stats *out)
{
	*out = (struct cache_store_stats){ .max_bytes = store->max_bytes };
	for (unsigned s = 0; s < store->shard_count; s++) {
		struct cache_shard *shard = &store->shards[s];
		pthread_mutex_lock(&shard->lock);
		out->objects += shard->count;
		out->bytes += cache_s3fifo_bytes(&shard->q);
		out->inserts += shard->inserts;
		out->evictions += shard->evictions;
		out->purged += shard->purged;
		pthread_mutex_unlock(&shard->lock);
	}
}
