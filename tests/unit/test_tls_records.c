/*
 * pullgate's own TLS 1.3 records (tls/transport_records.c) against
 * OpenSSL: our side is a real transport on a socket pair (a server, or a
 * pooled upstream connection's client), the peer an SSL on memory BIOs
 * whose bytes the test carries across, so that it can join, split and
 * alter them.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "tls/tls13_kdf.h"
#include "tls/tls13_records.h"
#include "tls/transport.h"
#include "tls/transport_records.h"
#include "unit.h"

struct rt {
	SSL_CTX *sctx, *cctx;
	SSL *peer;
	BIO *p_in, *p_out; /* the peer's input and output */
	int wire;          /* the peer's end of the transport's socket pair */
	struct transport t;
	bool transport_done;
};

static EVP_PKEY *rt_key;
static X509 *rt_cert;

/* A self-signed P-256 certificate for the server. */
static bool rt_identity(void)
{
	if (rt_cert)
		return true;
	/* By NID: a curve name is not understood once another test has
	 * registered an ENGINE for EC keys. */
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (!kc || EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, NID_X9_62_prime256v1) != 1 ||
	    EVP_PKEY_keygen(kc, &rt_key) != 1)
		rt_key = NULL;
	EVP_PKEY_CTX_free(kc);
	X509 *x = X509_new();
	if (!rt_key || !x)
		return false;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"records.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, rt_key);
	if (X509_sign(x, rt_key, EVP_sha256()) <= 0) {
		X509_free(x);
		return false;
	}
	rt_cert = x;
	return true;
}

/* Moves what each side wrote to the other, and tells the transport its
 * socket may have bytes and room (the edges a poller would report). */
static void rt_pump(struct rt *r)
{
	char buf[65536];
	int n;
	while ((n = BIO_read(r->p_out, buf, sizeof buf)) > 0)
		CHECK(write(r->wire, buf, (size_t)n) == n);
	ssize_t m;
	while ((m = read(r->wire, buf, sizeof buf)) > 0)
		BIO_write(r->p_in, buf, (int)m);
	transport_note_events(&r->t, IO_READ | IO_WRITE);
}

static bool rt_kdf; /* our side's context from transport_records_ctx_new */

/* With resume, the server uses the context (and ticket keys) of the
 * connection the session came from: from. */
