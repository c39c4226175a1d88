/* Unit tests for cache_store: table, references, budget, S3-FIFO eviction
 * (scan resistance, ghosts, second chances), purges and a concurrency run. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_store.h"
#include "unit.h"

/* An object whose head is its key and whose body is body_len copies of fill. */
static struct cache_object *cs_make(const char *key, size_t key_len, const char *host, size_t body_len, char fill)
{
	struct cache_object *obj = cache_object_new(key, key_len, host, 0);
	if (!obj)
		return NULL;
	char chunk[512];
	memset(chunk, fill, sizeof chunk);
	bool ok = cache_object_append(obj, key, key_len);
	for (size_t left = body_len; ok && left > 0;) {
		size_t n = left < sizeof chunk ? left : sizeof chunk;
		ok = cache_object_append(obj, chunk, n);
		left -= n;
	}
	if (!ok) {
		cache_object_unref(obj);
		return NULL;
	}
	obj->head_len = key_len;
	obj->body_len = body_len;
	return obj;
}

static struct cache_object *cs_make_str(const char *key, const char *host, size_t body_len)
{
	return cs_make(key, strlen(key), host, body_len, 'x');
}

/* Inserts a fresh object and drops the caller's reference. */
static bool cs_put(struct cache_store *store, const char *key, size_t key_len, const char *host, size_t body_len)
{
	struct cache_object *obj = cs_make(key, key_len, host, body_len, 'x');
	if (!obj)
		return false;
	bool ok = cache_store_insert(store, obj);
	cache_object_unref(obj);
	return ok;
}

static bool cs_put_str(struct cache_store *store, const char *key, size_t body_len)
{
	return cs_put(store, key, strlen(key), "example.com", body_len);
}

static bool cs_has(struct cache_store *store, const char *key, size_t key_len)
{
	struct cache_object *obj = cache_store_lookup(store, key, key_len);
	cache_object_unref(obj);
	return obj != NULL;
}

/* The charge of an object with this key length and body length. */
static size_t cs_charge(size_t key_len, size_t body_len)
{
	return 2 * key_len + body_len + CACHE_OBJECT_OVERHEAD;
}

TEST(cache_store_hash_primary_part)
{
	CHECK(cache_key_hash("/a", 2) == cache_key_hash("/a\0gzip", 7));
	CHECK(cache_key_hash("/a\0br", 5) == cache_key_hash("/a\0gzip", 7));
	CHECK(cache_key_hash("/a", 2) != cache_key_hash("/b", 2));
	CHECK(cache_key_hash("", 0) == cache_key_hash("", 0));
	CHECK(cache_key_hash("", 0) != cache_key_hash("x", 1));
	/* Every byte of a long key matters, whatever its position. */
	char key[70];
	memset(key, 'k', sizeof key);
	uint64_t base = cache_key_hash(key, sizeof key);
	int same = 0;
	for (size_t i = 0; i < sizeof key; i++) {
		key[i] ^= 1;
		same += cache_key_hash(key, sizeof key) == base;
		key[i] ^= 1;
	}
	CHECK_EQ_INT(same, 0);
	/* Length is part of the hash even when the bytes pad with zeros. */
	for (size_t n = 1; n < 40; n++)
		same += cache_key_hash(key, n) == cache_key_hash(key, n + 1);
	CHECK_EQ_INT(same, 0);
}

TEST(cache_store_hash_spreads_keys)
{
	/* Both the low bits (buckets) and the top bits (shards) are used. */
	unsigned low[64] = { 0 }, high[64] = { 0 };
	for (int i = 0; i < 16384; i++) {
		char key[32];
		int n = snprintf(key, sizeof key, "/img/%d.png", i);
		uint64_t h = cache_key_hash(key, (size_t)n);
		low[h & 63]++;
		high[h >> 58]++;
	}
	unsigned max_low = 0, max_high = 0, min_low = ~0u;
	for (int i = 0; i < 64; i++) {
		max_low = low[i] > max_low ? low[i] : max_low;
		min_low = low[i] < min_low ? low[i] : min_low;
		max_high = high[i] > max_high ? high[i] : max_high;
	}
	/* The mean is 256 per slot. */
	CHECK(max_low < 360);
	CHECK(min_low > 160);
	CHECK(max_high < 360);
}

