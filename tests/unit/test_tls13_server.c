/*
 * Unit tests for pullgate's own TLS 1.3 server handshake
 * (src/tls/tls13_server.c) against OpenSSL's client, in memory: the client
 * accepts the server's flight (its signature, its Finished, the suite and
 * ALPN), the server accepts the client's certificate, signature and
 * Finished, and application data sealed with the derived secrets opens on
 * the other side, both ways. What goes wrong ends with the right alert.
 */
#include "unit.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls/tls13_client_hello.h"
#include "tls/tls13_server.h"
#include "tls/tls13_ticket.h"

static EVP_PKEY *ts_key_new(void)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (!kc || EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) != 1 ||
	    EVP_PKEY_keygen(kc, &key) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(kc);
	return key;
}

/* A self-signed certificate for key. */
static X509 *ts_cert_new(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

struct ts {
	EVP_PKEY *server_key, *client_key;
	X509 *server_cert, *client_cert;
	SSL_CTX *cctx;
	SSL *client;
	BIO *c_in, *c_out; /* the client's input and output */
	struct tls13_server_identity id;
	struct tls13_server s;
	int judged;          /* chains judged */
	int judge_says;      /* the judge's answer: 0 or an alert */
	EVP_PKEY *wrong_key; /* set: the key the judge hands back instead */
	unsigned char wire[32768];
	size_t wire_len;
};

static int ts_judge(void *arg, const unsigned char *const *der, const size_t *len, size_t count,
                    EVP_PKEY **leaf_key)
{
	struct ts *t = arg;
	t->judged++;
	if (t->judge_says)
		return t->judge_says;
	const unsigned char *p = der[0];
	X509 *leaf = d2i_X509(NULL, &p, (long)len[0]);
	if (!leaf || p != der[0] + len[0] || count != 1 || X509_cmp(leaf, t->client_cert) != 0) {
		X509_free(leaf);
		return TLS13_ALERT_BAD_CERTIFICATE;
	}
	*leaf_key = X509_get_pubkey(leaf);
	X509_free(leaf);
	if (t->wrong_key) {
		EVP_PKEY_free(*leaf_key);
		EVP_PKEY_up_ref(t->wrong_key);
		*leaf_key = t->wrong_key;
	}
	return 0;
}

static void ts_free(struct ts *t)
{
	tls13_server_clear(&t->s);
	tls13_server_identity_clear(&t->id);
	SSL_free(t->client);
	SSL_CTX_free(t->cctx);
	X509_free(t->server_cert);
	X509_free(t->client_cert);
	EVP_PKEY_free(t->server_key);
	EVP_PKEY_free(t->client_key);
	ERR_clear_error();
}

/* A client that trusts the server's certificate and has one of its own
 * (unless with_cert is false), offering suites (NULL: OpenSSL's). */
static bool ts_init(struct ts *t, bool with_cert, const char *suites)
{
	memset(t, 0, sizeof *t);
	t->server_key = ts_key_new();
	t->client_key = ts_key_new();
	if (!t->server_key || !t->client_key)
		return false;
	t->server_cert = ts_cert_new(t->server_key, "origin.test");
	t->client_cert = ts_cert_new(t->client_key, "edge.test");
	t->cctx = SSL_CTX_new(TLS_client_method());
	if (!t->server_cert || !t->client_cert || !t->cctx)
		return false;
	SSL_CTX_set_min_proto_version(t->cctx, TLS1_3_VERSION);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(t->cctx), t->server_cert);
	SSL_CTX_set_verify(t->cctx, SSL_VERIFY_PEER, NULL);
	if (suites)
		SSL_CTX_set_ciphersuites(t->cctx, suites);
	if (with_cert && (SSL_CTX_use_certificate(t->cctx, t->client_cert) != 1 ||
	                  SSL_CTX_use_PrivateKey(t->cctx, t->client_key) != 1))
		return false;
	t->client = SSL_new(t->cctx);
	t->c_in = BIO_new(BIO_s_mem());
	t->c_out = BIO_new(BIO_s_mem());
	if (!t->client || !t->c_in || !t->c_out)
		return false;
	SSL_set_bio(t->client, t->c_in, t->c_out);
	SSL_set_tlsext_host_name(t->client, "origin.test");
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_set_alpn_protos(t->client, alpn, sizeof alpn - 1);
	SSL_set_connect_state(t->client);
	return tls13_server_identity_init(&t->id, t->server_key, t->server_cert, NULL);
}

