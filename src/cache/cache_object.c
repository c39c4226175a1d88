/*
 * cache_object: one stored response — its key, its host (for purges) and its
 * bytes — and the reference count that lets a reader keep an object after
 * the store has dropped it. An object is built by one thread (new, append),
 * then inserted, after which it is immutable and shared.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_store.h"

/* The first allocation for data when none was asked for. */
#define OBJECT_DATA_MIN 256

struct cache_object *cache_object_new(const char *key, size_t key_len, const char *host, size_t data_cap)
{
	struct cache_object *obj = calloc(1, sizeof *obj);
	if (!obj)
		return NULL;
	size_t host_len = host ? strlen(host) : 0;
	obj->key = malloc(key_len + 1);
	obj->host = malloc(host_len + 1);
	obj->data = data_cap ? malloc(data_cap) : NULL;
	if (!obj->key || !obj->host || (data_cap && !obj->data)) {
		free(obj->key);
		free(obj->host);
		free(obj->data);
		free(obj);
		return NULL;
	}
	/* Keys may hold a NUL (primary\0secondary); the terminator is a
	 * convenience for printing the primary part. */
	memcpy(obj->key, key, key_len);
	obj->key[key_len] = '\0';
	obj->key_len = key_len;
	for (size_t i = 0; i < host_len; i++) {
		char c = host[i];
		obj->host[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	obj->host[host_len] = '\0';
	obj->data_cap = data_cap;
	obj->hash = cache_key_hash(key, key_len);
	obj->refs = 1;
	return obj;
}

bool cache_object_append(struct cache_object *obj, const void *p, size_t n)
{
	if (obj->sealed)
		return false;
	if (n == 0)
		return true;
	if (n > SIZE_MAX - obj->data_len)
		return false;
	size_t need = obj->data_len + n;
	if (need > obj->data_cap) {
		size_t cap = obj->data_cap ? obj->data_cap : OBJECT_DATA_MIN;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		char *data = realloc(obj->data, cap);
		if (!data)
			return false;
		obj->data = data;
		obj->data_cap = cap;
	}
	memcpy(obj->data + obj->data_len, p, n);
	obj->data_len = need;
	return true;
}

void cache_object_ref(struct cache_object *obj)
{
	/* Relaxed: a new reference is only ever taken from an existing one. */
	__atomic_add_fetch(&obj->refs, 1, __ATOMIC_RELAXED);
}

void cache_object_unref(struct cache_object *obj)
{
	if (!obj)
		return;
	/* Release our writes to the object; the last dropper acquires all of
	 * them before freeing. */
	if (__atomic_sub_fetch(&obj->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(obj->key);
	free(obj->host);
	free(obj->data);
	free(obj);
}

size_t cache_object_charge(const struct cache_object *obj)
{
	return obj->head_len + obj->body_len + obj->key_len + CACHE_OBJECT_OVERHEAD;
}
