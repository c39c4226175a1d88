/*
 * Unit tests for reading a ClientHello (src/tls/tls13_client_hello.c): the
 * hellos OpenSSL's own clients send are read in full, with what each
 * offers, and anything cut short, repeated or out of place is left to
 * OpenSSL.
 */
#include "unit.h"

#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include "tls/tls13_client_hello.h"
#include "tls/tls13_hkdf.h"

struct hello_opts {
	int max_version;    /* 0: TLS 1.3 */
	const char *groups; /* NULL: OpenSSL's default */
	const char *sni;
	const unsigned char *alpn;
	unsigned alpn_len;
};

/* The ClientHello message (no record header) an OpenSSL client sends with
 * opts, into out; its length, 0 on failure. */
static size_t client_hello(const struct hello_opts *o, unsigned char *out, size_t room)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	size_t n = 0;
	if (!ssl || !rb || !wb)
		goto out;
	if (o->max_version)
		SSL_set_max_proto_version(ssl, o->max_version);
	if (o->groups)
		SSL_set1_groups_list(ssl, o->groups);
	if (o->sni)
		SSL_set_tlsext_host_name(ssl, o->sni);
	if (o->alpn)
		SSL_set_alpn_protos(ssl, o->alpn, o->alpn_len);
	SSL_set_bio(ssl, rb, wb);
	rb = wb = NULL;
	SSL_connect(ssl); /* writes the hello, then wants to read */
	unsigned char rec[4096];
	int got = BIO_read(SSL_get_wbio(ssl), rec, sizeof rec);
	if (got > 5 && rec[0] == 22 && (size_t)got - 5 <= room) {
		n = (size_t)got - 5;
		memcpy(out, rec + 5, n);
	}
out:
	BIO_free(rb);
	BIO_free(wb);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return n;
}

TEST(tls13_client_hello_reads_openssl_hello)
{
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	struct hello_opts o = {.sni = "origin.example", .alpn = alpn, .alpn_len = sizeof alpn - 1};
	unsigned char msg[2048];
	size_t len = client_hello(&o, msg, sizeof msg);
	REQUIRE(len > 0);
	struct tls13_client_hello ch;
	REQUIRE(tls13_client_hello_parse(msg, len, &ch));
	CHECK(ch.offers_tls13);
	CHECK(ch.group_x25519);
	CHECK(ch.x25519_share != NULL);
	CHECK(ch.x25519_share > msg && ch.x25519_share + 32 <= msg + len);
	CHECK(ch.sigalgs & TLS13_SIG_ECDSA_P256_SHA256);
	CHECK(ch.psk_modes & TLS13_PSK_DHE_KE);
	CHECK_EQ_INT(ch.session_id_len, 32); /* middlebox compatibility */
	CHECK_EQ_INT(ch.suite_count, 3);
	CHECK_EQ_INT(ch.suites[0], 0x1302);
	CHECK(ch.server_name.len == 14 && memcmp(ch.server_name.ptr, "origin.example", 14) == 0);
	CHECK(tls13_client_hello_offers_alpn(&ch, "http/1.1"));
	CHECK(tls13_client_hello_offers_alpn(&ch, "h2"));
	CHECK(!tls13_client_hello_offers_alpn(&ch, "http/1.0"));
	CHECK(!ch.has_psk && !ch.early_data && !ch.cookie);
	CHECK(ch.random == msg + 6);
}

TEST(tls13_client_hello_notes_what_a_hello_lacks)
{
	struct hello_opts o = {.groups = "P-256"};
	unsigned char msg[2048];
	size_t len = client_hello(&o, msg, sizeof msg);
	REQUIRE(len > 0);
	struct tls13_client_hello ch;
	REQUIRE(tls13_client_hello_parse(msg, len, &ch));
	CHECK(ch.offers_tls13);
	CHECK(!ch.group_x25519);
	CHECK(ch.x25519_share == NULL);
	CHECK(ch.has_key_share);
	CHECK_EQ_INT(ch.server_name.len, 0);
	CHECK(!ch.has_alpn);
	CHECK(tls13_client_hello_offers_alpn(&ch, "http/1.1"));

	struct hello_opts old = {.max_version = TLS1_2_VERSION};
	len = client_hello(&old, msg, sizeof msg);
	REQUIRE(len > 0);
	REQUIRE(tls13_client_hello_parse(msg, len, &ch));
	CHECK(!ch.offers_tls13);
	CHECK_EQ_INT(ch.suite_count, 0);
}