static bool rt_start_from(struct rt *r, int max_version, const char *suite, int tickets,
			  SSL_SESSION *resume, SSL_CTX *from, bool transport_client)
{
	memset(r, 0, sizeof *r);
	r->wire = -1;
	int sv[2];
	if (!rt_identity() || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return false;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	r->wire = sv[1];
	/* With rt_kdf, the transport's side has its context as the roles
	 * make it: the provider's key schedule hands over the secrets. */
	bool kdf_server = rt_kdf && !transport_client, kdf_client = rt_kdf && transport_client;
	if (from && SSL_CTX_up_ref(from) == 1)
		r->sctx = from;
	else if (!from)
		r->sctx = kdf_server ? transport_records_ctx_new(TLS_server_method())
				     : SSL_CTX_new(TLS_server_method());
	r->cctx = kdf_client ? transport_records_ctx_new(TLS_client_method())
			     : SSL_CTX_new(TLS_client_method());
	if (!r->sctx || !r->cctx || SSL_CTX_use_certificate(r->sctx, rt_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(r->sctx, rt_key) != 1 ||
	    SSL_CTX_set_max_proto_version(r->cctx, max_version) != 1 ||
	    (suite && SSL_CTX_set_ciphersuites(r->cctx, suite) != 1))
		return false;
	if (tickets >= 0)
		SSL_CTX_set_num_tickets(r->sctx, (size_t)tickets);
	if (!kdf_server)
		transport_records_prepare(r->sctx);
	if (!kdf_client)
		transport_records_prepare(r->cctx);
	SSL *ours = SSL_new(transport_client ? r->cctx : r->sctx);
	r->peer = SSL_new(transport_client ? r->sctx : r->cctx);
	if (!ours || !r->peer)
		return false;
	if (resume)
		SSL_set_session(transport_client ? ours : r->peer, resume);
	transport_init_tls(&r->t, sv[0], ours, !transport_client);
	r->p_in = BIO_new(BIO_s_mem());
	r->p_out = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(r->p_in, -1);
	SSL_set_bio(r->peer, r->p_in, r->p_out);
	if (transport_client)
		SSL_set_accept_state(r->peer);
	else
		SSL_set_connect_state(r->peer);
	return true;
}

static bool rt_start(struct rt *r, int max_version, const char *suite, int tickets,
		     SSL_SESSION *resume)
{
	return rt_start_from(r, max_version, suite, tickets, resume, NULL, false);
}

/* Runs the handshake; with early, the peer's first data goes out right
 * behind its Finished, in the same flight (the peer as client). */
static bool rt_handshake(struct rt *r, const char *early)
{
	bool peer_done = false, sent = false;
	for (int i = 0; i < 50 && !(peer_done && r->transport_done); i++) {
		if (!peer_done) {
			int c = SSL_do_handshake(r->peer);
			if (c == 1)
				peer_done = true;
			else if (SSL_get_error(r->peer, c) != SSL_ERROR_WANT_READ)
				return false;
		}
		if (peer_done && early && !sent) {
			sent = SSL_write(r->peer, early, (int)strlen(early)) == (int)strlen(early);
			if (!sent)
				return false;
		}
		rt_pump(r);
		if (!r->transport_done) {
			int s = transport_handshake(&r->t);
			if (s < 0)
				return false;
			r->transport_done = s == 1;
		}
		rt_pump(r);
	}
	return peer_done && r->transport_done;
}

static void rt_end(struct rt *r)
{
	/* A client closing without close_notify would spoil its session. */
	if (r->peer && !SSL_is_server(r->peer) && SSL_is_init_finished(r->peer))
		SSL_shutdown(r->peer);
	transport_close(&r->t);
	if (r->wire >= 0)
		close(r->wire);
	SSL_free(r->peer);
	SSL_CTX_free(r->sctx);
	SSL_CTX_free(r->cctx);
	ERR_clear_error();
}

/* Reads from the server transport until want bytes came, or nothing more. */
static size_t rt_transport_read(struct rt *r, char *buf, size_t want)
{
	size_t got = 0;
	for (int i = 0; i < 100 && got < want; i++) {
		rt_pump(r);
		ssize_t n = transport_read(&r->t, buf + got, want - got);
		if (n > 0)
			got += (size_t)n;
		else if (n != TRANSPORT_AGAIN)
			break;
	}
	return got;
}

/* Writes all of buf from the server. */
static bool rt_transport_write(struct rt *r, const char *buf, size_t len)
{
	size_t done = 0;
	for (int i = 0; i < 1000 && done < len; i++) {
		ssize_t n = transport_write(&r->t, buf + done, len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n != TRANSPORT_AGAIN)
			return false;
		if (transport_unsent(&r->t) && transport_flush(&r->t) == TRANSPORT_ERROR)
			return false;
		rt_pump(r);
	}
	for (int i = 0; i < 1000 && transport_unsent(&r->t); i++) {
		if (transport_flush(&r->t) == TRANSPORT_ERROR)
			return false;
		rt_pump(r);
	}
	return done == len && !transport_unsent(&r->t);
}

/* Reads want bytes at the client, carrying bytes across meanwhile. */
static size_t rt_peer_read(struct rt *r, char *buf, size_t want)
{
	size_t got = 0;
	for (int i = 0; i < 1000 && got < want; i++) {
		rt_pump(r);
		int n = SSL_read(r->peer, buf + got, (int)(want - got));
		if (n > 0)
			got += (size_t)n;
		else if (SSL_get_error(r->peer, n) != SSL_ERROR_WANT_READ)
			break;
	}
	return got;
}

static bool rt_peer_sends(struct rt *r, const char *msg)
{
	char buf[256];
	size_t len = strlen(msg);
	if (SSL_write(r->peer, msg, (int)len) != (int)len)
		return false;
	return rt_transport_read(r, buf, len) == len && memcmp(buf, msg, len) == 0;
}

static bool rt_transport_sends(struct rt *r, size_t len)
{
	char *out = malloc(len), *in = malloc(len);
	bool ok = out && in;
	for (size_t i = 0; ok && i < len; i++)
		out[i] = (char)(i * 7 + len);
	ok = ok && rt_transport_write(r, out, len) && rt_peer_read(r, in, len) == len &&
	     memcmp(in, out, len) == 0;
	free(out);
	free(in);
	return ok;
}

TEST(tls_records_take_over_each_suite)
{
	static const char *suites[] = { "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
					"TLS_CHACHA20_POLY1305_SHA256" };
	for (size_t i = 0; i < 3; i++) {
		struct rt r;
		REQUIRE(rt_start(&r, TLS1_3_VERSION, suites[i], -1, NULL));
		CHECK(rt_handshake(&r, NULL));
		CHECK(r.t.ops == &transport_records_ops);
		CHECK_STR(SSL_get_cipher_name(r.peer), suites[i]);
		CHECK(rt_peer_sends(&r, "GET / HTTP/1.1\r\n\r\n"));
		CHECK(rt_transport_sends(&r, 1300));
		CHECK(rt_transport_sends(&r, 100 * 1024)); /* several records per write */
		CHECK(rt_transport_sends(&r, 200 * 1024)); /* several writes */
		CHECK(rt_peer_sends(&r, "again"));
		rt_end(&r);
	}
}

TEST(tls_records_tls12_stays_with_openssl)
{
	struct rt r;
	REQUIRE(rt_start(&r, TLS1_2_VERSION, NULL, -1, NULL));
	CHECK(rt_handshake(&r, NULL));
	CHECK(r.t.ops == &transport_tls_ops);
	CHECK(r.t.capture == NULL && r.t.stream == NULL);
	CHECK(rt_peer_sends(&r, "GET / HTTP/1.1\r\n\r\n"));
	CHECK(rt_transport_sends(&r, 70000));
	rt_end(&r);
}

/* The request that comes with the client's Finished is read after the
 * take over, from the bytes OpenSSL was not given. Checked with every
 * ticket count: each ticket is a record sealed before the take over. */
TEST(tls_records_request_behind_finished_and_tickets)
{
	for (int tickets = 0; tickets <= 3; tickets++) {
		struct rt r;
		REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, tickets, NULL));
		CHECK(rt_handshake(&r, "GET /first HTTP/1.1\r\n\r\n"));
		CHECK(r.t.ops == &transport_records_ops);
		CHECK(transport_has_pending(&r.t));
		char buf[64];
		CHECK_EQ_INT(transport_read(&r.t, buf, sizeof buf), 23);
		CHECK(memcmp(buf, "GET /first HTTP/1.1\r\n\r\n", 23) == 0);
		CHECK(rt_transport_sends(&r, 512));
		SSL_SESSION *sess = SSL_get1_session(r.peer);
		CHECK_EQ_INT(SSL_SESSION_is_resumable(sess), tickets > 0);
		SSL_CTX *from = r.sctx;
		SSL_CTX_up_ref(from);
		rt_end(&r);
		if (tickets > 0) {
			struct rt again;
			bool started = rt_start_from(&again, TLS1_3_VERSION, NULL, tickets, sess, from, false);
			SSL_CTX_free(from);
			from = NULL;
			REQUIRE(started);
			CHECK(rt_handshake(&again, NULL));
			CHECK(SSL_session_reused(again.peer));
			CHECK(again.t.ops == &transport_records_ops);
			CHECK(rt_peer_sends(&again, "resumed"));
			CHECK(rt_transport_sends(&again, 2048));
			rt_end(&again);
		}
		SSL_CTX_free(from);
		SSL_SESSION_free(sess);
	}
}

