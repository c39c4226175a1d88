/*
 * Unit tests for fixed-base ECDSA verification (src/tls/fixed_base_verify.c):
 * every answer equals OpenSSL's own for the same key, signature and digest,
 * before and after the key's table exists.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY, ECDSA_do_verify */
#include "unit.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "tls/fixed_base_verify.h"
#include "tls/key_decode.h"

/* A fresh P-256 key pair (OpenSSL's own method). */
static EC_KEY *p256_pair(void)
{
	EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	if (k && EC_KEY_generate_key(k) == 1)
		return k;
	EC_KEY_free(k);
	return NULL;
}

/* Its public half, as a key nobody else holds, with the method attached. */
static EC_KEY *public_attached(const EC_KEY *pair)
{
	EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	if (!k || EC_KEY_set_public_key(k, EC_KEY_get0_public_key(pair)) != 1 ||
	    !fixed_base_verify_attach(k)) {
		EC_KEY_free(k);
		return NULL;
	}
	return k;
}

static void counts(unsigned *tables, unsigned long long *fast)
{
	fixed_base_verify_counts(tables, fast);
}

/* ECDSA_do_verify's answer with OpenSSL's own method on pair's public key. */
static int builtin_answer(const unsigned char *dgst, int len, const ECDSA_SIG *sig, const EC_KEY *pair)
{
	EC_KEY *k = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	int r = k && EC_KEY_set_public_key(k, EC_KEY_get0_public_key(pair)) == 1
			? ECDSA_do_verify(dgst, len, sig, k)
			: -2;
	EC_KEY_free(k);
	ERR_clear_error();
	return r;
}

/* Makes key hot: enough verifications for its table to be built. */
static void warm(EC_KEY *key, const EC_KEY *pair)
{
	unsigned char d[32] = { 1 };
	ECDSA_SIG *sig = ECDSA_do_sign(d, sizeof d, (EC_KEY *)pair);
	for (int i = 0; sig && i < FIXED_BASE_VERIFY_AFTER + 1; i++)
		CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, sig, key), 1);
	ECDSA_SIG_free(sig);
}

TEST(fixed_base_verify_builds_a_table_and_answers_as_openssl)
{
	EC_KEY *pair = p256_pair();
	REQUIRE(pair);
	EC_KEY *key = public_attached(pair);
	REQUIRE(key);
	unsigned t0, t1;
	unsigned long long f0, f1;
	counts(&t0, &f0);
	warm(key, pair);
	counts(&t1, &f1);
	CHECK_EQ_INT(t1, t0 + 1);
	CHECK(f1 > f0);

	/* Digests of every length TLS signs with, truncated to the order
	 * when longer; good signatures, and each of them altered. */
	static const int lens[] = { 20, 28, 32, 48, 64, 1, 0 };
	int answered_fast = 0;
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (int round = 0; round < 8; round++) {
			unsigned char d[64];
			REQUIRE(RAND_bytes(d, sizeof d) == 1);
			ECDSA_SIG *sig = ECDSA_do_sign(d, lens[i], pair);
			REQUIRE(sig);
			unsigned long long before;
			counts(&t1, &before);
			CHECK_EQ_INT(ECDSA_do_verify(d, lens[i], sig, key), 1);
			counts(&t1, &f1);
			answered_fast += f1 > before;
			/* Another digest: refused by both. */
			unsigned char other[64];
			memcpy(other, d, sizeof other);
			other[lens[i] ? lens[i] - 1 : 0] ^= 0x40;
			if (lens[i])
				CHECK_EQ_INT(ECDSA_do_verify(other, lens[i], sig, key),
					     builtin_answer(other, lens[i], sig, pair));
			/* r + 1, s + 1: refused by both. */
			const BIGNUM *r, *s;
			ECDSA_SIG_get0(sig, &r, &s);
			BIGNUM *r1 = BN_dup(r), *s1 = BN_dup(s);
			REQUIRE(r1 && s1 && BN_add_word(r1, 1) == 1);
			ECDSA_SIG *bad = ECDSA_SIG_new();
			REQUIRE(bad && ECDSA_SIG_set0(bad, r1, s1) == 1);
			CHECK_EQ_INT(ECDSA_do_verify(d, lens[i], bad, key), 0);
			CHECK_EQ_INT(builtin_answer(d, lens[i], bad, pair), 0);
			ECDSA_SIG_free(bad);
			ECDSA_SIG_free(sig);
		}
	}
	/* Every good signature went through the table. */
	CHECK_EQ_INT(answered_fast, (int)(8 * sizeof lens / sizeof lens[0]));
	ERR_clear_error();
	EC_KEY_free(key);
	unsigned t2;
	counts(&t2, &f1);
	CHECK_EQ_INT(t2, t0); /* the table went with its key */
	EC_KEY_free(pair);
}