/* What the client wrote since last time, into t->wire. */
static void ts_take_client(struct ts *t)
{
	int n = BIO_read(t->c_out, t->wire, sizeof t->wire);
	t->wire_len = n > 0 ? (size_t)n : 0;
}

static const uint16_t our_suites[] = {0x1301, 0x1302, 0x1303};

/* Runs the handshake up to the client's flight in t->wire; the server's
 * start result. */
static int ts_start(struct ts *t, uint16_t *suite)
{
	CHECK(SSL_do_handshake(t->client) <= 0);
	ts_take_client(t);
	if (t->wire_len < 5 || t->wire[0] != 22)
		return -1;
	const unsigned char *msg = t->wire + 5;
	size_t len = (size_t)t->wire[3] << 8 | t->wire[4];
	struct tls13_client_hello ch;
	if (!tls13_client_hello_parse(msg, len, &ch))
		return -1;
	*suite = tls13_server_can_answer(&ch, our_suites, 3, "http/1.1");
	if (!*suite)
		return -1;
	unsigned char out[8192];
	size_t out_len = 0;
	int r = tls13_server_start(&t->s, &t->id, msg, len, &ch, *suite, "http/1.1", ts_judge, t, out,
	                           sizeof out, &out_len);
	if (r == 0)
		BIO_write(t->c_in, out, (int)out_len);
	SSL_do_handshake(t->client);
	ts_take_client(t);
	return r;
}

TEST(tls13_server_full_handshake_with_openssl_client)
{
	struct ts t;
	REQUIRE(ts_init(&t, true, NULL));
	uint16_t suite = 0;
	REQUIRE(ts_start(&t, &suite) == 0);
	CHECK_EQ_INT(suite, 0x1301);
	CHECK(SSL_is_init_finished(t.client));
	CHECK_EQ_INT(SSL_get_verify_result(t.client), X509_V_OK);
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;
	SSL_get0_alpn_selected(t.client, &alpn, &alpn_len);
	CHECK(alpn_len == 8 && memcmp(alpn, "http/1.1", 8) == 0);

	/* The client's flight and a request after it, in one go. */
	CHECK(SSL_write(t.client, "GET / HTTP/1.1\r\n\r\n", 18) == 18);
	size_t first = t.wire_len;
	int n = BIO_read(t.c_out, t.wire + first, (int)(sizeof t.wire - first));
	t.wire_len += n > 0 ? (size_t)n : 0;
	size_t used = 0;
	CHECK_EQ_INT(tls13_server_read(&t.s, t.wire, t.wire_len, &used), 1);
	CHECK_EQ_INT(used, first); /* the request is not the handshake's */
	CHECK_EQ_INT(t.judged, 1);

	/* The application secrets: the request opens, an answer reads. */
	struct tls13_records app;
	REQUIRE(tls13_records_init(&app, 0x03000000u | suite, t.s.client_ap, t.s.server_ap, t.s.md->len, 0));
	enum tls13_content type;
	size_t content_len = 0;
	CHECK_EQ_INT(tls13_open(&app, t.wire + used, t.wire_len - used, &type, &content_len), 0);
	CHECK(type == TLS13_APPLICATION_DATA && content_len == 18 &&
	      memcmp(t.wire + used + 5, "GET / HTTP/1.1\r\n\r\n", 18) == 0);
	unsigned char rec[64];
	size_t rec_len = tls13_seal(&app, TLS13_APPLICATION_DATA, "HTTP/1.1 200 OK", 15, rec);
	REQUIRE(rec_len > 0);
	BIO_write(t.c_in, rec, (int)rec_len);
	char got[32];
	CHECK_EQ_INT(SSL_read(t.client, got, sizeof got), 15);
	CHECK(memcmp(got, "HTTP/1.1 200 OK", 15) == 0);
	tls13_records_clear(&app);
	ts_free(&t);
}