static int rt_key_updates_in; /* KeyUpdates the client received */

static void rt_count_key_updates(int write_p, int version, int content_type, const void *buf,
				 size_t len, SSL *ssl, void *arg)
{
	if (!write_p && content_type == SSL3_RT_HANDSHAKE && len && *(const unsigned char *)buf == SSL3_MT_KEY_UPDATE)
		rt_key_updates_in++;
}

/* A KeyUpdate that asks for ours gets one, before our next data; one that
 * does not ask gets none. */
TEST(tls_records_key_updates_both_ways)
{
	struct rt r;
	REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, -1, NULL));
	REQUIRE(rt_handshake(&r, NULL));
	REQUIRE(r.t.ops == &transport_records_ops);
	rt_key_updates_in = 0;
	SSL_set_msg_callback(r.peer, rt_count_key_updates);
	for (int i = 0; i < 3; i++) {
		/* The client moves to its next key and asks for ours. */
		CHECK(SSL_key_update(r.peer, SSL_KEY_UPDATE_REQUESTED) == 1);
		CHECK(rt_peer_sends(&r, "after update"));
		CHECK(rt_transport_sends(&r, 3000));
		CHECK_EQ_INT(rt_key_updates_in, i + 1);
		CHECK(SSL_key_update(r.peer, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
		CHECK(rt_peer_sends(&r, "after another"));
		CHECK(rt_transport_sends(&r, 20000));
		CHECK_EQ_INT(rt_key_updates_in, i + 1);
	}
	rt_end(&r);
}

TEST(tls_records_partial_and_joined_records)
{
	struct rt r;
	REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, -1, NULL));
	REQUIRE(rt_handshake(&r, NULL));
	/* Byte by byte: nothing until the record is whole. */
	CHECK(SSL_write(r.peer, "dribbled", 8) == 8);
	char rec[256];
	int n = BIO_read(r.p_out, rec, sizeof rec);
	REQUIRE(n > 8);
	char buf[64];
	for (int i = 0; i < n; i++) {
		CHECK(write(r.wire, rec + i, 1) == 1);
		transport_note_events(&r.t, IO_READ);
		ssize_t m = transport_read(&r.t, buf, sizeof buf);
		if (i < n - 1)
			CHECK_EQ_INT(m, TRANSPORT_AGAIN);
		else
			CHECK(m == 8 && memcmp(buf, "dribbled", 8) == 0);
	}
	/* Three records at once, read into a small buffer: the rest waits as
	 * pending, with no socket edge needed. */
	CHECK(SSL_write(r.peer, "one.", 4) == 4);
	CHECK(SSL_write(r.peer, "two.", 4) == 4);
	CHECK(SSL_write(r.peer, "three", 5) == 5);
	rt_pump(&r);
	char all[16];
	size_t got = 0;
	for (int i = 0; i < 20 && got < 13; i++) {
		ssize_t m = transport_read(&r.t, all + got, 3);
		if (m > 0)
			got += (size_t)m;
		r.t.readable = false;
		if (got < 13)
			CHECK(transport_has_pending(&r.t));
	}
	CHECK(got == 13 && memcmp(all, "one.two.three", 13) == 0);
	CHECK(!transport_has_pending(&r.t));
	rt_end(&r);
}

