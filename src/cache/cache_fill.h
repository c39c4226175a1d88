/*
 * cache_fill: request collapsing. The first miss for a key becomes the
 * leader of a fill and pulls; later misses for the same key, on any worker,
 * join it as waiters and are woken on their own worker when the leader's pull
 * ends — to find the stored response, or to pull themselves when it was not
 * stored. Waiting is bounded by the caller's timer.
 *
 * A key whose origin answered with a response that cannot be stored is
 * remembered as uncacheable for CACHE_FILL_UNCACHEABLE_SECONDS (what Varnish
 * calls hit-for-miss): its misses then pull at once instead of queueing
 * behind each other's pulls only to pull anyway. A stored response for the
 * key ends the mark. Marks are kept by a hash of the key in a few slots per
 * shard; a lost or colliding mark only costs or spares one wait.
 */
#ifndef PULLGATE_CACHE_CACHE_FILL_H
#define PULLGATE_CACHE_CACHE_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/worker.h"

struct cache_fill;
struct cache_fills;

/* One parked request. Allocated by the waiter; after cache_fill_finish it is
 * handed to wake() on the waiter's worker, which frees it. Until then the
 * waiter may only clear `owner` (on its own worker) to say it gave up. */
struct cache_waiter {
	struct worker *worker;
	void *owner;                          /* the parked session, or NULL */
	void (*wake)(struct cache_waiter *w); /* runs on worker; frees w */
	struct cache_waiter *next;
};

#define CACHE_FILL_UNCACHEABLE_SECONDS 120

enum cache_fill_role {
	CACHE_FILL_LEADER,
	CACHE_FILL_WAITER,
	CACHE_FILL_UNCACHEABLE, /* marked uncacheable: pull without a fill */
};

struct cache_fills *cache_fills_new(unsigned shard_count);
void cache_fills_free(struct cache_fills *fs);

/* Joins the fill for key: CACHE_FILL_UNCACHEABLE (nothing set, w untouched)
 * while key is marked uncacheable at now; else as its leader (*fill set; w
 * untouched) when none is under way, else as a waiter (w queued).
 * CACHE_FILL_LEADER also when memory runs out (the caller then simply
 * pulls). */
enum cache_fill_role cache_fill_join(struct cache_fills *fs, const char *key, size_t len,
				     int64_t now, struct cache_waiter *w, struct cache_fill **fill);
/* The origin's response for key cannot be stored: marks key uncacheable
 * until now + CACHE_FILL_UNCACHEABLE_SECONDS. */
void cache_fill_mark_uncacheable(struct cache_fills *fs, const char *key, size_t len, int64_t now);
/* A response for key is being stored: key is no longer marked. */
void cache_fill_clear_uncacheable(struct cache_fills *fs, const char *key, size_t len);
/* Leads the fill for key when none is under way (true, *fill set); false
 * when another pull already leads it — nobody waits. */
bool cache_fill_try_lead(struct cache_fills *fs, const char *key, size_t len, struct cache_fill **fill);
/* The leader's pull ended (stored or not): removes the fill and wakes its
 * waiters. Call exactly once per leadership. */
void cache_fill_finish(struct cache_fills *fs, struct cache_fill *fill);

#endif