/* r and s outside [1, n-1], and a signature of another key. */
TEST(fixed_base_verify_refuses_out_of_range_values)
{
	EC_KEY *pair = p256_pair(), *stranger = p256_pair();
	REQUIRE(pair && stranger);
	EC_KEY *key = public_attached(pair);
	REQUIRE(key);
	warm(key, pair);
	const BIGNUM *n = EC_GROUP_get0_order(EC_KEY_get0_group(pair));
	unsigned char d[32];
	REQUIRE(RAND_bytes(d, sizeof d) == 1);
	ECDSA_SIG *good = ECDSA_do_sign(d, sizeof d, pair);
	REQUIRE(good);
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(good, &r, &s);
	BIGNUM *zero = BN_new(), *n_minus_1 = BN_dup(n);
	REQUIRE(zero && n_minus_1 && BN_sub_word(n_minus_1, 1) == 1);
	BN_zero(zero);
	const BIGNUM *rs[][2] = {
		{ zero, s }, { r, zero }, { n, s }, { r, n }, { n_minus_1, s }, { r, n_minus_1 },
	};
	for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
		ECDSA_SIG *sig = ECDSA_SIG_new();
		REQUIRE(sig && ECDSA_SIG_set0(sig, BN_dup(rs[i][0]), BN_dup(rs[i][1])) == 1);
		CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, sig, key), 0);
		CHECK_EQ_INT(builtin_answer(d, sizeof d, sig, pair), 0);
		ECDSA_SIG_free(sig);
	}
	ECDSA_SIG *theirs = ECDSA_do_sign(d, sizeof d, stranger);
	REQUIRE(theirs);
	CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, theirs, key), 0);
	CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, good, key), 1);
	ECDSA_SIG_free(theirs);
	ECDSA_SIG_free(good);
	BN_free(zero);
	BN_free(n_minus_1);
	ERR_clear_error();
	EC_KEY_free(key);
	EC_KEY_free(pair);
	EC_KEY_free(stranger);
}

/* Other curves keep OpenSSL's own verification; a copy of a key starts
 * without its table and still verifies. */
TEST(fixed_base_verify_only_p256_and_copies_verify)
{
	EC_KEY *p384 = EC_KEY_new_by_curve_name(NID_secp384r1);
	REQUIRE(p384 && EC_KEY_generate_key(p384) == 1);
	CHECK(!fixed_base_verify_attach(p384));
	EC_KEY_free(p384);

	EC_KEY *pair = p256_pair();
	REQUIRE(pair);
	EC_KEY *key = public_attached(pair);
	REQUIRE(key);
	warm(key, pair);
	EC_KEY *copy = EC_KEY_dup(key);
	REQUIRE(copy);
	unsigned char d[32] = { 7 };
	ECDSA_SIG *sig = ECDSA_do_sign(d, sizeof d, pair);
	REQUIRE(sig);
	CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, sig, copy), 1);
	d[0] ^= 1;
	CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, sig, copy), 0);
	ECDSA_SIG_free(sig);
	ERR_clear_error();
	EC_KEY_free(copy); /* frees no table: key still has its own */
	unsigned tables;
	unsigned long long fast;
	counts(&tables, &fast);
	CHECK(tables >= 1);
	EC_KEY_free(key);
	EC_KEY_free(pair);
}

/* No more than FIXED_BASE_VERIFY_TABLES tables at once; keys beyond that
 * verify as OpenSSL does, correctly. */
TEST(fixed_base_verify_tables_are_bounded)
{
	enum { N = FIXED_BASE_VERIFY_TABLES + 3 };
	EC_KEY *pair[N], *key[N];
	for (int i = 0; i < N; i++) {
		pair[i] = p256_pair();
		REQUIRE(pair[i]);
		key[i] = public_attached(pair[i]);
		REQUIRE(key[i]);
		warm(key[i], pair[i]);
		unsigned tables;
		unsigned long long fast;
		counts(&tables, &fast);
		CHECK(tables <= FIXED_BASE_VERIFY_TABLES);
	}
	unsigned char d[32] = { 9 };
	for (int i = 0; i < N; i++) {
		ECDSA_SIG *sig = ECDSA_do_sign(d, sizeof d, pair[i]);
		REQUIRE(sig);
		CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, sig, key[i]), 1);
		CHECK_EQ_INT(ECDSA_do_verify(d, sizeof d, sig, key[(i + 1) % N]), 0);
		ECDSA_SIG_free(sig);
	}
	ERR_clear_error();
	for (int i = 0; i < N; i++) {
		EC_KEY_free(key[i]);
		EC_KEY_free(pair[i]);
	}
}

/* A certificate's key decoded by the guard's decoder gets the method:
 * EVP verification of a CertificateVerify-like signature goes through
 * the table once the key is hot. */
TEST(fixed_base_verify_through_the_shared_decoder)
{
	key_decode_install();
	EC_KEY *pair = p256_pair();
	REQUIRE(pair);
	EVP_PKEY *priv = EVP_PKEY_new();
	REQUIRE(priv && EVP_PKEY_set1_EC_KEY(priv, pair) == 1);
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(priv, &der);
	REQUIRE(len > 0);
	static const unsigned char msg[] = "TLS 1.3, client CertificateVerify";
	unsigned char sig[80];
	size_t siglen = sizeof sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	REQUIRE(md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv) == 1 &&
		EVP_DigestSign(md, sig, &siglen, msg, sizeof msg) == 1);
	EVP_MD_CTX_free(md);
	unsigned t0, t1;
	unsigned long long f0, f1;
	counts(&t0, &f0);
	for (int i = 0; i < FIXED_BASE_VERIFY_AFTER + 4; i++) {
		const unsigned char *p = der;
		EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, len);
		REQUIRE(pub);
		md = EVP_MD_CTX_new();
		CHECK(md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		      EVP_DigestVerify(md, sig, siglen, msg, sizeof msg) == 1);
		EVP_MD_CTX_free(md);
		md = EVP_MD_CTX_new();
		CHECK(md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
		      EVP_DigestVerify(md, sig, siglen, msg, sizeof msg - 1) != 1);
		EVP_MD_CTX_free(md);
		EVP_PKEY_free(pub);
	}
	counts(&t1, &f1);
	CHECK(f1 >= f0 + 4);
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_PKEY_free(priv);
	EC_KEY_free(pair);
}