TEST(tls_records_padded_records)
{
	struct rt r;
	REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, -1, NULL));
	REQUIRE(rt_handshake(&r, NULL));
	CHECK(SSL_set_block_padding(r.peer, 512) == 1);
	CHECK(rt_peer_sends(&r, "padded to 512"));
	CHECK(rt_peer_sends(&r, "x"));
	rt_end(&r);
}

TEST(tls_records_close_notify_both_ways)
{
	struct rt r;
	REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, -1, NULL));
	REQUIRE(rt_handshake(&r, NULL));
	/* Ours: the client reads a clean end. */
	transport_shutdown(&r.t);
	rt_pump(&r);
	char c;
	int n = SSL_read(r.peer, &c, 1);
	CHECK(n <= 0 && SSL_get_error(r.peer, n) == SSL_ERROR_ZERO_RETURN);
	/* Theirs, behind data: the data first, then the end. */
	CHECK(SSL_write(r.peer, "last", 4) == 4);
	CHECK(SSL_shutdown(r.peer) >= 0);
	rt_pump(&r);
	char buf[16];
	CHECK_EQ_INT(transport_read(&r.t, buf, sizeof buf), 4);
	CHECK_EQ_INT(transport_read(&r.t, buf, sizeof buf), 0);
	CHECK(r.t.eof);
	rt_end(&r);
}

