/*
 * Unit tests for the shared EC key decoder (src/tls/shared_ec_keys.c),
 * installed as the guard and edge install it (key_decode_install). Keys
 * decode from SubjectPublicKeyInfo DER, as a certificate's do.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY: explicit parameters below */
#include "unit.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/key_decode.h"
#include "tls/shared_ec_keys.h"

/* A new P-256 key pair (through EC_KEY: with the built-in methods
 * registered, EVP_EC_gen takes the legacy path, which knows no "P-256"). */
static EVP_PKEY *p256_new(void)
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *k = EVP_PKEY_new();
	if (!ec || !k || EC_KEY_generate_key(ec) != 1 || EVP_PKEY_assign_EC_KEY(k, ec) != 1) {
		EC_KEY_free(ec);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static void install_once(void)
{
	static bool done;
	if (!done)
		key_decode_install();
	done = true;
}

/* The SubjectPublicKeyInfo DER of key; *len gets its length. */
static unsigned char *spki_of(EVP_PKEY *key, int *len)
{
	unsigned char *der = NULL;
	*len = i2d_PUBKEY(key, &der);
	return *len > 0 ? der : NULL;
}

static EVP_PKEY *decode(const unsigned char *der, int len)
{
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, len);
	return k && p == der + len ? k : (EVP_PKEY_free(k), NULL);
}

static unsigned long long shared_hits(void)
{
	unsigned long long hits, lookups;
	shared_ec_keys_counts(&hits, &lookups);
	return hits;
}

TEST(shared_ec_keys_same_point_same_key)
{
	install_once();
	EVP_PKEY *orig = p256_new(), *other = p256_new();
	REQUIRE(orig && other);
	int len, olen;
	unsigned char *der = spki_of(orig, &len), *oder = spki_of(other, &olen);
	REQUIRE(der && oder);
	unsigned long long before = shared_hits();
	EVP_PKEY *a = decode(der, len), *b = decode(der, len), *c = decode(oder, olen);
	REQUIRE(a && b && c);
	/* Decoded by the method here (a legacy EC_KEY), and shared. */
	const EC_KEY *ka = EVP_PKEY_get0_EC_KEY(a), *kb = EVP_PKEY_get0_EC_KEY(b);
	const EC_KEY *kc = EVP_PKEY_get0_EC_KEY(c);
	REQUIRE(ka && kb && kc);
	CHECK(ka == kb);
	CHECK(ka != kc);
	CHECK(shared_hits() >= before + 1);
	/* The same key as the one generated, and not the other one. */
	CHECK_EQ_INT(EVP_PKEY_eq(a, orig), 1);
	CHECK_EQ_INT(EVP_PKEY_eq(a, b), 1);
	CHECK_EQ_INT(EVP_PKEY_eq(a, c), 0);
	CHECK_EQ_INT(EVP_PKEY_eq(c, other), 1);
	/* Freeing one holder leaves the other's key whole. */
	EVP_PKEY_free(a);
	CHECK_EQ_INT(EVP_PKEY_eq(b, orig), 1);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
	OPENSSL_free(der);
	OPENSSL_free(oder);
	EVP_PKEY_free(orig);
	EVP_PKEY_free(other);
}

/* Encodes back to the very bytes it came from, answers size and bits like
 * OpenSSL's own method, for each curve and point form. */
TEST(shared_ec_keys_encode_size_bits_print)
{
	install_once();
	static const struct {
		const char *curve;
		int bits, size;
		point_conversion_form_t form;
	} cases[] = {
		{ "P-256", 256, 72, POINT_CONVERSION_UNCOMPRESSED },
		{ "P-256", 256, 72, POINT_CONVERSION_COMPRESSED },
		{ "P-384", 384, 104, POINT_CONVERSION_UNCOMPRESSED },
		{ "P-521", 521, 139, POINT_CONVERSION_UNCOMPRESSED },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		EC_KEY *ec = EC_KEY_new_by_curve_name(EC_curve_nist2nid(cases[i].curve));
		REQUIRE(ec && EC_KEY_generate_key(ec) == 1);
		EC_KEY_set_conv_form(ec, cases[i].form);
		unsigned char *der = NULL;
		int len = i2d_EC_PUBKEY(ec, &der);
		REQUIRE(len > 0);
		for (int round = 0; round < 2; round++) { /* decoded, then shared */
			EVP_PKEY *k = decode(der, len);
			REQUIRE(k);
			CHECK_EQ_INT(EVP_PKEY_get_bits(k), cases[i].bits);
			CHECK_EQ_INT(EVP_PKEY_get_size(k), cases[i].size);
			unsigned char *again = NULL;
			int alen = i2d_PUBKEY(k, &again);
			CHECK_EQ_INT(alen, len);
			CHECK(alen == len && memcmp(again, der, len) == 0);
			OPENSSL_free(again);
			BIO *out = BIO_new(BIO_s_mem());
			CHECK(EVP_PKEY_print_public(out, k, 0, NULL) == 1);
			char text[4096] = "";
			BIO_read(out, text, sizeof text - 1);
			char want[64];
			snprintf(want, sizeof want, "Public-Key: (%d bit)", cases[i].bits);
			if (!strstr(text, want) || !strstr(text, "NIST CURVE: ")) {
				fprintf(stderr, "  %s: printed \"%.200s\"\n", cases[i].curve, text);
				CHECK(false);
			}
			BIO_free(out);
			EVP_PKEY_free(k);
		}
		OPENSSL_free(der);
		EC_KEY_free(ec);
	}
}

