/* cache_fill: see cache_fill.h. A small sharded table of fills in flight. */
#include "cache/cache_fill.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_store.h"

struct cache_fill {
	size_t key_len;
	uint64_t hash;
	struct cache_waiter *waiters;
	struct cache_fill *next;
	unsigned shard;
	char key[]; /* key_len bytes: one block per fill */
};

/* Per shard, so 64 shards remember 512 uncacheable keys; a new mark takes
 * the slot that expires first. */
#define UNCACHEABLE_SLOTS 8

struct uncacheable_mark {
	uint64_t hash;
	int64_t until; /* 0: free */
};

struct fill_shard {
	pthread_mutex_t lock;
	struct cache_fill *list; /* few fills are in flight at once */
	struct uncacheable_mark marks[UNCACHEABLE_SLOTS];
};

struct cache_fills {
	unsigned count;
	struct fill_shard *shards;
};

struct cache_fills *cache_fills_new(unsigned shard_count)
{
	struct cache_fills *fs = calloc(1, sizeof *fs);
	if (!fs)
		return NULL;
	fs->count = shard_count ? shard_count : 1;
	fs->shards = calloc(fs->count, sizeof *fs->shards);
	if (!fs->shards) {
		free(fs);
		return NULL;
	}
	for (unsigned i = 0; i < fs->count; i++)
		pthread_mutex_init(&fs->shards[i].lock, NULL);
	return fs;
}

void cache_fills_free(struct cache_fills *fs)
{
	if (!fs)
		return;
	for (unsigned i = 0; i < fs->count; i++) {
		struct cache_fill *f = fs->shards[i].list;
		while (f) {
			struct cache_fill *n = f->next;
			free(f);
			f = n;
		}
		pthread_mutex_destroy(&fs->shards[i].lock);
	}
	free(fs->shards);
	free(fs);
}

/* The fill for key in a locked shard, or NULL. */
static struct cache_fill *find(struct fill_shard *sh, const char *key, size_t len)
{
	for (struct cache_fill *f = sh->list; f; f = f->next)
		if (f->key_len == len && memcmp(f->key, key, len) == 0)
			return f;
	return NULL;
}

/* A new fill in a locked shard, or NULL on ENOMEM. */
static struct cache_fill *add(struct fill_shard *sh, unsigned si, uint64_t h, const char *key, size_t len)
{
	if (len > SIZE_MAX - sizeof(struct cache_fill))
		return NULL;
	struct cache_fill *f = malloc(sizeof *f + len);
	if (!f)
		return NULL;
	memset(f, 0, sizeof *f);
	memcpy(f->key, key, len);
	f->key_len = len;
	f->hash = h;
	f->shard = si;
	f->next = sh->list;
	sh->list = f;
	return f;
}

bool cache_fill_try_lead(struct cache_fills *fs, const char *key, size_t len, struct cache_fill **fill)
{
	uint64_t h = cache_key_hash(key, len);
	unsigned si = (unsigned)(h % fs->count);
	struct fill_shard *sh = &fs->shards[si];
	pthread_mutex_lock(&sh->lock);
	*fill = find(sh, key, len) ? NULL : add(sh, si, h, key, len);
	pthread_mutex_unlock(&sh->lock);
	return *fill != NULL;
}

/* The mark for hash in a locked shard, or NULL. */
static struct uncacheable_mark *find_mark(struct fill_shard *sh, uint64_t h)
{
	for (unsigned i = 0; i < UNCACHEABLE_SLOTS; i++)
		if (sh->marks[i].until && sh->marks[i].hash == h)
			return &sh->marks[i];
	return NULL;
}

enum cache_fill_role cache_fill_join(struct cache_fills *fs, const char *key, size_t len,
				     int64_t now, struct cache_waiter *w, struct cache_fill **fill)
{
	*fill = NULL;
	uint64_t h = cache_key_hash(key, len);
	unsigned si = (unsigned)(h % fs->count);
	struct fill_shard *sh = &fs->shards[si];
	pthread_mutex_lock(&sh->lock);
	struct uncacheable_mark *m = find_mark(sh, h);
	if (m && m->until > now) {
		pthread_mutex_unlock(&sh->lock);
		return CACHE_FILL_UNCACHEABLE;
	}
	struct cache_fill *f = find(sh, key, len);
	if (f) {
		w->next = f->waiters;
		f->waiters = w;
		pthread_mutex_unlock(&sh->lock);
		return CACHE_FILL_WAITER;
	}
	*fill = add(sh, si, h, key, len);
	pthread_mutex_unlock(&sh->lock);
	return CACHE_FILL_LEADER;
}

void cache_fill_mark_uncacheable(struct cache_fills *fs, const char *key, size_t len, int64_t now)
{
	uint64_t h = cache_key_hash(key, len);
	struct fill_shard *sh = &fs->shards[h % fs->count];
	pthread_mutex_lock(&sh->lock);
	struct uncacheable_mark *m = find_mark(sh, h);
	if (!m) {
		m = &sh->marks[0]; /* free slots have until 0: they go first */
		for (unsigned i = 1; i < UNCACHEABLE_SLOTS; i++)
			if (sh->marks[i].until < m->until)
				m = &sh->marks[i];
	}
	m->hash = h;
	m->until = now + CACHE_FILL_UNCACHEABLE_SECONDS;
	pthread_mutex_unlock(&sh->lock);
}

void cache_fill_clear_uncacheable(struct cache_fills *fs, const char *key, size_t len)
{
	uint64_t h = cache_key_hash(key, len);
	struct fill_shard *sh = &fs->shards[h % fs->count];
	pthread_mutex_lock(&sh->lock);
	struct uncacheable_mark *m = find_mark(sh, h);
	if (m)
		m->until = 0;
	pthread_mutex_unlock(&sh->lock);
}

static void wake_on_worker(struct worker *worker, void *arg)
{
	struct cache_waiter *w = arg;
	w->wake(w);
}

void cache_fill_finish(struct cache_fills *fs, struct cache_fill *fill)
{
	if (!fill)
		return;
	struct fill_shard *sh = &fs->shards[fill->shard];
	pthread_mutex_lock(&sh->lock);
	for (struct cache_fill **pp = &sh->list; *pp; pp = &(*pp)->next) {
		if (*pp == fill) {
			*pp = fill->next;
			break;
		}
	}
	struct cache_waiter *w = fill->waiters;
	pthread_mutex_unlock(&sh->lock);
	while (w) {
		struct cache_waiter *next = w->next;
		/* Out of memory: the waiter's own timer ends its wait; its
		 * record is lost rather than touched from this thread. */
		worker_post(w->worker, wake_on_worker, w);
		w = next;
	}
	free(fill);
}