/* Records held for the next write (a session ticket) and the close_notify
 * of a closing connection leave with its data, and nothing before or
 * after: transport_shutdown then has nothing left to send. */
TEST(tls_records_held_and_close_notify_leave_with_the_last_write)
{
	struct rt r;
	REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, 0, NULL));
	REQUIRE(rt_handshake(&r, NULL));
	rt_pump(&r);
	unsigned char rec[TLS13_SEALED_LEN(5)];
	size_t n = transport_records_seal(&r.t, TLS13_APPLICATION_DATA, "held ", 5, rec);
	REQUIRE(n > 0);
	CHECK(transport_records_hold(&r.t, rec, n));
	CHECK(!transport_records_hold(&r.t, rec, n)); /* one set at a time */
	char peek;
	CHECK(recv(r.wire, &peek, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN);
	transport_closing(&r.t);
	CHECK_EQ_INT(transport_write(&r.t, "last", 4), 4);
	CHECK(!transport_unsent(&r.t));
	char buf[16] = {0};
	CHECK_EQ_INT(rt_peer_read(&r, buf, 9), 9);
	CHECK(memcmp(buf, "held last", 9) == 0);
	int m = SSL_read(r.peer, buf, 1);
	CHECK(m <= 0 && SSL_get_error(r.peer, m) == SSL_ERROR_ZERO_RETURN);
	transport_shutdown(&r.t);
	CHECK(recv(r.wire, &peek, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN);
	rt_end(&r);
}

/* Flips one bit of a record on the wire: the server refuses it with a
 * bad_record_mac alert that the client can read. */
TEST(tls_records_altered_record_is_refused)
{
	for (int where = 0; where < 3; where++) {
		struct rt r;
		REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, -1, NULL));
		REQUIRE(rt_handshake(&r, NULL));
		CHECK(SSL_write(r.peer, "tampered with", 13) == 13);
		unsigned char rec[256];
		int n = BIO_read(r.p_out, rec, sizeof rec);
		REQUIRE(n > 20);
		rec[where == 0 ? 2 + TLS13_HEADER_LEN : where == 1 ? n - 1 : 2] ^= 0x01; /* content, tag, header */
		CHECK(write(r.wire, rec, (size_t)n) == n);
		transport_note_events(&r.t, IO_READ);
		char buf[64];
		CHECK_EQ_INT(transport_read(&r.t, buf, sizeof buf), TRANSPORT_ERROR);
		rt_pump(&r);
		char c;
		CHECK(SSL_read(r.peer, &c, 1) <= 0);
		CHECK_EQ_INT(ERR_GET_REASON(ERR_peek_error()), SSL_R_SSLV3_ALERT_BAD_RECORD_MAC);
		CHECK_EQ_INT(ERR_GET_REASON(r.t.ssl_error), SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC);
		rt_end(&r);
	}
}

/* A good record and an altered one arriving together: the reader gets the
 * good one's data, and the next read fails. */
