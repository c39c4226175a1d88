/*
 * Unit tests for the TLS 1.3 key schedule's provider (src/tls/tls13_kdf.c):
 * every output equals the default provider's TLS13-KDF for the same
 * parameters, what it cannot do fails rather than answer wrong, and the
 * application traffic secrets reach the observer.
 */
#include "unit.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "tls/tls13_kdf.h"

struct kdf_case {
	const char *digest;
	int mode;
	const char *mode_name; /* set: the mode as a string, of mode_name_len bytes */
	size_t mode_name_len;
	const unsigned char *key, *salt, *label, *data;
	size_t key_len, salt_len, label_len, data_len;
};

/* Derives out_len bytes with the named provider's TLS13-KDF, as libssl
 * passes the parameters; 1 on success. */
static int derive(const char *provider, const struct kdf_case *k, unsigned char *out, size_t out_len)
{
	char propq[64];
	snprintf(propq, sizeof propq, "provider=%s", provider);
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, propq);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!ctx)
		return -1;
	static const unsigned char prefix[] = "tls13 ";
	OSSL_PARAM params[8], *p = params;
	int mode = k->mode;
	if (k->mode_name)
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)k->mode_name,
							k->mode_name_len);
	else
		*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)k->digest, 0);
	if (k->key)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)k->key, k->key_len);
	if (k->salt)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)k->salt, k->salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix, sizeof prefix - 1);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)k->label, k->label_len);
	if (k->data)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)k->data, k->data_len);
	*p = OSSL_PARAM_construct_end();
	int r = EVP_KDF_derive(ctx, out, out_len, params);
	EVP_KDF_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/* Ours and the default provider's agree: both fail, or both give the same
 * bytes. Returns whether ours succeeded. */
static bool same_as_default(const struct kdf_case *k, size_t out_len)
{
	unsigned char ours[1024], theirs[1024];
	memset(ours, 0xaa, sizeof ours);
	memset(theirs, 0x55, sizeof theirs);
	int a = derive(TLS13_KDF_PROVIDER, k, ours, out_len);
	int b = derive("default", k, theirs, out_len);
	if ((a == 1) != (b == 1) || (a == 1 && memcmp(ours, theirs, out_len) != 0)) {
		fprintf(stderr, "  %s mode %d key %zu salt %zu label %zu data %zu out %zu: ours %d, default %d\n",
			k->digest, k->mode, k->key ? k->key_len : 0, k->salt ? k->salt_len : 0,
			k->label_len, k->data ? k->data_len : 0, out_len, a, b);
		return false;
	}
	return a == 1;
}

TEST(tls13_kdf_expand_label_as_the_default_provider)
{
	REQUIRE(tls13_kdf_install());
	static const char *digests[] = { "SHA256", "SHA384", "SHA2-256", "sha384" };
	static const char *labels[] = { "c ap traffic", "key", "iv", "finished", "", "res binder",
					"a label of some length for an exporter's use" };
	static const size_t lens[] = { 1, 12, 16, 32, 48, 64, 100, 1000 };
	unsigned char secret[48], data[64];
	REQUIRE(RAND_bytes(secret, sizeof secret) == 1 && RAND_bytes(data, sizeof data) == 1);
	int agreed = 0;
	for (size_t d = 0; d < 4; d++)
		for (size_t l = 0; l < sizeof labels / sizeof labels[0]; l++)
			for (size_t n = 0; n < sizeof lens / sizeof lens[0]; n++)
				for (int with_data = 0; with_data < 2; with_data++) {
					size_t md = strstr(digests[d], "384") ? 48 : 32;
					struct kdf_case k = {
						.digest = digests[d],
						.mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY,
						.key = secret, .key_len = md,
						.label = (const unsigned char *)labels[l],
						.label_len = strlen(labels[l]),
						.data = with_data ? data : NULL,
						.data_len = with_data ? md : 0,
					};
					bool ok = same_as_default(&k, lens[n]);
					CHECK(ok);
					agreed += ok;
				}
	CHECK_EQ_INT(agreed, 4 * 7 * 8 * 2);
}

TEST(tls13_kdf_extract_as_the_default_provider)
{
	REQUIRE(tls13_kdf_install());
	unsigned char ikm[48], prev[48];
	REQUIRE(RAND_bytes(ikm, sizeof ikm) == 1 && RAND_bytes(prev, sizeof prev) == 1);
	static const unsigned char derived[] = "derived";
	for (int sha384 = 0; sha384 < 2; sha384++) {
		size_t md = sha384 ? 48 : 32;
		for (int with_key = 0; with_key < 2; with_key++)
			for (int with_salt = 0; with_salt < 2; with_salt++) {
				struct kdf_case k = {
					.digest = sha384 ? "SHA384" : "SHA256",
					.mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY,
					.key = with_key ? ikm : NULL, .key_len = md,
					.salt = with_salt ? prev : NULL, .salt_len = md,
					.label = derived, .label_len = sizeof derived - 1,
				};
				CHECK(same_as_default(&k, md));
				/* The output is the hash's length, or nothing. */
				CHECK(!same_as_default(&k, md - 1));
			}
	}
}

