/*
 * cache_s3fifo: S3-FIFO eviction for one shard (see cache_s3fifo.h).
 *
 * Choices where the paper leaves room or where we depart from it:
 * - Small's target is 10% of the shard budget, in bytes. Eviction takes from
 *   small while small holds more than that, else from main.
 * - An object leaving small moves to main when it was hit at least once
 *   since insertion (freq >= 1; the paper's text says freq > 1, its
 *   reference code promotes any hit object). Its freq restarts at 0.
 * - An object at main's tail with freq > 0 goes back to main's head with
 *   freq - 1; with freq 0 it is evicted. freq saturates at 3 on lookup.
 * - An object larger than small's target, inserted into a full shard, is
 *   evicted (to the ghost list) by that same insertion unless it was hit
 *   meanwhile; inserted again while remembered, it goes to main. Large
 *   one-hit objects therefore never push popular ones out.
 * - The ghost list remembers the hashes of the last N objects evicted from
 *   small, N being the number of objects the shard holds (the paper sizes it
 *   like main, which is 90% of the cache; counting both queues lets a cold
 *   shard, whose main is still empty, remember too), at least GHOST_MIN and
 *   at most ghost_max (4096, or fewer when the shard budget cannot hold that
 *   many objects). It is a 4-way set-associative table of 32-bit tags
 *   stamped with a clock of evictions, so admission costs O(1) and the table
 *   never needs pruning: an entry older than N evictions is simply dead. A
 *   tag collision or a full set can make it forget or invent a ghost, which
 *   only decides whether an object starts in small or in main.
 */
#include <stdlib.h>

#include "cache/cache_s3fifo.h"

#define GHOST_WAYS 4
#define GHOST_MIN 64
#define GHOST_MAX 4096
#define FREQ_MAX 3

static void fifo_push_head(struct cache_fifo *f, struct cache_object *obj)
{
	obj->qprev = NULL;
	obj->qnext = f->head;
	if (f->head)
		f->head->qprev = obj;
	else
		f->tail = obj;
	f->head = obj;
	f->bytes += obj->charge;
	f->count++;
}

static void fifo_remove(struct cache_fifo *f, struct cache_object *obj)
{
	if (obj->qprev)
		obj->qprev->qnext = obj->qnext;
	else
		f->head = obj->qnext;
	if (obj->qnext)
		obj->qnext->qprev = obj->qprev;
	else
		f->tail = obj->qprev;
	obj->qprev = obj->qnext = NULL;
	f->bytes -= obj->charge;
	f->count--;
}

bool cache_s3fifo_init(struct cache_s3fifo *q, size_t budget)
{
	*q = (struct cache_s3fifo){ 0 };
	q->small_target = budget / 10;
	size_t fit = budget / CACHE_OBJECT_OVERHEAD;
	q->ghost_max = fit < GHOST_MIN ? GHOST_MIN : fit > GHOST_MAX ? GHOST_MAX : (uint32_t)fit;
	/* Twice as many slots as live entries keeps sets from overflowing. */
	size_t sets = 1;
	while (sets * GHOST_WAYS < 2 * (size_t)q->ghost_max)
		sets <<= 1;
	q->ghost = calloc(sets * GHOST_WAYS, sizeof *q->ghost);
	if (!q->ghost)
		return false;
	q->ghost_set_mask = sets - 1;
	return true;
}

void cache_s3fifo_fini(struct cache_s3fifo *q)
{
	free(q->ghost);
	q->ghost = NULL;
}

static uint32_t ghost_tag(uint64_t hash)
{
	/* Bits apart from the low ones (set index, bucket) and the top ones
	 * (shard); never 0, which marks an empty slot. */
	return (uint32_t)(hash >> 16) | 1;
}

static struct cache_ghost_slot *ghost_set(const struct cache_s3fifo *q, uint64_t hash)
{
	return &q->ghost[(hash & q->ghost_set_mask) * GHOST_WAYS];
}