/* Every prefix of a hello, and the hello with a byte more, is not ours. */
TEST(tls13_client_hello_cut_short_is_not_ours)
{
	struct hello_opts o = {.sni = "a.example"};
	unsigned char msg[2048];
	size_t len = client_hello(&o, msg, sizeof msg - 1);
	REQUIRE(len > 0);
	struct tls13_client_hello ch;
	int accepted = 0;
	for (size_t n = 0; n < len; n++)
		accepted += tls13_client_hello_parse(msg, n, &ch);
	CHECK_EQ_INT(accepted, 0);
	msg[len] = 0;
	CHECK(!tls13_client_hello_parse(msg, len + 1, &ch));
	CHECK(tls13_client_hello_parse(msg, len, &ch));
}

/* Builds a hello around the given extensions block (its bytes, without
 * the block's length). */
static size_t hello_with(const unsigned char *exts, size_t exts_len, unsigned char *out)
{
	size_t n = 0;
	out[n++] = 1;
	size_t body = 2 + 32 + 1 + 6 + 2 + 2 + exts_len;
	out[n++] = (unsigned char)(body >> 16);
	out[n++] = (unsigned char)(body >> 8);
	out[n++] = (unsigned char)body;
	out[n++] = 3, out[n++] = 3;
	memset(out + n, 0xab, 32);
	n += 32;
	out[n++] = 0; /* session id */
	out[n++] = 0, out[n++] = 4, out[n++] = 0x13, out[n++] = 0x01, out[n++] = 0x13, out[n++] = 0x03;
	out[n++] = 1, out[n++] = 0; /* null compression */
	out[n++] = (unsigned char)(exts_len >> 8);
	out[n++] = (unsigned char)exts_len;
	memcpy(out + n, exts, exts_len);
	return n + exts_len;
}

#define VERSIONS_13 0, 43, 0, 3, 2, 3, 4
#define X25519_SHARE                                                                                         \
	0, 51, 0, 38, 0, 36, 0, 0x1d, 0, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,  \
	    19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
#define PSK_ONE 0, 41, 0, 44, 0, 7, 0, 1, 0x55, 0, 0, 0, 0, 0, 33, 32, PSK_BINDER
#define PSK_BINDER                                                                                           \
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,   \
	    28, 29, 30, 31, 32

TEST(tls13_client_hello_extensions_in_order_and_once)
{
	unsigned char msg[512];
	struct tls13_client_hello ch;
	static const unsigned char good[] = {VERSIONS_13, X25519_SHARE};
	REQUIRE(tls13_client_hello_parse(msg, hello_with(good, sizeof good, msg), &ch));
	CHECK(ch.offers_tls13 && ch.x25519_share && ch.x25519_share[0] == 1);
	CHECK_EQ_INT(ch.suite_count, 2);

	static const unsigned char twice[] = {VERSIONS_13, X25519_SHARE, VERSIONS_13};
	CHECK(!tls13_client_hello_parse(msg, hello_with(twice, sizeof twice, msg), &ch));

	static const unsigned char unknown_twice[] = {0x7a, 0x7a, 0, 0, VERSIONS_13, 0x7a, 0x7a, 0, 0};
	CHECK(!tls13_client_hello_parse(msg, hello_with(unknown_twice, sizeof unknown_twice, msg), &ch));

	static const unsigned char unknown_once[] = {0x7a, 0x7a, 0, 1, 9, VERSIONS_13};
	CHECK(tls13_client_hello_parse(msg, hello_with(unknown_once, sizeof unknown_once, msg), &ch));

	/* pre_shared_key: read and located when last, refused anywhere else. */
	static const unsigned char psk_last[] = {VERSIONS_13, X25519_SHARE, PSK_ONE};
	size_t len = hello_with(psk_last, sizeof psk_last, msg);
	REQUIRE(tls13_client_hello_parse(msg, len, &ch));
	CHECK(ch.has_psk);
	CHECK_EQ_INT(ch.binders_at, len - 35);
	CHECK_EQ_INT(ch.psk_binders.len, 33);
	static const unsigned char psk_first[] = {PSK_ONE, VERSIONS_13};
	CHECK(!tls13_client_hello_parse(msg, hello_with(psk_first, sizeof psk_first, msg), &ch));

	/* A key share for x25519 of the wrong length, a group twice. */
	static const unsigned char short_share[] = {0, 51, 0, 8, 0, 6, 0, 0x1d, 0, 2, 1, 2};
	CHECK(!tls13_client_hello_parse(msg, hello_with(short_share, sizeof short_share, msg), &ch));
	static const unsigned char group_twice[] = {0, 51, 0, 12, 0, 10, 0, 23, 0, 1, 4, 0, 23, 0, 1, 4};
	CHECK(!tls13_client_hello_parse(msg, hello_with(group_twice, sizeof group_twice, msg), &ch));

	/* Two host names in server_name; an odd-length version list. */
	static const unsigned char two_hosts[] = {0, 0, 0, 10, 0, 8, 0, 0, 1, 'a', 0, 0, 1, 'b'};
	CHECK(!tls13_client_hello_parse(msg, hello_with(two_hosts, sizeof two_hosts, msg), &ch));
	static const unsigned char odd_versions[] = {0, 43, 0, 4, 3, 3, 4, 3};
	CHECK(!tls13_client_hello_parse(msg, hello_with(odd_versions, sizeof odd_versions, msg), &ch));
}