/* Explicit curve parameters decode and encode back, each time afresh. */
TEST(shared_ec_keys_explicit_parameters_not_shared)
{
	install_once();
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	REQUIRE(ec && EC_KEY_generate_key(ec) == 1);
	EC_KEY_set_asn1_flag(ec, OPENSSL_EC_EXPLICIT_CURVE);
	unsigned char *der = NULL;
	int len = i2d_EC_PUBKEY(ec, &der);
	REQUIRE(len > 0);
	EVP_PKEY *a = decode(der, len), *b = decode(der, len);
	REQUIRE(a && b);
	CHECK(EVP_PKEY_get0_EC_KEY(a) != EVP_PKEY_get0_EC_KEY(b));
	CHECK_EQ_INT(EVP_PKEY_eq(a, b), 1);
	unsigned char *again = NULL;
	int alen = i2d_PUBKEY(a, &again);
	CHECK(alen == len && memcmp(again, der, len) == 0);
	OPENSSL_free(again);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	OPENSSL_free(der);
	EC_KEY_free(ec);
}

/* A point off the curve is refused, the first time and every time. */
TEST(shared_ec_keys_bad_point_refused)
{
	install_once();
	EVP_PKEY *orig = p256_new();
	REQUIRE(orig);
	int len;
	unsigned char *der = spki_of(orig, &len);
	REQUIRE(der);
	der[len - 1] ^= 0x01; /* the last byte of y */
	for (int i = 0; i < 2; i++) {
		EVP_PKEY *k = decode(der, len);
		CHECK(k == NULL);
		EVP_PKEY_free(k);
	}
	ERR_clear_error();
	/* The good bytes still decode. */
	der[len - 1] ^= 0x01;
	EVP_PKEY *k = decode(der, len);
	CHECK(k && EVP_PKEY_eq(k, orig) == 1);
	EVP_PKEY_free(k);
	OPENSSL_free(der);
	EVP_PKEY_free(orig);
}

/* More keys than the table has slots: each decodes to itself, and a
 * signature made by each verifies with its decoded key only. */
TEST(shared_ec_keys_many_keys_sign_and_verify)
{
	install_once();
	enum { N = 150 };
	static EVP_PKEY *orig[N];
	static unsigned char *der[N];
	static int len[N];
	for (int i = 0; i < N; i++) {
		orig[i] = p256_new();
		REQUIRE(orig[i]);
		der[i] = spki_of(orig[i], &len[i]);
		REQUIRE(der[i]);
	}
	static const unsigned char msg[] = "pullgate shared keys";
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			EVP_PKEY *k = decode(der[i], len[i]);
			REQUIRE(k);
			CHECK_EQ_INT(EVP_PKEY_eq(k, orig[i]), 1);
			unsigned char sig[80];
			size_t siglen = sizeof sig;
			EVP_MD_CTX *md = EVP_MD_CTX_new();
			CHECK(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, orig[i]) == 1 &&
			      EVP_DigestSign(md, sig, &siglen, msg, sizeof msg) == 1);
			EVP_MD_CTX_free(md);
			md = EVP_MD_CTX_new();
			CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
			      EVP_DigestVerify(md, sig, siglen, msg, sizeof msg) == 1);
			EVP_MD_CTX_free(md);
			EVP_PKEY *wrong = decode(der[(i + 1) % N], len[(i + 1) % N]);
			md = EVP_MD_CTX_new();
			CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, wrong) == 1 &&
			      EVP_DigestVerify(md, sig, siglen, msg, sizeof msg) != 1);
			EVP_MD_CTX_free(md);
			EVP_PKEY_free(wrong);
			EVP_PKEY_free(k);
		}
	}
	ERR_clear_error();
	for (int i = 0; i < N; i++) {
		OPENSSL_free(der[i]);
		EVP_PKEY_free(orig[i]);
	}
}