TEST(tls13_server_sha384_suite_and_records_a_byte_at_a_time)
{
	struct ts t;
	REQUIRE(ts_init(&t, true, "TLS_AES_256_GCM_SHA384"));
	uint16_t suite = 0;
	REQUIRE(ts_start(&t, &suite) == 0);
	CHECK_EQ_INT(suite, 0x1302);
	CHECK(SSL_is_init_finished(t.client));
	/* The flight offered one byte more each time: only whole records are
	 * taken, and the handshake ends exactly at its last byte. */
	size_t taken = 0, used = 0;
	int r = 0;
	for (size_t have = 0; have <= t.wire_len && r == 0; have++) {
		r = tls13_server_read(&t.s, t.wire + taken, have - taken, &used);
		taken += used;
	}
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(taken, t.wire_len);
	ts_free(&t);
}

TEST(tls13_server_without_client_certificate_asks_for_it)
{
	struct ts t;
	REQUIRE(ts_init(&t, false, NULL));
	uint16_t suite = 0;
	REQUIRE(ts_start(&t, &suite) == 0);
	size_t used = 0;
	CHECK_EQ_INT(tls13_server_read(&t.s, t.wire, t.wire_len, &used), TLS13_ALERT_CERTIFICATE_REQUIRED);
	CHECK_EQ_INT(t.judged, 0);
	CHECK(t.s.state == TLS13_SERVER_FAILED);
	ts_free(&t);
}

TEST(tls13_server_judge_refusal_and_tampering_end_it)
{
	struct ts t;
	REQUIRE(ts_init(&t, true, NULL));
	t.judge_says = TLS13_ALERT_BAD_CERTIFICATE;
	uint16_t suite = 0;
	REQUIRE(ts_start(&t, &suite) == 0);
	size_t used = 0;
	CHECK_EQ_INT(tls13_server_read(&t.s, t.wire, t.wire_len, &used), TLS13_ALERT_BAD_CERTIFICATE);
	ts_free(&t);

	REQUIRE(ts_init(&t, true, NULL));
	REQUIRE(ts_start(&t, &suite) == 0);
	REQUIRE(t.wire_len > 40);
	t.wire[t.wire_len - 20] ^= 1; /* inside the last record's ciphertext */
	CHECK_EQ_INT(tls13_server_read(&t.s, t.wire, t.wire_len, &used), TLS13_ALERT_BAD_RECORD_MAC);
	ts_free(&t);
}

/* The CertificateVerify is checked with the key the judge hands back:
 * another key than the certificate's does not verify it. */
TEST(tls13_server_certificate_verify_must_match_the_key)
{
	struct ts t;
	REQUIRE(ts_init(&t, true, NULL));
	t.wrong_key = ts_key_new();
	REQUIRE(t.wrong_key);
	uint16_t suite = 0;
	REQUIRE(ts_start(&t, &suite) == 0);
	size_t used = 0;
	CHECK_EQ_INT(tls13_server_read(&t.s, t.wire, t.wire_len, &used), TLS13_ALERT_DECRYPT_ERROR);
	CHECK_EQ_INT(t.judged, 1);
	EVP_PKEY_free(t.wrong_key);
	ts_free(&t);
}

TEST(tls13_server_answers_only_what_it_can)
{
	struct tls13_client_hello ch = {0};
	static const unsigned char share[32];
	ch.offers_tls13 = true;
	ch.group_x25519 = true;
	ch.x25519_share = share;
	ch.sigalgs = TLS13_SIG_ECDSA_P256_SHA256;
	ch.suites[0] = 0x1303;
	ch.suites[1] = 0x1302;
	ch.suite_count = 2;
	CHECK_EQ_INT(tls13_server_can_answer(&ch, our_suites, 3, "http/1.1"), 0x1302);
	struct tls13_client_hello c = ch;
	c.x25519_share = NULL;
	CHECK_EQ_INT(tls13_server_can_answer(&c, our_suites, 3, NULL), 0);
	c = ch;
	c.has_psk = true;
	CHECK_EQ_INT(tls13_server_can_answer(&c, our_suites, 3, NULL), 0);
	c = ch;
	c.sigalgs = TLS13_SIG_RSA_PSS_RSAE_SHA256;
	CHECK_EQ_INT(tls13_server_can_answer(&c, our_suites, 3, NULL), 0);
	c = ch;
	c.offers_tls13 = false;
	CHECK_EQ_INT(tls13_server_can_answer(&c, our_suites, 3, NULL), 0);
	c = ch;
	static const char h2_only[] = "\x02h2";
	c.has_alpn = true;
	c.alpn = (struct slice){h2_only, 3};
	CHECK_EQ_INT(tls13_server_can_answer(&c, our_suites, 3, "http/1.1"), 0);
	CHECK_EQ_INT(tls13_server_can_answer(&ch, our_suites, 1, NULL), 0);
}