TEST(tls_records_data_before_a_failure_is_read_first)
{
	struct rt r;
	REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, -1, NULL));
	REQUIRE(rt_handshake(&r, NULL));
	CHECK(SSL_write(r.peer, "good", 4) == 4);
	CHECK(SSL_write(r.peer, "altered", 7) == 7);
	unsigned char recs[256];
	int n = BIO_read(r.p_out, recs, sizeof recs);
	REQUIRE(n > 30);
	recs[n - 1] ^= 0x01; /* the second record's tag */
	CHECK(write(r.wire, recs, (size_t)n) == n);
	transport_note_events(&r.t, IO_READ);
	char buf[64];
	CHECK_EQ_INT(transport_read(&r.t, buf, sizeof buf), 4);
	CHECK(memcmp(buf, "good", 4) == 0);
	CHECK(transport_has_pending(&r.t));
	CHECK_EQ_INT(transport_read(&r.t, buf, sizeof buf), TRANSPORT_ERROR);
	rt_end(&r);
}

/* Records that no TLS 1.3 peer may send after the handshake. */
TEST(tls_records_unexpected_records_are_refused)
{
	static const unsigned char plain_alert[] = { 21, 3, 3, 0, 2, 2, 40 };
	static const unsigned char ccs[] = { 20, 3, 3, 0, 1, 1 };
	static const unsigned char too_long[] = { 23, 3, 3, 0x41, 0x01 };
	const struct { const unsigned char *p; size_t n; int reason; } cases[] = {
		{ plain_alert, sizeof plain_alert, SSL_R_UNEXPECTED_MESSAGE },
		{ ccs, sizeof ccs, SSL_R_UNEXPECTED_MESSAGE },
		{ too_long, sizeof too_long, SSL_R_ENCRYPTED_LENGTH_TOO_LONG },
	};
	for (size_t i = 0; i < 3; i++) {
		struct rt r;
		REQUIRE(rt_start(&r, TLS1_3_VERSION, NULL, -1, NULL));
		REQUIRE(rt_handshake(&r, NULL));
		CHECK(write(r.wire, cases[i].p, cases[i].n) == (ssize_t)cases[i].n);
		transport_note_events(&r.t, IO_READ);
		char buf[64];
		CHECK_EQ_INT(transport_read(&r.t, buf, sizeof buf), TRANSPORT_ERROR);
		CHECK_EQ_INT(ERR_GET_REASON(r.t.ssl_error), cases[i].reason);
		rt_end(&r);
	}
}

static int rt_key_updates_out; /* KeyUpdates a peer server received */

static void rt_count_key_updates_at_server(int write_p, int version, int content_type,
					   const void *buf, size_t len, SSL *ssl, void *arg)
{
	if (!write_p && content_type == SSL3_RT_HANDSHAKE && len && *(const unsigned char *)buf == SSL3_MT_KEY_UPDATE)
		rt_key_updates_out++;
}

/* A pooled upstream connection: OpenSSL reads the server's tickets and the
 * first response; when the connection goes back to the pool the records
 * become ours, counting the records each way so far. Tickets that come
 * later are skipped, and key updates work both ways. */