TEST(cache_store_object_append_grows)
{
	struct cache_object *obj = cache_object_new("/k", 2, "Example.COM", 4);
	REQUIRE(obj);
	CHECK_STR(obj->host, "example.com");
	CHECK_EQ_INT(obj->refs, 1);
	char buf[1000];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)(i * 7);
	for (size_t off = 0; off < sizeof buf; off += 100)
		REQUIRE(cache_object_append(obj, buf + off, 100));
	CHECK(obj->data_cap >= sizeof buf);
	CHECK_EQ_INT(obj->data_len, sizeof buf);
	CHECK(memcmp(obj->data, buf, sizeof buf) == 0);
	CHECK(cache_object_append(obj, buf, 0));
	cache_object_unref(obj);

	obj = cache_object_new("/n", 2, NULL, 0);
	REQUIRE(obj);
	CHECK_STR(obj->host, "");
	CHECK(cache_object_append(obj, "abc", 3));
	CHECK(memcmp(obj->data, "abc", 3) == 0);
	cache_object_unref(obj);
}

/* Key, host and the data the object was sized for share the object's
 * block; data that outgrows it moves out with its bytes, and the names stay. */
TEST(cache_store_object_one_block_until_grown)
{
	static const char key[] = "https\0/v\0accept=gzip";
	struct cache_object *obj = cache_object_new(key, sizeof key - 1, "Host.Test", 8);
	REQUIRE(obj);
	const char *block = (const char *)obj;
	CHECK(obj->key > block && obj->host > obj->key && obj->data > obj->host);
	CHECK_EQ_INT(obj->data + obj->data_cap - block, sizeof *obj + sizeof key + sizeof "host.test" + 8);
	CHECK_EQ_INT(obj->key_len, sizeof key - 1);
	CHECK(memcmp(obj->key, key, sizeof key - 1) == 0);
	CHECK_STR(obj->host, "host.test");
	REQUIRE(cache_object_append(obj, "12345678", 8));
	const char *inline_data = obj->data;
	CHECK_EQ_INT(obj->data_cap, 8);
	REQUIRE(cache_object_append(obj, "9", 1));
	CHECK(obj->data != inline_data);
	CHECK(obj->data_cap >= 9);
	CHECK(memcmp(obj->data, "123456789", 9) == 0);
	CHECK(memcmp(obj->key, key, sizeof key - 1) == 0);
	CHECK_STR(obj->host, "host.test");
	char more[5000];
	memset(more, 'x', sizeof more);
	REQUIRE(cache_object_append(obj, more, sizeof more));
	CHECK_EQ_INT(obj->data_len, 9 + sizeof more);
	CHECK(memcmp(obj->data, "123456789x", 10) == 0 && obj->data[obj->data_len - 1] == 'x');
	cache_object_unref(obj);
}

TEST(cache_store_insert_lookup)
{
	struct cache_store *store = cache_store_new(1 << 20, 4);
	REQUIRE(store);
	struct cache_object *obj = cs_make_str("/index.html", "example.com", 100);
	REQUIRE(obj);
	REQUIRE(cache_store_insert(store, obj));
	CHECK_EQ_INT(obj->refs, 2);
	CHECK(obj->linked);

	struct cache_object *got = cache_store_lookup(store, "/index.html", 11);
	CHECK(got == obj);
	CHECK_EQ_INT(obj->refs, 3);
	CHECK_EQ_INT(obj->freq, 1);
	cache_object_unref(got);
	CHECK(cache_store_lookup(store, "/index.htm", 10) == NULL);
	CHECK(cache_store_lookup(store, "/other", 6) == NULL);

	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 1);
	CHECK_EQ_INT(st.inserts, 1);
	CHECK_EQ_INT(st.bytes, cs_charge(11, 100));
	CHECK_EQ_INT(st.bytes, cache_object_charge(obj));
	CHECK_EQ_INT(st.max_bytes, 1 << 20);
	cache_object_unref(obj);
	cache_store_free(store);
}