TEST(tls13_client_hello_legacy_fields)
{
	unsigned char msg[512];
	struct tls13_client_hello ch;
	static const unsigned char exts[] = {VERSIONS_13};
	size_t len = hello_with(exts, sizeof exts, msg);
	REQUIRE(tls13_client_hello_parse(msg, len, &ch));
	msg[4] = 3, msg[5] = 1; /* legacy_version TLS 1.0 */
	CHECK(!tls13_client_hello_parse(msg, len, &ch));
	msg[5] = 3;
	msg[4 + 2 + 32 + 1 + 6 + 1] = 1; /* a compression method other than null */
	CHECK(!tls13_client_hello_parse(msg, len, &ch));
	msg[4 + 2 + 32 + 1 + 6 + 1] = 0;
	msg[0] = 2; /* not a ClientHello */
	CHECK(!tls13_client_hello_parse(msg, len, &ch));
}

/* The transcript hash and Derive-Secret against EVP and the default
 * provider's TLS13-KDF. */
TEST(tls13_hkdf_transcript_and_derive_secret)
{
	static const unsigned char a[] = "first message", b[] = "second";
	struct tls13_transcript t;
	tls13_transcript_init(&t, &tls13_sha384);
	tls13_transcript_add(&t, a, sizeof a - 1);
	unsigned char mid[48], want[48], end[48];
	tls13_transcript_hash(&t, mid);
	tls13_transcript_add(&t, b, sizeof b - 1);
	tls13_transcript_hash(&t, end);
	unsigned int wl = 0;
	REQUIRE(EVP_Digest(a, sizeof a - 1, want, &wl, EVP_sha384(), NULL) == 1);
	CHECK(memcmp(mid, want, 48) == 0);
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	REQUIRE(m);
	EVP_DigestInit_ex(m, EVP_sha384(), NULL);
	EVP_DigestUpdate(m, a, sizeof a - 1);
	EVP_DigestUpdate(m, b, sizeof b - 1);
	EVP_DigestFinal_ex(m, want, &wl);
	EVP_MD_CTX_free(m);
	CHECK(memcmp(end, want, 48) == 0);

	unsigned char secret[32], hash[32], ours[32], theirs[32];
	memset(secret, 7, sizeof secret);
	memset(hash, 9, sizeof hash);
	tls13_derive_secret(&tls13_sha256, secret, "c hs traffic", hash, ours);
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS13-KDF", "provider=default");
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	REQUIRE(kc);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_int("mode", &mode),
	    OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
	    OSSL_PARAM_construct_octet_string("key", secret, sizeof secret),
	    OSSL_PARAM_construct_octet_string("prefix", "tls13 ", 6),
	    OSSL_PARAM_construct_octet_string("label", "c hs traffic", 12),
	    OSSL_PARAM_construct_octet_string("data", hash, sizeof hash),
	    OSSL_PARAM_construct_end(),
	};
	CHECK(EVP_KDF_derive(kc, theirs, sizeof theirs, params) == 1);
	EVP_KDF_CTX_free(kc);
	CHECK(memcmp(ours, theirs, 32) == 0);
}