TEST(tls_records_client_takes_over_after_first_response)
{
	for (int tickets = 0; tickets <= 2; tickets++) {
		struct rt r;
		REQUIRE(rt_start_from(&r, TLS1_3_VERSION, NULL, tickets, NULL, NULL, true));
		REQUIRE(rt_handshake(&r, NULL));
		CHECK(r.t.ops == &transport_tls_ops && r.t.capture != NULL);
		/* The first exchange goes through OpenSSL, tickets first. */
		CHECK(rt_transport_write(&r, "GET /1 HTTP/1.1\r\n\r\n", 20));
		char buf[64];
		CHECK(rt_peer_read(&r, buf, 20) == 20);
		CHECK(SSL_write(r.peer, "first response", 14) == 14);
		CHECK(rt_transport_read(&r, buf, 14) == 14 && memcmp(buf, "first response", 14) == 0);
		CHECK_EQ_INT(SSL_SESSION_is_resumable(SSL_get_session(r.t.ssl)), tickets > 0);
		CHECK(transport_records_take_over(&r.t));
		CHECK(r.t.ops == &transport_records_ops && r.t.capture == NULL);
		/* Ours from here. */
		CHECK(rt_transport_write(&r, "GET /2 HTTP/1.1\r\n\r\n", 20));
		CHECK(rt_peer_read(&r, buf, 20) == 20 && memcmp(buf, "GET /2", 6) == 0);
		CHECK(SSL_write(r.peer, "second", 6) == 6);
		CHECK(rt_transport_read(&r, buf, 6) == 6 && memcmp(buf, "second", 6) == 0);
		/* A ticket after the take over: skipped. */
		CHECK(SSL_new_session_ticket(r.peer) == 1);
		CHECK(SSL_write(r.peer, "after a ticket", 14) == 14);
		CHECK(rt_transport_read(&r, buf, 14) == 14 && memcmp(buf, "after a ticket", 14) == 0);
		/* The server moves on and asks for ours. */
		rt_key_updates_out = 0;
		SSL_set_msg_callback(r.peer, rt_count_key_updates_at_server);
		CHECK(SSL_key_update(r.peer, SSL_KEY_UPDATE_REQUESTED) == 1);
		CHECK(SSL_write(r.peer, "rekeyed", 7) == 7);
		CHECK(rt_transport_read(&r, buf, 7) == 7 && memcmp(buf, "rekeyed", 7) == 0);
		CHECK(rt_transport_write(&r, "GET /3 HTTP/1.1\r\n\r\n", 20));
		CHECK(rt_peer_read(&r, buf, 20) == 20 && memcmp(buf, "GET /3", 6) == 0);
		CHECK_EQ_INT(rt_key_updates_out, 1);
		rt_end(&r);
	}
}

/* A key update that went through OpenSSL before the pool took the
 * connection back: the secrets moved on, so OpenSSL keeps the records. */