TEST(cache_store_freq_saturates)
{
	struct cache_store *store = cache_store_new(1 << 20, 1);
	REQUIRE(store);
	REQUIRE(cs_put_str(store, "/f", 10));
	struct cache_object *obj = NULL;
	for (int i = 0; i < 10; i++) {
		cache_object_unref(obj);
		obj = cache_store_lookup(store, "/f", 2);
		REQUIRE(obj);
	}
	CHECK_EQ_INT(obj->freq, 3);
	cache_object_unref(obj);
	cache_store_free(store);
}

TEST(cache_store_replace_same_key)
{
	struct cache_store *store = cache_store_new(1 << 20, 2);
	REQUIRE(store);
	struct cache_object *a = cs_make("/r", 2, "example.com", 50, 'a');
	struct cache_object *b = cs_make("/r", 2, "example.com", 80, 'b');
	REQUIRE(a && b);
	REQUIRE(cache_store_insert(store, a));
	REQUIRE(cache_store_insert(store, b));
	CHECK(!a->linked);
	CHECK_EQ_INT(a->refs, 1); /* only ours */
	CHECK(a->data[2] == 'a');
	struct cache_object *got = cache_store_lookup(store, "/r", 2);
	CHECK(got == b);
	cache_object_unref(got);
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 1);
	CHECK_EQ_INT(st.inserts, 2);
	CHECK_EQ_INT(st.bytes, cs_charge(2, 80));
	CHECK_EQ_INT(st.evictions, 0);
	CHECK_EQ_INT(st.purged, 0);
	cache_object_unref(a);
	cache_object_unref(b);
	cache_store_free(store);
}

TEST(cache_store_refuses_reinsert_and_bad_lengths)
{
	struct cache_store *store = cache_store_new(1 << 20, 1);
	REQUIRE(store);
	struct cache_object *obj = cs_make_str("/once", "example.com", 10);
	REQUIRE(obj);
	REQUIRE(cache_store_insert(store, obj));
	CHECK(!cache_store_insert(store, obj));
	CHECK(!cache_object_append(obj, "more", 4)); /* immutable now */
	CHECK_EQ_INT(cache_store_remove_primary(store, "/once", 5), 1);
	CHECK(!cache_store_insert(store, obj));      /* even after removal */
	cache_object_unref(obj);

	obj = cache_object_new("/bad", 4, "example.com", 8);
	REQUIRE(obj);
	obj->head_len = 6;
	obj->body_len = 6; /* more than data_cap */
	CHECK(!cache_store_insert(store, obj));
	obj->body_len = SIZE_MAX; /* would overflow */
	CHECK(!cache_store_insert(store, obj));
	cache_object_unref(obj);

	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.inserts, 1);
	CHECK_EQ_INT(st.objects, 0);
	cache_store_free(store);
}

