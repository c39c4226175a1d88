/*
 * fixed_base_verify: ECDSA P-256 verification with a precomputed table for
 * a public key that comes back again and again.
 *
 * A guard checks its client's CertificateVerify signature in every full
 * handshake, and the client is nearly always one edge with one key.
 * Verification computes u1·G + u2·Q. OpenSSL has a static table of
 * multiples of the generator G, but multiplies the public key Q from
 * scratch each time: that is most of the 40 µs a verification takes, and
 * about a seventh of a full handshake.
 *
 * Once a key has verified FIXED_BASE_VERIFY_AFTER signatures, a copy of the
 * curve with Q as its generator gets OpenSSL's own precomputed multiples
 * (EC_GROUP_precompute_mult: about 150 KiB and 15 ms, once per key), and
 * both products become fixed-base multiplications: about 22 µs. The steps
 * and checks are those of OpenSSL's ossl_ecdsa_simple_verify_sig; only the
 * way u2·Q is computed differs. Everything here is public (the key, the
 * digest, the signature), so none of it needs to run in constant time.
 */
#include "tls/fixed_base_verify.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tls/inverse_mod.h"

/* What a key with this method keeps (its ex_data). */
struct fixed_base_state {
	atomic_uint uses;
	atomic_bool building;
	_Atomic(EC_GROUP *) table; /* the curve with Q as generator, precomputed */
};

static EC_KEY_METHOD *method;
static int state_index = -1;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;
static int (*builtin_verify_sig)(const unsigned char *dgst, int dgst_len, const ECDSA_SIG *sig,
				 EC_KEY *key);
static atomic_uint tables;
static atomic_ullong fast_verifies;

static void state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	struct fixed_base_state *st = ptr;
	if (!st)
		return;
	EC_GROUP *table = atomic_load(&st->table);
	if (table) {
		EC_GROUP_free(table);
		atomic_fetch_sub(&tables, 1);
	}
	free(st);
}

/* A copy of a key (EC_KEY_dup) starts without a table; it keeps the
 * method, which then verifies as OpenSSL does. */
static int state_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
		     long argl, void *argp)
{
	(void)to, (void)from, (void)idx, (void)argl, (void)argp;
	*from_d = NULL;
	return 1;
}

/* The curve with key's public point as its generator, and that
 * generator's multiples precomputed; NULL when any step fails. */
static EC_GROUP *table_build(const EC_KEY *key)
{
	const EC_GROUP *group = EC_KEY_get0_group(key);
	const EC_POINT *q = EC_KEY_get0_public_key(key);
	if (!group || !q)
		return NULL;
	EC_GROUP *table = EC_GROUP_dup(group);
	BN_CTX *ctx = BN_CTX_new();
	if (!table || !ctx ||
	    EC_GROUP_set_generator(table, q, EC_GROUP_get0_order(group),
				   EC_GROUP_get0_cofactor(group)) != 1 ||
	    EC_GROUP_precompute_mult(table, ctx) != 1) {
		EC_GROUP_free(table);
		table = NULL;
	}
	BN_CTX_free(ctx);
	return table;
}

/* key's table, built here when key has become hot; NULL while it is not
 * (or another thread is building it, or the budget of tables is spent). */
static EC_GROUP *table_for(EC_KEY *key)
{
	struct fixed_base_state *st = EC_KEY_get_ex_data(key, state_index);
	if (!st)
		return NULL;
	EC_GROUP *table = atomic_load_explicit(&st->table, memory_order_acquire);
	if (table || atomic_fetch_add(&st->uses, 1) + 1 < FIXED_BASE_VERIFY_AFTER)
		return table;
	if (atomic_exchange(&st->building, true))
		return NULL; /* built, being built, or given up on */
	if (atomic_fetch_add(&tables, 1) >= FIXED_BASE_VERIFY_TABLES) {
		atomic_fetch_sub(&tables, 1);
		atomic_store(&st->building, false); /* room may come later */
		atomic_store(&st->uses, 0);
		return NULL;
	}
	table = table_build(key);
	if (!table) {
		atomic_fetch_sub(&tables, 1);
		ERR_clear_error(); /* OpenSSL's own verification goes on */
		return NULL;    /* building stays set: not tried again */
	}
	atomic_store_explicit(&st->table, table, memory_order_release);
	return table;
}

/* ---- s^-1 mod n -------------------------------------------------------
 * BN_mod_inverse takes about 15 µs for 256 bits, as long as a fixed-base
 * multiplication. s is part of the signature, public, so an inverse in
 * variable time does (tls/inverse_mod.h): about 1.4 µs. */

static bool u256_from_bn(u256 out, const BIGNUM *bn)
{
	unsigned char le[32];
	if (BN_bn2lebinpad(bn, le, sizeof le) != sizeof le)
		return false;
	for (int i = 0; i < 4; i++) {
		out[i] = 0;
		for (int b = 7; b >= 0; b--)
			out[i] = out[i] << 8 | le[8 * i + b];
	}
	return true;
}

static bool u256_to_bn(BIGNUM *bn, const u256 in)
{
	unsigned char le[32];
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 8; b++)
			le[8 * i + b] = (unsigned char)(in[i] >> (8 * b));
	return BN_lebin2bn(le, sizeof le, bn) != NULL;
}

