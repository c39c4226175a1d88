/* Unit tests for cache_fill: leading, and the marks that stop collapsing
 * for a key whose responses cannot be stored. */
#include "unit.h"

#include "cache/cache_fill.h"

static enum cache_fill_role join_and_finish(struct cache_fills *fs, const char *key, int64_t now)
{
	struct cache_waiter w = { 0 };
	struct cache_fill *fill = NULL;
	enum cache_fill_role role = cache_fill_join(fs, key, strlen(key), now, &w, &fill);
	if (role == CACHE_FILL_LEADER)
		CHECK(fill != NULL);
	else
		CHECK(fill == NULL);
	cache_fill_finish(fs, fill);
	return role;
}

TEST(cache_fill_uncacheable_mark)
{
	struct cache_fills *fs = cache_fills_new(4);
	REQUIRE(fs);
	const int64_t t = 1000000;

	CHECK_EQ_INT(join_and_finish(fs, "https://a.test/x", t), CACHE_FILL_LEADER);
	cache_fill_mark_uncacheable(fs, "https://a.test/x", 16, t);
	CHECK_EQ_INT(join_and_finish(fs, "https://a.test/x", t), CACHE_FILL_UNCACHEABLE);
	CHECK_EQ_INT(join_and_finish(fs, "https://a.test/x", t + CACHE_FILL_UNCACHEABLE_SECONDS - 1),
		     CACHE_FILL_UNCACHEABLE);
	/* Another key is not affected. */
	CHECK_EQ_INT(join_and_finish(fs, "https://a.test/y", t), CACHE_FILL_LEADER);
	/* The mark expires. */
	CHECK_EQ_INT(join_and_finish(fs, "https://a.test/x", t + CACHE_FILL_UNCACHEABLE_SECONDS),
		     CACHE_FILL_LEADER);
	/* A stored response ends it early. */
	cache_fill_mark_uncacheable(fs, "https://a.test/x", 16, t);
	cache_fill_clear_uncacheable(fs, "https://a.test/x", 16);
	CHECK_EQ_INT(join_and_finish(fs, "https://a.test/x", t), CACHE_FILL_LEADER);
	cache_fills_free(fs);
}

TEST(cache_fill_mark_renews_and_leading_unchanged)
{
	struct cache_fills *fs = cache_fills_new(1);
	REQUIRE(fs);
	const int64_t t = 1000000;
	cache_fill_mark_uncacheable(fs, "k", 1, t);
	cache_fill_mark_uncacheable(fs, "k", 1, t + 100); /* renewed, not a second slot */
	CHECK_EQ_INT(join_and_finish(fs, "k", t + CACHE_FILL_UNCACHEABLE_SECONDS + 50),
		     CACHE_FILL_UNCACHEABLE);
	/* An unmarked key still has one leader at a time. */
	struct cache_waiter w = { 0 };
	struct cache_fill *f1 = NULL, *f2 = NULL;
	CHECK_EQ_INT(cache_fill_join(fs, "m", 1, t, &w, &f1), CACHE_FILL_LEADER);
	CHECK(f1 != NULL);
	CHECK(!cache_fill_try_lead(fs, "m", 1, &f2));
	CHECK(f2 == NULL);
	cache_fill_finish(fs, f1);
	CHECK(cache_fill_try_lead(fs, "m", 1, &f2));
	cache_fill_finish(fs, f2);
	cache_fills_free(fs);
}

TEST(cache_fill_marks_bounded_oldest_goes)
{
	/* One shard: eight slots. Nine marks, each later than the last: the
	 * first one made room for the ninth. */
	struct cache_fills *fs = cache_fills_new(1);
	REQUIRE(fs);
	const int64_t t = 1000000;
	char key[16];
	for (int i = 0; i < 9; i++) {
		snprintf(key, sizeof key, "k%d", i);
		cache_fill_mark_uncacheable(fs, key, strlen(key), t + i);
	}
	CHECK_EQ_INT(join_and_finish(fs, "k0", t + 9), CACHE_FILL_LEADER);
	CHECK_EQ_INT(join_and_finish(fs, "k1", t + 9), CACHE_FILL_UNCACHEABLE);
	CHECK_EQ_INT(join_and_finish(fs, "k8", t + 9), CACHE_FILL_UNCACHEABLE);
	cache_fills_free(fs);
}