TEST(cache_store_variants_and_remove_primary)
{
	struct cache_store *store = cache_store_new(1 << 20, 8);
	REQUIRE(store);
	REQUIRE(cs_put(store, "/u", 2, "example.com", 10));
	REQUIRE(cs_put(store, "/u\0gzip", 7, "example.com", 10));
	REQUIRE(cs_put(store, "/u\0br", 5, "example.com", 10));
	REQUIRE(cs_put(store, "/ux", 3, "example.com", 10));
	REQUIRE(cs_put(store, "/ux\0gzip", 8, "example.com", 10));

	/* Lookup compares whole keys. */
	CHECK(cs_has(store, "/u\0gzip", 7));
	CHECK(!cs_has(store, "/u\0gzi", 6));
	CHECK(!cs_has(store, "/u\0zstd", 7));
	CHECK(cs_has(store, "/u", 2));

	CHECK_EQ_INT(cache_store_remove_primary(store, "/u", 2), 3);
	CHECK(!cs_has(store, "/u", 2));
	CHECK(!cs_has(store, "/u\0gzip", 7));
	CHECK(!cs_has(store, "/u\0br", 5));
	CHECK(cs_has(store, "/ux", 3));
	CHECK(cs_has(store, "/ux\0gzip", 8));
	CHECK_EQ_INT(cache_store_remove_primary(store, "/u", 2), 0);
	CHECK_EQ_INT(cache_store_remove_primary(store, "/nothing", 8), 0);

	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 2);
	CHECK_EQ_INT(st.purged, 3);
	CHECK_EQ_INT(st.bytes, cs_charge(3, 10) + cs_charge(8, 10));
	cache_store_free(store);
}

TEST(cache_store_purge_host)
{
	struct cache_store *store = cache_store_new(1 << 20, 4);
	REQUIRE(store);
	char key[32];
	for (int i = 0; i < 30; i++) {
		int n = snprintf(key, sizeof key, "/a/%d", i);
		REQUIRE(cs_put(store, key, (size_t)n, "Shop.Example.COM", 10));
		n = snprintf(key, sizeof key, "/b/%d", i);
		REQUIRE(cs_put(store, key, (size_t)n, "blog.example.com", 10));
	}
	CHECK_EQ_INT(cache_store_purge_host(store, "SHOP.example.com"), 30);
	CHECK_EQ_INT(cache_store_purge_host(store, "shop.example.com"), 0);
	CHECK_EQ_INT(cache_store_purge_host(store, "example.com"), 0);
	CHECK_EQ_INT(cache_store_purge_host(store, NULL), 0);
	CHECK(!cs_has(store, "/a/7", 4));
	CHECK(cs_has(store, "/b/7", 4));
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 30);
	CHECK_EQ_INT(st.purged, 30);
	cache_store_free(store);
}

TEST(cache_store_purge_all)
{
	struct cache_store *store = cache_store_new(1 << 20, 16);
	REQUIRE(store);
	char key[32];
	for (int i = 0; i < 200; i++) {
		int n = snprintf(key, sizeof key, "/p/%d", i);
		REQUIRE(cs_put(store, key, (size_t)n, i % 2 ? "a.test" : "b.test", 10));
	}
	struct cache_object *held = cache_store_lookup(store, "/p/3", 4);
	REQUIRE(held);
	CHECK_EQ_INT(cache_store_purge_all(store), 200);
	CHECK_EQ_INT(cache_store_purge_all(store), 0);
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 0);
	CHECK_EQ_INT(st.bytes, 0);
	CHECK_EQ_INT(st.purged, 200);
	CHECK(!cs_has(store, "/p/3", 4));
	CHECK(memcmp(held->data, "/p/3", 4) == 0);
	/* The store is usable after a purge. */
	CHECK(cs_put_str(store, "/p/3", 10));
	CHECK(cs_has(store, "/p/3", 4));
	cache_object_unref(held);
	cache_store_free(store);
}

TEST(cache_store_reader_keeps_removed_object)
{
	struct cache_store *store = cache_store_new(1 << 20, 2);
	REQUIRE(store);
	REQUIRE(cs_put_str(store, "/keep", 3000));
	struct cache_object *obj = cache_store_lookup(store, "/keep", 5);
	REQUIRE(obj);
	CHECK_EQ_INT(obj->refs, 2);
	CHECK_EQ_INT(cache_store_remove_primary(store, "/keep", 5), 1);
	CHECK_EQ_INT(obj->refs, 1);
	CHECK(!obj->linked);
	/* Still whole: ASan would report a use after free here. */
	CHECK(memcmp(obj->data, "/keep", 5) == 0);
	CHECK(obj->data[obj->head_len + obj->body_len - 1] == 'x');
	CHECK_STR(obj->key, "/keep");
	cache_object_unref(obj);
	cache_store_free(store);
}

