/*
 * cache_s3fifo: the eviction policy of one cache shard, S3-FIFO (Yang et al.,
 * "FIFO queues are all you need for cache eviction", SOSP 2023). A small
 * FIFO takes new objects and lets one-hit objects leave quickly; objects hit
 * while there, or seen again soon after leaving (their hash is in the ghost
 * list), go to the main FIFO, which keeps them with a small frequency count.
 *
 * Store-private: the shard's lock protects all of it. The policy only moves
 * objects between its queues; the store owns the hash table and the
 * references, and calls these functions under the shard lock.
 */
#ifndef PULLGATE_CACHE_CACHE_S3FIFO_H
#define PULLGATE_CACHE_CACHE_S3FIFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/cache_store.h"

struct cache_fifo {
	struct cache_object *head;  /* newest */
	struct cache_object *tail;  /* oldest: evicted first */
	size_t bytes;               /* sum of charges */
	size_t count;
};

struct cache_ghost_slot {
	uint32_t tag;               /* bits of the hash; 0: empty */
	uint32_t seq;               /* ghost clock when added */
};

struct cache_s3fifo {
	struct cache_fifo small, main;
	size_t small_target;        /* bytes: 10% of the shard budget */
	struct cache_ghost_slot *ghost;
	size_t ghost_set_mask;
	uint32_t ghost_clock;       /* counts objects evicted from small */
	uint32_t ghost_max;         /* the most hashes the ghost list remembers */
};

/* budget: the shard's share of the store's bytes. False on ENOMEM. */
bool cache_s3fifo_init(struct cache_s3fifo *q, size_t budget);
void cache_s3fifo_fini(struct cache_s3fifo *q);

/* Bytes held by both queues: the shard's charged bytes. */
static inline size_t cache_s3fifo_bytes(const struct cache_s3fifo *q)
{
	return q->small.bytes + q->main.bytes;
}

/* Queues a new object (obj->charge and obj->freq set): into main when
 * to_main or when its hash is a ghost (which is then forgotten), else into
 * small. */
void cache_s3fifo_admit(struct cache_s3fifo *q, struct cache_object *obj, bool to_main);
/* Takes an object out of its queue (removal, replacement, purge). */
void cache_s3fifo_unlink(struct cache_s3fifo *q, struct cache_object *obj);
/* Chooses the next object to evict, moving the ones that earned a second
 * chance, and returns it out of its queue (queue = NONE); NULL when both
 * queues are empty. Terminates: each step either empties a slot of small or
 * spends one unit of an object's frequency. */
struct cache_object *cache_s3fifo_evict(struct cache_s3fifo *q);

#endif
