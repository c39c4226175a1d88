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

/* The object, its key, its host and the data it was sized for are one
 * block: a store that turns over thousands of objects a second then makes
 * one allocation per object, not four. Data that outgrows its room moves to
 * a block of its own (data_own). */
struct cache_object *cache_object_new(const char *key, size_t key_len, const char *host, size_t data_cap)
{
	size_t host_len = host ? strlen(host) : 0;
	size_t names = key_len + 1 + host_len + 1;
	if (key_len > SIZE_MAX / 4 || host_len > SIZE_MAX / 4 || data_cap > SIZE_MAX - sizeof(struct cache_object) - names)
		return NULL;
	struct cache_object *obj = malloc(sizeof *obj + names + data_cap);
	if (!obj)
		return NULL;
	memset(obj, 0, sizeof *obj);
	obj->key = (char *)(obj + 1);
	obj->host = obj->key + key_len + 1;
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
	obj->data = obj->host + host_len + 1;
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
		char *data;
		if (obj->data_own) {
			data = realloc(obj->data, cap);
		} else {
			data = malloc(cap);
			if (data)
				memcpy(data, obj->data, obj->data_len);
		}
		if (!data)
			return false;
		obj->data = data;
		obj->data_own = true;
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
	if (obj->data_own)
		free(obj->data);
	free(obj);
}

size_t cache_object_charge(const struct cache_object *obj)
{
	return obj->head_len + obj->body_len + obj->key_len + CACHE_OBJECT_OVERHEAD;
}