static X509 *ts_ticket_peer(void *arg, long *lifetime)
{
	*lifetime = 300;
	return arg;
}

/* Moves everything one memory BIO holds to another. */
static void ts_move(BIO *from, BIO *to)
{
	unsigned char buf[16384];
	int n;
	while ((n = BIO_read(from, buf, sizeof buf)) > 0)
		BIO_write(to, buf, n);
}

/* Our ticket, after our handshake, resumes in an OpenSSL server with the
 * same ticket keys and session id context: the session it carries is
 * TLS 1.3 with the client's certificate, verified. */
TEST(tls13_server_ticket_resumes_in_openssl)
{
	struct ts t;
	REQUIRE(ts_init(&t, true, NULL));
	uint16_t suite = 0;
	REQUIRE(ts_start(&t, &suite) == 0);
	size_t used = 0;
	REQUIRE(tls13_server_read(&t.s, t.wire, t.wire_len, &used) == 1);

	unsigned char keys[80];
	for (size_t i = 0; i < sizeof keys; i++)
		keys[i] = (unsigned char)(i * 7 + 1);
	static const unsigned char sid_ctx[] = "unit-test";
	struct tls13_accept_choice choice = {
		.ticket_keys = keys,
		.sid_ctx = sid_ctx,
		.sid_ctx_len = sizeof sid_ctx - 1,
		.peer = ts_ticket_peer,
		.judge_arg = t.client_cert,
	};
	unsigned char msg[TLS13_TICKET_MESSAGE_MAX], rec[TLS13_SEALED_LEN(TLS13_TICKET_MESSAGE_MAX)];
	size_t len = tls13_ticket_message(&t.s, &choice, t.client, msg, sizeof msg);
	REQUIRE(len > 0);
	struct tls13_records app;
	REQUIRE(tls13_records_init(&app, 0x03000000u | suite, t.s.client_ap, t.s.server_ap,
				   t.s.md->len, 0));
	size_t n = tls13_seal(&app, TLS13_HANDSHAKE, msg, len, rec);
	tls13_records_clear(&app);
	REQUIRE(n > 0);
	BIO_write(t.c_in, rec, (int)n);
	char buf[16];
	CHECK(SSL_read(t.client, buf, sizeof buf) <= 0); /* the ticket, no data */
	SSL_SESSION *sess = SSL_get1_session(t.client);
	REQUIRE(sess);
	CHECK(SSL_SESSION_is_resumable(sess));

	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	REQUIRE(sctx);
	SSL_CTX_use_certificate(sctx, t.server_cert);
	SSL_CTX_use_PrivateKey(sctx, t.server_key);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(sctx), t.client_cert);
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_session_id_context(sctx, sid_ctx, sizeof sid_ctx - 1);
	SSL_CTX_set_tlsext_ticket_keys(sctx, keys, sizeof keys);
	SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
	/* The session's suite first, as the guard's order has it: a PSK only
	 * resumes under a suite with its hash. */
	SSL_CTX_set_ciphersuites(sctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
	SSL_CTX_set_options(sctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL *srv = SSL_new(sctx), *cli = SSL_new(t.cctx);
	BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
	REQUIRE(srv && cli && s_in && s_out && c_in && c_out);
	SSL_set_bio(srv, s_in, s_out);
	SSL_set_bio(cli, c_in, c_out);
	SSL_set_accept_state(srv);
	SSL_set_connect_state(cli);
	SSL_set_session(cli, sess);
	for (int i = 0; i < 4; i++) {
		SSL_do_handshake(cli);
		ts_move(c_out, s_in);
		SSL_do_handshake(srv);
		ts_move(s_out, c_in);
	}
	CHECK(SSL_is_init_finished(srv) && SSL_is_init_finished(cli));
	CHECK(SSL_session_reused(srv));
	CHECK(SSL_session_reused(cli));
	X509 *peer = SSL_get0_peer_certificate(srv);
	CHECK(peer && X509_cmp(peer, t.client_cert) == 0);
	CHECK_EQ_INT(SSL_get_verify_result(srv), X509_V_OK);
	SSL_free(srv);
	SSL_free(cli);
	SSL_CTX_free(sctx);
	SSL_SESSION_free(sess);
	ts_free(&t);
}