/* out = s^-1 mod order, for 0 < s < order (checked by the caller). */
static bool inverse_of_s(BIGNUM *out, const BIGNUM *s, const BIGNUM *order)
{
	u256 a, m, inv;
	if (!u256_from_bn(a, s) || !u256_from_bn(m, order))
		return false;
	inverse_mod_var(inv, a, m);
	return u256_to_bn(out, inv);
}

/* u1·G + u2·Q with both multiplications fixed-base, then the x coordinate
 * mod n compared with r: 1 when it matches, 0 when it does not, -1 on an
 * internal failure. */
static int verify_with_table(const unsigned char *dgst, int dgst_len, const ECDSA_SIG *sig,
			     const EC_GROUP *group, const EC_GROUP *table)
{
	const BIGNUM *order = EC_GROUP_get0_order(group);
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	if (!r || !s || BN_is_zero(r) || BN_is_negative(r) || BN_ucmp(r, order) >= 0 ||
	    BN_is_zero(s) || BN_is_negative(s) || BN_ucmp(s, order) >= 0) {
		ERR_raise(ERR_LIB_EC, EC_R_BAD_SIGNATURE);
		return 0;
	}
	BN_CTX *ctx = BN_CTX_new();
	EC_POINT *sum = EC_POINT_new(group), *uq = EC_POINT_new(table);
	int ret = -1;
	if (!ctx || !sum || !uq)
		goto done;
	BN_CTX_start(ctx);
	BIGNUM *u1 = BN_CTX_get(ctx), *u2 = BN_CTX_get(ctx), *m = BN_CTX_get(ctx);
	BIGNUM *x = BN_CTX_get(ctx);
	if (!x || !inverse_of_s(u2, s, order))
		goto end;
	/* The digest as a number, truncated to the order's bits. */
	int bits = BN_num_bits(order);
	if (8 * dgst_len > bits)
		dgst_len = (bits + 7) / 8;
	if (!BN_bin2bn(dgst, dgst_len, m) || (8 * dgst_len > bits && !BN_rshift(m, m, 8 - (bits & 7))))
		goto end;
	if (!BN_mod_mul(u1, m, u2, order, ctx) || !BN_mod_mul(u2, r, u2, order, ctx))
		goto end;
	if (!EC_POINT_mul(group, sum, u1, NULL, NULL, ctx) ||
	    !EC_POINT_mul(table, uq, u2, NULL, NULL, ctx) || !EC_POINT_add(group, sum, sum, uq, ctx))
		goto end;
	if (EC_POINT_is_at_infinity(group, sum)) {
		ERR_raise(ERR_LIB_EC, EC_R_POINT_AT_INFINITY);
		ret = 0;
		goto end;
	}
	if (!EC_POINT_get_affine_coordinates(group, sum, x, NULL, ctx) || !BN_nnmod(x, x, order, ctx))
		goto end;
	ret = BN_ucmp(x, r) == 0;
end:
	BN_CTX_end(ctx);
done:
	EC_POINT_free(uq);
	EC_POINT_free(sum);
	BN_CTX_free(ctx);
	return ret;
}

static int fixed_base_verify_sig(const unsigned char *dgst, int dgst_len, const ECDSA_SIG *sig,
				 EC_KEY *key)
{
	EC_GROUP *table = table_for(key);
	if (!table || !EC_KEY_get0_group(key) || !sig || dgst_len < 0)
		return builtin_verify_sig(dgst, dgst_len, sig, key);
	int ret = verify_with_table(dgst, dgst_len, sig, EC_KEY_get0_group(key), table);
	if (ret >= 0)
		atomic_fetch_add_explicit(&fast_verifies, 1, memory_order_relaxed);
	return ret;
}

static void method_init(void)
{
	const EC_KEY_METHOD *builtin = EC_KEY_OpenSSL();
	int (*verify)(int type, const unsigned char *dgst, int dgst_len, const unsigned char *sigbuf,
		      int sig_len, EC_KEY *key) = NULL;
	EC_KEY_METHOD_get_verify(builtin, &verify, &builtin_verify_sig);
	if (!verify || !builtin_verify_sig)
		return;
	int index = EC_KEY_get_ex_new_index(0, NULL, NULL, state_dup, state_free);
	EC_KEY_METHOD *m = index >= 0 ? EC_KEY_METHOD_new(builtin) : NULL;
	if (!m)
		return;
	/* The DER decoding of the signature stays OpenSSL's (it refuses
	 * encodings that are not canonical); only the arithmetic is ours. */
	EC_KEY_METHOD_set_verify(m, verify, fixed_base_verify_sig);
	state_index = index;
	method = m;
}

bool fixed_base_verify_attach(EC_KEY *key)
{
	pthread_once(&method_once, method_init);
	const EC_GROUP *group = EC_KEY_get0_group(key);
	if (!method || !group || EC_GROUP_get_curve_name(group) != NID_X9_62_prime256v1)
		return false;
	struct fixed_base_state *st = calloc(1, sizeof *st);
	if (!st)
		return false;
	if (EC_KEY_set_ex_data(key, state_index, st) != 1) {
		free(st);
		return false;
	}
	/* From here the key frees st. */
	if (EC_KEY_set_method(key, method) != 1) {
		ERR_clear_error();
		return false;
	}
	return true;
}

void fixed_base_verify_counts(unsigned *n_tables, unsigned long long *fast)
{
	*n_tables = atomic_load(&tables);
	*fast = atomic_load(&fast_verifies);
}