TEST(cache_store_free_with_held_objects)
{
	struct cache_store *store = cache_store_new(1 << 20, 4);
	REQUIRE(store);
	REQUIRE(cs_put_str(store, "/held", 100));
	REQUIRE(cs_put_str(store, "/other", 100));
	struct cache_object *obj = cache_store_lookup(store, "/held", 5);
	REQUIRE(obj);
	cache_store_free(store);
	CHECK_EQ_INT(obj->refs, 1);
	CHECK(memcmp(obj->data, "/held", 5) == 0);
	cache_object_unref(obj);
	cache_store_free(NULL);
	cache_object_unref(NULL);
}

TEST(cache_store_shard_count_rounding)
{
	unsigned in[] = { 0, 1, 2, 3, 5, 16, 17, 64 };
	unsigned want[] = { 1, 1, 2, 4, 8, 16, 32, 64 };
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		struct cache_store *store = cache_store_new(1 << 20, in[i]);
		REQUIRE(store);
		CHECK_EQ_INT(cache_store_shard_count(store), want[i]);
		/* Every shard is reachable and works. */
		char key[32];
		for (int k = 0; k < 64; k++) {
			int n = snprintf(key, sizeof key, "/s/%d", k);
			CHECK(cs_put(store, key, (size_t)n, "h", 1));
		}
		struct cache_store_stats st;
		cache_store_stats(store, &st);
		CHECK_EQ_INT(st.objects, 64);
		cache_store_free(store);
	}
}

TEST(cache_store_table_grows)
{
	struct cache_store *store = cache_store_new((size_t)64 << 20, 1);
	REQUIRE(store);
	char key[32];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof key, "/grow/%d", i);
		REQUIRE(cs_put(store, key, (size_t)n, "h", 0));
	}
	int found = 0;
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof key, "/grow/%d", i);
		found += cs_has(store, key, (size_t)n);
	}
	CHECK_EQ_INT(found, 5000);
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 5000);
	CHECK_EQ_INT(st.evictions, 0);
	cache_store_free(store);
}

TEST(cache_store_refuses_object_over_shard_budget)
{
	/* 4 shards of 25000 bytes each. */
	struct cache_store *store = cache_store_new(100000, 4);
	REQUIRE(store);
	struct cache_object *big = cs_make_str("/big", "h", 30000);
	REQUIRE(big);
	CHECK(!cache_store_insert(store, big));
	CHECK(!big->linked);
	CHECK_EQ_INT(big->refs, 1);
	cache_object_unref(big);
	CHECK(!cs_has(store, "/big", 4));

	/* Exactly the shard budget fits. */
	size_t body = 25000 - cs_charge(4, 0);
	REQUIRE(cs_put_str(store, "/fit", body));
	CHECK(cs_has(store, "/fit", 4));
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.inserts, 1);
	CHECK_EQ_INT(st.bytes, 25000);
	cache_store_free(store);

	/* A budget smaller than the shard count leaves no room at all. */
	store = cache_store_new(3, 4);
	REQUIRE(store);
	CHECK(!cs_put_str(store, "/x", 0));
	cache_store_free(store);
}

TEST(cache_store_budget_respected)
{
	const size_t max = 1 << 20;
	struct cache_store *store = cache_store_new(max, 8);
	REQUIRE(store);
	uint64_t rng = 88172645463325252ULL;
	char key[32];
	int refused = 0;
	struct cache_store_stats st;
	for (int i = 0; i < 3000; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		int n = snprintf(key, sizeof key, "/b/%d", (int)(rng % 2000));
		if (!cs_put(store, key, (size_t)n, "h", (size_t)(rng >> 40) % 20000))
			refused++;
		cache_store_stats(store, &st);
		if (st.bytes > max) {
			CHECK(st.bytes <= max);
			break;
		}
	}
	CHECK_EQ_INT(refused, 0);
	CHECK(st.evictions > 0);
	CHECK(st.bytes > max / 2); /* and the budget is used */
	cache_store_free(store);
}

