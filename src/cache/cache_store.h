/*
 * cache_store: the shared in-memory store of the edge cache, used by every
 * worker. Bounded in bytes; sharded by key hash, each shard with its own lock
 * and its own S3-FIFO eviction (a small probationary FIFO, a main FIFO and a
 * ghost list), so that one-hit scans do not push popular objects out and no
 * lookup waits on a global lock. Objects are immutable once inserted and
 * refcounted: a reader keeps serving an object that was replaced, evicted
 * or purged meanwhile.
 *
 * Keys: "primary" or "primary\0secondary". The hash covers only the primary
 * part, so all variants of a URL (Vary) live in one shard and one bucket and
 * can be removed together.
 */
#ifndef PULLGATE_CACHE_CACHE_STORE_H
#define PULLGATE_CACHE_CACHE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache_meta.h"

/* Which S3-FIFO queue holds an object (cache_object.queue). */
enum cache_queue {
	CACHE_QUEUE_NONE,        /* not in the store */
	CACHE_QUEUE_SMALL,       /* probationary FIFO: new objects */
	CACHE_QUEUE_MAIN,        /* objects that were hit, or came back soon after eviction */
};

/* What every object costs besides its key and data (the struct, allocator
 * slack); see cache_object_charge. */
#define CACHE_OBJECT_OVERHEAD (sizeof(struct cache_object) + 64)

struct cache_object {
	/* Set by the creator, immutable after cache_store_insert. */
	uint64_t hash;           /* of the primary part of key */
	char *key;               /* in the object's block */
	size_t key_len;
	char *host;              /* in the object's block; lowercase; for purge by hostname */
	char *data;              /* head_len bytes of head, then body_len bytes of body: in the
	                          * object's block, or a block of its own once grown */
	size_t head_len;
	size_t body_len;
	size_t data_cap;
	struct cache_meta meta;
	/* Store-private. */
	int refs;                /* atomic */
	size_t charge;           /* bytes counted against the budget */
	uint8_t freq;            /* S3-FIFO access count, 0..3 */
	uint8_t queue;           /* which FIFO holds it */
	bool linked;             /* in the table */
	struct cache_object *hnext;
	struct cache_object *qprev, *qnext;
	size_t data_len;         /* bytes appended so far */
	bool data_own;           /* data is a block of its own, not in the object's */
	bool sealed;             /* inserted once: immutable, never inserted again */
};

struct cache_store_stats {
	uint64_t objects;
	uint64_t bytes;
	uint64_t inserts;
	uint64_t evictions;
	uint64_t purged;
	uint64_t max_bytes;
};

struct cache_store;

/* shard_count is rounded up to a power of two (at least 1). */
struct cache_store *cache_store_new(size_t max_bytes, unsigned shard_count);
/* Frees the store; objects still referenced elsewhere live on until unref'd. */
void cache_store_free(struct cache_store *store);

/* The hash of a key's primary part (up to the first NUL, or all of it). */
uint64_t cache_key_hash(const char *key, size_t len);

/* A new object with refs = 1 and room for data_cap bytes (grown on append).
 * NULL on ENOMEM. */
struct cache_object *cache_object_new(const char *key, size_t key_len, const char *host, size_t data_cap);
/* Appends to data (head first, then body: the caller sets head_len and
 * body_len). False on ENOMEM. Only before insertion, by the one thread that
 * builds the object: an inserted object is shared and immutable, and append
 * refuses it (returns false). Grows data by doubling. */
bool cache_object_append(struct cache_object *obj, const void *p, size_t n);
void cache_object_ref(struct cache_object *obj);
/* Drops a reference; the last one frees the object and its data. */
void cache_object_unref(struct cache_object *obj);
/* Bytes the object counts against the budget: head_len + body_len + key_len
 * + CACHE_OBJECT_OVERHEAD. */
size_t cache_object_charge(const struct cache_object *obj);

/* A referenced object for exactly this key, or NULL. Counts as an access
 * for eviction. */
struct cache_object *cache_store_lookup(struct cache_store *store, const char *key, size_t key_len);
/* Inserts obj (the store takes its own reference), replacing an object with
 * the same key, then evicts until the store is within its budget. An object
 * larger than a shard's budget is not inserted (returns false), nor one that
 * was inserted before, nor one whose head_len + body_len exceed data_cap.
 * The caller keeps its own reference either way. Inserted is not kept: in a
 * full shard, an object larger than the small queue (10% of the shard) that
 * nobody read meanwhile is evicted by its own insertion, and kept when it is
 * inserted again soon after (see cache_s3fifo.c). */
bool cache_store_insert(struct cache_store *store, struct cache_object *obj);
/* Removes the object with this primary key and all its variants; returns how
 * many were removed. */
size_t cache_store_remove_primary(struct cache_store *store, const char *primary, size_t len);
/* Removes every object of a host / every object. */
size_t cache_store_purge_host(struct cache_store *store, const char *host);
size_t cache_store_purge_all(struct cache_store *store);
void cache_store_stats(struct cache_store *store, struct cache_store_stats *out);
/* The number of shards after rounding. */
unsigned cache_store_shard_count(const struct cache_store *store);

#endif