TEST(tls_records_client_keeps_openssl_after_a_key_update)
{
	struct rt r;
	REQUIRE(rt_start_from(&r, TLS1_3_VERSION, NULL, 1, NULL, NULL, true));
	REQUIRE(rt_handshake(&r, NULL));
	char buf[16];
	CHECK(SSL_key_update(r.peer, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
	CHECK(SSL_write(r.peer, "response", 8) == 8);
	CHECK(rt_transport_read(&r, buf, 8) == 8);
	CHECK(!transport_records_take_over(&r.t));
	CHECK(r.t.ops == &transport_tls_ops && r.t.capture == NULL);
	CHECK(rt_transport_write(&r, "still fine", 10));
	CHECK(rt_peer_read(&r, buf, 10) == 10 && memcmp(buf, "still fine", 10) == 0);
	rt_end(&r);
}

/* After 2^24 records under one key, ours moves to the next: a KeyUpdate
 * goes out first, and the data after it is sealed with the new key. */
TEST(tls_records_key_moves_on_after_its_limit)
{
	unsigned char a[32] = { 7 }, b[32] = { 9 };
	int sv[2];
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct transport t;
	transport_init_plain(&t, sv[0]);
	struct tls13_records peer;
	struct transport_secrets k = { .suite_id = TLS1_3_CK_AES_128_GCM_SHA256, .open_secret = a,
				       .seal_secret = b, .secret_len = 32, .seal_seq = TLS13_KEY_RECORDS - 1 };
	REQUIRE(transport_records_start(&t, &k));
	REQUIRE(tls13_records_init(&peer, TLS1_3_CK_AES_128_GCM_SHA256, b, a, 32, 0));
	peer.open.seq = TLS13_KEY_RECORDS - 1;
	transport_note_events(&t, IO_WRITE);
	unsigned char rec[256];
	enum tls13_content type;
	size_t len;
	/* The last record under the first key. */
	CHECK_EQ_INT(transport_write(&t, "last", 4), 4);
	CHECK_EQ_INT(read(sv[1], rec, sizeof rec), TLS13_SEALED_LEN(4));
	CHECK_EQ_INT(tls13_open(&peer, rec, TLS13_SEALED_LEN(4), &type, &len), 0);
	CHECK(type == TLS13_APPLICATION_DATA && len == 4);
	/* Then a KeyUpdate that asks for nothing, and data under the next key. */
	CHECK_EQ_INT(transport_write(&t, "next", 4), 4);
	CHECK_EQ_INT(read(sv[1], rec, sizeof rec), TLS13_SEALED_LEN(5) + TLS13_SEALED_LEN(4));
	CHECK_EQ_INT(tls13_open(&peer, rec, TLS13_SEALED_LEN(5), &type, &len), 0);
	CHECK(type == TLS13_HANDSHAKE && len == 5);
	const unsigned char *ku = rec + TLS13_HEADER_LEN;
	CHECK(ku[0] == SSL3_MT_KEY_UPDATE && ku[3] == 1 && ku[4] == SSL_KEY_UPDATE_NOT_REQUESTED);
	CHECK(tls13_key_update(&peer, &peer.open));
	unsigned char *data = rec + TLS13_SEALED_LEN(5);
	CHECK_EQ_INT(tls13_open(&peer, data, TLS13_SEALED_LEN(4), &type, &len), 0);
	CHECK(type == TLS13_APPLICATION_DATA && len == 4 && memcmp(data + TLS13_HEADER_LEN, "next", 4) == 0);
	tls13_records_clear(&peer);
	transport_close(&t);
	close(sv[1]);
}

/* The records themselves: what one side seals, the other opens, with the
 * sequence numbers and key updates in step; a replayed record fails. */
TEST(tls13_records_seal_open_and_update)
{
	unsigned char a[32], b[32];
	for (int i = 0; i < 32; i++) {
		a[i] = (unsigned char)i;
		b[i] = (unsigned char)(255 - i);
	}
	struct tls13_records x, y;
	REQUIRE(tls13_records_init(&x, TLS1_3_CK_AES_128_GCM_SHA256, a, b, 32, 0));
	REQUIRE(tls13_records_init(&y, TLS1_3_CK_AES_128_GCM_SHA256, b, a, 32, 0));
	struct tls13_records ccm;
	CHECK(!tls13_records_init(&ccm, TLS1_3_CK_AES_128_CCM_SHA256, a, b, 32, 0));
	unsigned char rec[TLS13_SEALED_LEN(100)], copy[sizeof rec];
	for (int i = 0; i < 4; i++) {
		size_t n = tls13_seal(&x, TLS13_APPLICATION_DATA, "hello records", 13, rec);
		CHECK_EQ_INT(n, TLS13_SEALED_LEN(13));
		memcpy(copy, rec, n);
		enum tls13_content type;
		size_t len;
		CHECK_EQ_INT(tls13_open(&y, rec, n, &type, &len), 0);
		CHECK(type == TLS13_APPLICATION_DATA && len == 13 &&
		      memcmp(rec + TLS13_HEADER_LEN, "hello records", 13) == 0);
		CHECK_EQ_INT(tls13_open(&y, copy, n, &type, &len), TLS13_ALERT_BAD_RECORD_MAC);
		/* The failed record did not move the sequence on: step the
		 * sealer to match, then both sides update the sealing key. */
		tls13_seal(&x, TLS13_APPLICATION_DATA, "x", 1, rec);
		CHECK_EQ_INT(tls13_open(&y, rec, TLS13_SEALED_LEN(1), &type, &len), 0);
		CHECK(tls13_key_update(&x, &x.seal) && tls13_key_update(&y, &y.open));
	}
	tls13_records_clear(&x);
	tls13_records_clear(&y);
}

/* The same with the roles' contexts, whose key schedule is the provider's
 * (tls/tls13_kdf.c) and hands the secrets to the watch: taken over, for
 * each suite's hash, and the records agree with OpenSSL's peer, before and
 * after resumption and key updates, as server and as client. */
TEST(tls_records_with_the_provider_key_schedule)
{
	REQUIRE(tls13_kdf_install());
	rt_kdf = true;
	test_tls_records_take_over_each_suite();
	test_tls_records_request_behind_finished_and_tickets();
	test_tls_records_key_updates_both_ways();
	test_tls_records_client_takes_over_after_first_response();
	rt_kdf = false;
}