TEST(cache_store_eviction_count)
{
	struct cache_store *store = cache_store_new(200000, 4);
	REQUIRE(store);
	char key[32];
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof key, "/e/%04d", i);
		REQUIRE(cs_put(store, key, (size_t)n, "h", 500));
	}
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.inserts, 1000);
	CHECK(st.evictions > 0);
	CHECK_EQ_INT(st.evictions, st.inserts - st.objects);
	CHECK_EQ_INT(st.bytes, st.objects * cs_charge(7, 500));
	int present = 0;
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof key, "/e/%04d", i);
		present += cs_has(store, key, (size_t)n);
	}
	CHECK_EQ_INT(present, st.objects);
	cache_store_free(store);
}

/* A one-shard store that holds exactly `fit` objects of key length 4 and
 * body 100. */
static struct cache_store *cs_store_fitting(size_t fit)
{
	return cache_store_new(fit * cs_charge(4, 100), 1);
}

TEST(cache_store_small_fifo_evicts_oldest_unhit)
{
	struct cache_store *store = cs_store_fitting(100);
	REQUIRE(store);
	char key[16];
	for (int i = 0; i < 120; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		REQUIRE(cs_put(store, key, 4, "h", 100));
	}
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 100);
	CHECK_EQ_INT(st.evictions, 20);
	/* FIFO order: the first 20 went. */
	for (int i = 0; i < 120; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		CHECK(cs_has(store, key, 4) == (i >= 20));
	}
	cache_store_free(store);
}

TEST(cache_store_ghost_hit_goes_to_main)
{
	struct cache_store *store = cs_store_fitting(100);
	REQUIRE(store);
	char key[16];
	for (int i = 0; i < 120; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		REQUIRE(cs_put(store, key, 4, "h", 100));
	}
	REQUIRE(!cs_has(store, "k000", 4));
	/* k000 was evicted from small: back soon, it goes straight to main. */
	struct cache_object *obj = cs_make_str("k000", "h", 100);
	REQUIRE(obj);
	REQUIRE(cache_store_insert(store, obj));
	CHECK_EQ_INT(obj->queue, CACHE_QUEUE_MAIN);
	/* The ghost entry was consumed by that. */
	CHECK_EQ_INT(cache_store_remove_primary(store, "k000", 4), 1);
	cache_object_unref(obj);
	obj = cs_make_str("k000", "h", 100);
	REQUIRE(obj);
	REQUIRE(cache_store_insert(store, obj));
	CHECK_EQ_INT(obj->queue, CACHE_QUEUE_SMALL);
	cache_object_unref(obj);

	/* A key never seen starts in small. */
	obj = cs_make_str("n000", "h", 100);
	REQUIRE(obj);
	REQUIRE(cache_store_insert(store, obj));
	CHECK_EQ_INT(obj->queue, CACHE_QUEUE_SMALL);
	cache_object_unref(obj);

	/* A replacement keeps its predecessor's queue. */
	REQUIRE(!cs_has(store, "k001", 4));
	REQUIRE(cs_put_str(store, "k001", 100));
	obj = cs_make_str("k001", "h", 100);
	REQUIRE(obj);
	REQUIRE(cache_store_insert(store, obj));
	CHECK_EQ_INT(obj->queue, CACHE_QUEUE_MAIN);
	cache_object_unref(obj);
	cache_store_free(store);
}

TEST(cache_store_hit_in_small_promotes)
{
	struct cache_store *store = cs_store_fitting(100);
	REQUIRE(store);
	char key[16];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		REQUIRE(cs_put(store, key, 4, "h", 100));
	}
	REQUIRE(cs_has(store, "k000", 4)); /* a hit: freq 1 */
	REQUIRE(cs_put(store, "k100", 4, "h", 100));
	/* k000 got a second chance in main; k001 was the one evicted. */
	struct cache_object *obj = cache_store_lookup(store, "k000", 4);
	REQUIRE(obj);
	CHECK_EQ_INT(obj->queue, CACHE_QUEUE_MAIN);
	cache_object_unref(obj);
	CHECK(!cs_has(store, "k001", 4));
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.evictions, 1);
	cache_store_free(store);
}

