/*
 * Unit tests for the variable-time modular inverse (src/tls/inverse_mod.c):
 * every answer equals BN_mod_inverse's, for the P-256 order and field
 * prime, at the edges (1, 2, m-1, m-2, single bits, small numbers) and for
 * random numbers of every length.
 */
#include "unit.h"

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <stdbool.h>

#include "tls/inverse_mod.h"

static const u256 p256_order = {0xf3b9cac2fc632551ULL, 0xbce6faada7179e84ULL, 0xffffffffffffffffULL,
                                0xffffffff00000000ULL};
static const u256 p256_prime = {0xffffffffffffffffULL, 0x00000000ffffffffULL, 0, 0xffffffff00000001ULL};

static void u256_to_bignum(BIGNUM *bn, const u256 a)
{
	unsigned char be[32];
	for (int i = 0; i < 32; i++)
		be[31 - i] = (unsigned char)(a[i / 8] >> (8 * (i % 8)));
	BN_bin2bn(be, sizeof be, bn);
}

static bool u256_is_zero(const u256 a)
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/* a mod m by subtraction, for a < 2m. */
static void reduce_once(u256 a, const u256 m)
{
	for (int i = 3; i >= 0; i--) {
		if (a[i] != m[i]) {
			if (a[i] < m[i])
				return;
			break;
		}
	}
	uint64_t borrow = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t d = a[i] - m[i] - borrow;
		borrow = (a[i] < m[i]) | ((a[i] == m[i]) & borrow);
		a[i] = d;
	}
}

/* Inputs number k of the set: edges first, then random of varying length. */
static bool input(u256 a, int k, const u256 m)
{
	memset(a, 0, sizeof(u256));
	if (k < 64) {
		a[0] = (uint64_t)k + 1;
	} else if (k < 128) { /* m - 1 ... m - 64 */
		uint64_t borrow = (uint64_t)(k - 63);
		for (int i = 0; i < 4; i++) {
			a[i] = m[i] - borrow;
			borrow = m[i] < borrow;
		}
	} else if (k < 384) { /* single bits */
		a[(k - 128) / 64] = UINT64_C(1) << ((k - 128) % 64);
	} else {
		if (RAND_bytes((unsigned char *)a, sizeof(u256)) != 1)
			return false;
		int bits = 1 + k % 256; /* keep the low bits only */
		for (int i = 0; i < 4; i++) {
			int keep = bits - 64 * i;
			a[i] = keep <= 0 ? 0 : keep >= 64 ? a[i] : a[i] & ((UINT64_C(1) << keep) - 1);
		}
	}
	reduce_once(a, m);
	return true;
}

static int mismatches(const u256 m, int count)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *bm = BN_new(), *ba = BN_new(), *want = BN_new(), *got = BN_new();
	int bad = 0;
	if (!ctx || !bm || !ba || !want || !got)
		bad = -1;
	u256_to_bignum(bm, m);
	for (int k = 0; bad >= 0 && k < count; k++) {
		u256 a, inv;
		if (!input(a, k, m)) {
			bad = -1;
			break;
		}
		if (u256_is_zero(a))
			continue;
		inverse_mod_var(inv, a, m);
		u256_to_bignum(ba, a);
		u256_to_bignum(got, inv);
		if (!BN_mod_inverse(want, ba, bm, ctx) || BN_cmp(want, got) != 0)
			bad++;
	}
	BN_free(got);
	BN_free(want);
	BN_free(ba);
	BN_free(bm);
	BN_CTX_free(ctx);
	return bad;
}

TEST(inverse_mod_matches_bn_for_the_p256_order)
{
	CHECK_EQ_INT(mismatches(p256_order, 20000), 0);
}

TEST(inverse_mod_matches_bn_for_the_p256_prime)
{
	CHECK_EQ_INT(mismatches(p256_prime, 20000), 0);
}

TEST(inverse_mod_of_one_and_minus_one)
{
	u256 one = {1}, minus_one, inv;
	memcpy(minus_one, p256_order, sizeof minus_one);
	minus_one[0] -= 1;
	inverse_mod_var(inv, one, p256_order);
	CHECK(memcmp(inv, one, sizeof inv) == 0);
	inverse_mod_var(inv, minus_one, p256_order);
	CHECK(memcmp(inv, minus_one, sizeof inv) == 0);
}