/* What TLS 1.3 never asks for fails, as an error, never a wrong answer. */
TEST(tls13_kdf_refuses_what_it_cannot_do)
{
	REQUIRE(tls13_kdf_install());
	unsigned char key[32] = { 1 }, out[64];
	unsigned char long_label[300];
	memset(long_label, 'a', sizeof long_label);
	struct kdf_case k = {
		.digest = "SHA1", .mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, .key = key, .key_len = 32,
		.label = (const unsigned char *)"key", .label_len = 3,
	};
	CHECK(derive(TLS13_KDF_PROVIDER, &k, out, 16) != 1); /* no SHA-1 here */
	k.digest = "SHA256";
	CHECK_EQ_INT(derive(TLS13_KDF_PROVIDER, &k, out, 16), 1);
	k.label = long_label;
	k.label_len = sizeof long_label; /* longer than HkdfLabel can say */
	CHECK(derive(TLS13_KDF_PROVIDER, &k, out, 16) != 1);
	CHECK(derive("default", &k, out, 16) != 1);
	k.label = (const unsigned char *)"key";
	k.label_len = 3;
	k.mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
	CHECK(derive(TLS13_KDF_PROVIDER, &k, out, 16) != 1);
	CHECK(derive("default", &k, out, 16) != 1);
}

/* The mode may come as a name, as for the default provider's HKDF; its
 * bytes need not end in a NUL. */
TEST(tls13_kdf_mode_by_name)
{
	REQUIRE(tls13_kdf_install());
	unsigned char key[32] = { 7 }, by_int[32], by_name[32];
	/* "EXPAND_ONLY" followed by bytes that are not part of it. */
	static const char expand[] = "expand_onlyXYZ", both[] = "EXTRACT_AND_EXPAND";
	struct kdf_case k = {
		.digest = "SHA256", .mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, .key = key, .key_len = 32,
		.label = (const unsigned char *)"key", .label_len = 3,
	};
	CHECK_EQ_INT(derive(TLS13_KDF_PROVIDER, &k, by_int, sizeof by_int), 1);
	k.mode_name = expand;
	k.mode_name_len = 11;
	CHECK_EQ_INT(derive(TLS13_KDF_PROVIDER, &k, by_name, sizeof by_name), 1);
	CHECK(memcmp(by_int, by_name, sizeof by_int) == 0);
	k.mode_name_len = 14; /* "expand_onlyXYZ": no mode */
	CHECK(derive(TLS13_KDF_PROVIDER, &k, by_name, sizeof by_name) != 1);
	k.mode_name = both;
	k.mode_name_len = sizeof both - 1;
	CHECK(derive(TLS13_KDF_PROVIDER, &k, by_name, sizeof by_name) != 1);
	CHECK(derive("default", &k, by_name, sizeof by_name) != 1);
}

static int observed_client, observed_server;
static unsigned char observed[64];
static size_t observed_len;

static void observe(void *arg, bool client, const unsigned char *secret, size_t len)
{
	CHECK(arg == &observed);
	if (client)
		observed_client++;
	else
		observed_server++;
	memcpy(observed, secret, len < sizeof observed ? len : sizeof observed);
	observed_len = len;
}

TEST(tls13_kdf_application_secrets_reach_the_observer)
{
	REQUIRE(tls13_kdf_install());
	unsigned char secret[32] = { 7 }, hash[32] = { 9 }, out[32];
	struct kdf_case k = {
		.digest = "SHA256", .mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, .key = secret, .key_len = 32,
		.data = hash, .data_len = 32,
	};
	observed_client = observed_server = 0;
	tls13_kdf_observe(observe, &observed);
	static const struct {
		const char *label;
		int client, server;
	} cases[] = {
		{ "c ap traffic", 1, 0 }, { "s ap traffic", 0, 1 }, { "c hs traffic", 0, 0 },
		{ "traffic upd", 0, 0 },  { "c ap traffi", 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int c0 = observed_client, s0 = observed_server;
		k.label = (const unsigned char *)cases[i].label;
		k.label_len = strlen(cases[i].label);
		REQUIRE(derive(TLS13_KDF_PROVIDER, &k, out, sizeof out) == 1);
		CHECK_EQ_INT(observed_client - c0, cases[i].client);
		CHECK_EQ_INT(observed_server - s0, cases[i].server);
		if (cases[i].client || cases[i].server)
			CHECK(observed_len == sizeof out && memcmp(observed, out, sizeof out) == 0);
	}
	/* Not once the observer is gone, nor from the default provider. */
	tls13_kdf_observe(NULL, NULL);
	k.label = (const unsigned char *)"c ap traffic";
	k.label_len = 12;
	REQUIRE(derive(TLS13_KDF_PROVIDER, &k, out, sizeof out) == 1);
	tls13_kdf_observe(observe, &observed);
	REQUIRE(derive("default", &k, out, sizeof out) == 1);
	tls13_kdf_observe(NULL, NULL);
	CHECK_EQ_INT(observed_client, 1);
}