TEST(cache_store_main_second_chance)
{
	/* Ten objects fit; small's target is one object. */
	struct cache_store *store = cache_store_new(10 * cs_charge(2, 100), 1);
	REQUIRE(store);
	char key[16];
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "a%d", i);
		REQUIRE(cs_put(store, key, 2, "h", 100));
		REQUIRE(cs_has(store, key, 2));
	}
	/* All a* were hit: b0 moves them to main, then evicts main's tail a0. */
	REQUIRE(cs_put(store, "b0", 2, "h", 100));
	CHECK(!cs_has(store, "a0", 2));
	CHECK(cs_has(store, "a1", 2)); /* a1: freq 1 in main */
	CHECK(cs_has(store, "b0", 2)); /* b0: freq 1 in small */
	/* b1 pushes b0 to main (hit), then main's tail a1 has credit and goes
	 * round again; a2 (freq 0) is evicted instead. */
	REQUIRE(cs_put(store, "b1", 2, "h", 100));
	CHECK(cs_has(store, "a1", 2));
	CHECK(!cs_has(store, "a2", 2));
	CHECK(cs_has(store, "a3", 2));
	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.evictions, 2);
	CHECK_EQ_INT(st.objects, 10);
	cache_store_free(store);
}

TEST(cache_store_scan_resistance)
{
	/* 1000 objects fit; 300 popular ones are read often, then a scan of
	 * 6000 one-hit objects (six times the cache) streams through. An LRU
	 * would keep none of the popular set; S3-FIFO keeps one-hit objects in
	 * the small queue and evicts them from there. */
	struct cache_store *store = cache_store_new(1000 * cs_charge(8, 1000), 1);
	REQUIRE(store);
	const size_t max = 1000 * cs_charge(8, 1000);
	char key[16];
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "pop%05d", i);
		REQUIRE(cs_put(store, key, 8, "h", 1000));
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 300; i++) {
			snprintf(key, sizeof key, "pop%05d", i);
			CHECK(cs_has(store, key, 8));
		}
	}
	struct cache_store_stats st;
	for (int i = 0; i < 6000; i++) {
		snprintf(key, sizeof key, "scn%05d", i);
		REQUIRE(cs_put(store, key, 8, "h", 1000));
		if (i % 20 == 0) {
			/* The working set stays in use, slowly. */
			snprintf(key, sizeof key, "pop%05d", (i / 20) % 300);
			cs_has(store, key, 8);
			cache_store_stats(store, &st);
			CHECK(st.bytes <= max);
		}
	}
	int kept = 0;
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "pop%05d", i);
		kept += cs_has(store, key, 8);
	}
	CHECK(kept >= 240);
	cache_store_stats(store, &st);
	CHECK(st.bytes <= max);
	CHECK_EQ_INT(st.evictions, st.inserts - st.objects);
	cache_store_free(store);
}

/* The concurrency run: threads insert, read, remove and purge over a shared
 * key space in a store small enough to evict all the time. */
#define CS_THREADS 4
#define CS_OPS 40000
#define CS_KEYS 3000

struct cs_worker {
	struct cache_store *store;
	uint64_t rng;
	uint64_t inserts;
	int bad;
};

static uint64_t cs_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Key i, variant v (0: none); returns its length. */
static size_t cs_key(char *buf, size_t cap, unsigned i, unsigned v)
{
	int n = snprintf(buf, cap, "/c/%u", i);
	if (v)
		n += 1 + snprintf(buf + n + 1, cap - (size_t)n - 1, "v%u", v);
	return (size_t)n;
}