static uint32_t ghost_limit(const struct cache_s3fifo *q)
{
	size_t n = q->small.count + q->main.count;
	if (n < GHOST_MIN)
		return GHOST_MIN;
	return n > q->ghost_max ? q->ghost_max : (uint32_t)n;
}

static void ghost_add(struct cache_s3fifo *q, uint64_t hash)
{
	struct cache_ghost_slot *set = ghost_set(q, hash);
	struct cache_ghost_slot *victim = &set[0];
	uint32_t tag = ghost_tag(hash), oldest = 0;
	/* Refresh this hash's slot, or take an empty one, else the oldest
	 * (dead entries are the oldest). */
	for (int i = 0; i < GHOST_WAYS; i++) {
		if (set[i].tag == tag || set[i].tag == 0) {
			victim = &set[i];
			break;
		}
		uint32_t age = q->ghost_clock - set[i].seq;
		if (age >= oldest) {
			oldest = age;
			victim = &set[i];
		}
	}
	victim->tag = tag;
	victim->seq = ++q->ghost_clock;
}

/* Whether hash is a live ghost; forgets it if so. */
static bool ghost_take(struct cache_s3fifo *q, uint64_t hash)
{
	struct cache_ghost_slot *set = ghost_set(q, hash);
	uint32_t tag = ghost_tag(hash), limit = ghost_limit(q);
	for (int i = 0; i < GHOST_WAYS; i++) {
		if (set[i].tag == tag && (uint32_t)(q->ghost_clock - set[i].seq) < limit) {
			set[i].tag = 0;
			return true;
		}
	}
	return false;
}

void cache_s3fifo_admit(struct cache_s3fifo *q, struct cache_object *obj, bool to_main)
{
	if (to_main || ghost_take(q, obj->hash)) {
		obj->queue = CACHE_QUEUE_MAIN;
		fifo_push_head(&q->main, obj);
	} else {
		obj->queue = CACHE_QUEUE_SMALL;
		fifo_push_head(&q->small, obj);
	}
	if (obj->freq > FREQ_MAX)
		obj->freq = FREQ_MAX;
}

void cache_s3fifo_unlink(struct cache_s3fifo *q, struct cache_object *obj)
{
	if (obj->queue == CACHE_QUEUE_SMALL)
		fifo_remove(&q->small, obj);
	else if (obj->queue == CACHE_QUEUE_MAIN)
		fifo_remove(&q->main, obj);
	obj->queue = CACHE_QUEUE_NONE;
}

/* One step on small's tail: the object leaves small, to main or out. */
static struct cache_object *evict_small(struct cache_s3fifo *q)
{
	struct cache_object *obj = q->small.tail;
	fifo_remove(&q->small, obj);
	if (obj->freq > 0) {
		obj->freq = 0;
		obj->queue = CACHE_QUEUE_MAIN;
		fifo_push_head(&q->main, obj);
		return NULL;
	}
	ghost_add(q, obj->hash);
	obj->queue = CACHE_QUEUE_NONE;
	return obj;
}

/* One step on main's tail: a second chance for an object with credit left. */
static struct cache_object *evict_main(struct cache_s3fifo *q)
{
	struct cache_object *obj = q->main.tail;
	fifo_remove(&q->main, obj);
	if (obj->freq > 0) {
		obj->freq--;
		fifo_push_head(&q->main, obj);
		return NULL;
	}
	obj->queue = CACHE_QUEUE_NONE;
	return obj;
}

struct cache_object *cache_s3fifo_evict(struct cache_s3fifo *q)
{
	for (;;) {
		struct cache_object *victim;
		if (q->small.count && (q->small.bytes > q->small_target || !q->main.count))
			victim = evict_small(q);
		else if (q->main.count)
			victim = evict_main(q);
		else
			return NULL;
		if (victim)
			return victim;
	}
}
