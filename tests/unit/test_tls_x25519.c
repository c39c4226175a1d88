/*
 * Unit tests for src/tls/x25519.c and src/tls/x25519_pool.c: RFC 7748's
 * key pairs, the same public key as OpenSSL's for random and extreme
 * private keys and for every batch size, and the pool's pairs: whole,
 * never repeated, not shared with a forked child.
 */
#include "unit.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tls/x25519.h"
#include "tls/x25519_pool.h"

static void from_hex(uint8_t out[32], const char *hex)
{
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* OpenSSL's public key of priv. */
static bool openssl_public(uint8_t pub[32], const uint8_t priv[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t len = 32;
	bool ok = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32;
	EVP_PKEY_free(k);
	return ok;
}

TEST(x25519_rfc7748_public_keys)
{
	uint8_t a[32], b[32], a_pub[32], b_pub[32], want[32];
	from_hex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	from_hex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	REQUIRE(x25519_public_key(a_pub, a));
	REQUIRE(x25519_public_key(b_pub, b));
	from_hex(want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	CHECK(memcmp(a_pub, want, 32) == 0);
	from_hex(want, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	CHECK(memcmp(b_pub, want, 32) == 0);
}

/* The fixed-base public key equals OpenSSL's for random keys, including
 * keys whose digits hit every table column and sign. */
TEST(x25519_public_key_matches_openssl)
{
	uint8_t priv[32], ours[32], theirs[32];
	int mismatches = 0;
	for (int i = 0; i < 2000; i++) {
		REQUIRE(RAND_bytes(priv, 32) == 1);
		if (i == 0)
			memset(priv, 0, 32); /* clamped: 2^254 */
		if (i == 1)
			memset(priv, 0xff, 32);
		if (i == 2)
			memset(priv, 0x88, 32); /* every digit 8: carries all the way */
		REQUIRE(x25519_public_key(ours, priv));
		REQUIRE(openssl_public(theirs, priv));
		mismatches += memcmp(ours, theirs, 32) != 0;
	}
	CHECK_EQ_INT(mismatches, 0);
}

/* Keys computed together (one inversion for all) equal OpenSSL's, for
 * every batch size. */
TEST(x25519_public_keys_in_batches_match_openssl)
{
	uint8_t priv[X25519_BATCH_MAX][32], ours[X25519_BATCH_MAX][32], theirs[32];
	int mismatches = 0;
	for (size_t n = 1; n <= X25519_BATCH_MAX; n++) {
		REQUIRE(RAND_bytes(&priv[0][0], sizeof priv) == 1);
		REQUIRE(x25519_public_keys(ours, (const uint8_t(*)[32])priv, n));
		for (size_t i = 0; i < n; i++) {
			REQUIRE(openssl_public(theirs, priv[i]));
			mismatches += memcmp(ours[i], theirs, 32) != 0;
		}
	}
	CHECK_EQ_INT(mismatches, 0);
	CHECK(!x25519_public_keys(ours, (const uint8_t(*)[32])priv, 0));
	CHECK(!x25519_public_keys(ours, (const uint8_t(*)[32])priv, X25519_BATCH_MAX + 1));
}

/* The pool hands out pairs that belong together, across its batches, and
 * never the same pair twice. */
TEST(x25519_pool_pairs_are_pairs_and_new)
{
	enum { PAIRS = 3 * X25519_POOL_BATCH + 3 };
	uint8_t priv[PAIRS][32], pub[PAIRS][32], theirs[32];
	int mismatches = 0, repeats = 0;
	for (int i = 0; i < PAIRS; i++) {
		REQUIRE(x25519_pool_take(priv[i], pub[i]));
		REQUIRE(openssl_public(theirs, priv[i]));
		mismatches += memcmp(pub[i], theirs, 32) != 0;
		for (int j = 0; j < i; j++)
			repeats += memcmp(priv[i], priv[j], 32) == 0;
	}
	CHECK_EQ_INT(mismatches, 0);
	CHECK_EQ_INT(repeats, 0);
}

/* A forked child does not hand out the pairs left in the batch it
 * inherited: its next pair differs from the parent's next one. */
TEST(x25519_pool_fork_does_not_share_pairs)
{
	uint8_t priv[32], pub[32], parent_next[32], child_next[32];
	REQUIRE(x25519_pool_take(priv, pub)); /* a batch with pairs left */
	int fds[2];
	REQUIRE(pipe(fds) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		bool ok = x25519_pool_take(child_next, pub);
		ssize_t n = ok ? write(fds[1], child_next, sizeof child_next) : -1;
		_exit(n == (ssize_t)sizeof child_next ? 0 : 1);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < sizeof child_next) {
		ssize_t n = read(fds[0], child_next + got, sizeof child_next - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	REQUIRE(got == sizeof child_next);
	REQUIRE(x25519_pool_take(parent_next, pub));
	CHECK(memcmp(parent_next, child_next, 32) != 0);
}