/* An object must still hold what its writer put in: its key, then a body of
 * one repeated byte. */
static bool cs_intact(const struct cache_object *obj)
{
	if (obj->head_len != obj->key_len || memcmp(obj->data, obj->key, obj->key_len) != 0)
		return false;
	const char *body = obj->data + obj->head_len;
	for (size_t i = 0; i < obj->body_len; i++)
		if (body[i] != body[0])
			return false;
	return true;
}

static void *cs_worker_run(void *arg)
{
	struct cs_worker *w = arg;
	static const char *hosts[] = { "a.test", "B.test", "c.test" };
	struct cache_object *held = NULL;
	char key[48];
	for (int op = 0; op < CS_OPS; op++) {
		uint64_t r = cs_next(&w->rng);
		unsigned i = (unsigned)(r >> 8) % CS_KEYS, v = (unsigned)(r >> 24) % 3;
		size_t len = cs_key(key, sizeof key, i, v);
		unsigned pick = (unsigned)(r % 100);
		if (pick < 55) {
			struct cache_object *obj = cache_store_lookup(w->store, key, len);
			if (obj) {
				w->bad += !cs_intact(obj) || obj->key_len != len;
				/* Sometimes keep it across later operations. */
				cache_object_unref(held);
				held = obj;
			}
		} else if (pick < 90) {
			struct cache_object *obj =
				cs_make(key, len, hosts[i % 3], (size_t)(r >> 32) % 3000, (char)('a' + op % 26));
			if (!obj) {
				w->bad++;
				continue;
			}
			w->inserts += cache_store_insert(w->store, obj);
			cache_object_unref(obj);
		} else if (pick < 99) {
			cache_store_remove_primary(w->store, key, len);
		} else {
			cache_store_purge_host(w->store, "b.TEST");
		}
		if (held && op % 7 == 0) {
			w->bad += !cs_intact(held);
			cache_object_unref(held);
			held = NULL;
		}
	}
	if (held) {
		w->bad += !cs_intact(held);
		cache_object_unref(held);
	}
	return NULL;
}

TEST(cache_store_concurrent)
{
	const size_t max = 2 << 20;
	struct cache_store *store = cache_store_new(max, 8);
	REQUIRE(store);
	struct cs_worker w[CS_THREADS];
	pthread_t tid[CS_THREADS];
	for (int t = 0; t < CS_THREADS; t++) {
		w[t] = (struct cs_worker){ store, 0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1), 0, 0 };
		REQUIRE(pthread_create(&tid[t], NULL, cs_worker_run, &w[t]) == 0);
	}
	uint64_t inserts = 0;
	int bad = 0;
	for (int t = 0; t < CS_THREADS; t++) {
		pthread_join(tid[t], NULL);
		inserts += w[t].inserts;
		bad += w[t].bad;
	}
	CHECK_EQ_INT(bad, 0);

	struct cache_store_stats st;
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.inserts, inserts);
	CHECK(st.bytes <= max);
	CHECK(st.evictions > 0);
	CHECK(st.purged > 0);
	/* What the stats count is exactly what lookups find. */
	uint64_t objects = 0, bytes = 0;
	char key[48];
	for (unsigned i = 0; i < CS_KEYS; i++) {
		for (unsigned v = 0; v < 3; v++) {
			size_t len = cs_key(key, sizeof key, i, v);
			struct cache_object *obj = cache_store_lookup(store, key, len);
			if (obj) {
				objects++;
				bytes += obj->charge;
				CHECK(cs_intact(obj));
				cache_object_unref(obj);
			}
		}
	}
	CHECK_EQ_INT(st.objects, objects);
	CHECK_EQ_INT(st.bytes, bytes);
	CHECK_EQ_INT(cache_store_purge_all(store), objects);
	cache_store_stats(store, &st);
	CHECK_EQ_INT(st.objects, 0);
	CHECK_EQ_INT(st.bytes, 0);
	cache_store_free(store);
}
