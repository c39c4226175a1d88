/*
 * handshake_cpu: server CPU per full mutual-TLS 1.3 handshake, pullgate's
 * own server handshake (src/tls/tls13_server.c) beside OpenSSL's server,
 * in memory, against OpenSSL's client. Only the server's calls are timed
 * (CLOCK_THREAD_CPUTIME_ID); ECDSA P-256 certificates, TLS_AES_128_GCM_SHA256,
 * x25519, no session ticket on either side. Ours finds the client's key by
 * its exact certificate bytes, as the guard's verify cache does.
 *
 *   make bench-handshake [HANDSHAKES=2000]
 *
 * Not the guard's whole cost: no sockets, no HTTP, no chain check.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki_build.h"
#include "pki/pki_keys.h"
#include "tls/tls13_client_hello.h"
#include "tls/tls13_server.h"

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A P-256 key and a self-signed leaf for it, as `pullgate pki` makes them. */
static X509 *self_signed(EVP_PKEY **key, const char *cn, enum pki_leaf_kind kind)
{
	char err[256];
	*key = pki_key_generate(PKI_KEY_ECDSA_P256, err, sizeof err);
	struct pki_cert_spec spec = {
	    .cn = cn, .leaf = kind, .key = *key, .not_before = time(NULL) - 60, .days = 1};
	return *key ? pki_build_cert(&spec, err, sizeof err) : NULL;
}

/* The client's key, kept by its certificate's exact bytes. */
struct judge {
	unsigned char *der;
	size_t len;
	EVP_PKEY *key;
};

static int judge_chain(void *arg, const unsigned char *const *der, const size_t *len, size_t count,
                       EVP_PKEY **leaf_key)
{
	struct judge *j = arg;
	if (!j->der) {
		const unsigned char *p = der[0];
		X509 *leaf = d2i_X509(NULL, &p, (long)len[0]);
		j->key = leaf ? X509_get_pubkey(leaf) : NULL;
		X509_free(leaf);
		j->der = malloc(len[0]);
		if (!j->key || !j->der)
			return TLS13_ALERT_BAD_CERTIFICATE;
		memcpy(j->der, der[0], len[0]);
		j->len = len[0];
	}
	if (count < 1 || len[0] != j->len || memcmp(der[0], j->der, j->len) != 0)
		return TLS13_ALERT_BAD_CERTIFICATE;
	EVP_PKEY_up_ref(j->key);
	*leaf_key = j->key;
	return 0;
}

/* Moves what one side wrote to the other. */
static void move(BIO *from, BIO *to)
{
	unsigned char buf[32768];
	int n;
	while ((n = BIO_read(from, buf, sizeof buf)) > 0)
		BIO_write(to, buf, n);
}

static SSL *client_new(SSL_CTX *cctx, BIO **in, BIO **out)
{
	SSL *c = SSL_new(cctx);
	*in = BIO_new(BIO_s_mem());
	*out = BIO_new(BIO_s_mem());
	SSL_set_bio(c, *in, *out);
	SSL_set_connect_state(c);
	return c;
}

static double ours(SSL_CTX *cctx, const struct tls13_server_identity *id, int n, int *ok)
{
	static const uint16_t suites[] = {0x1301};
	struct judge j = {0};
	double spent = 0;
	for (int i = 0; i < n; i++) {
		BIO *in, *out;
		SSL *c = client_new(cctx, &in, &out);
		unsigned char wire[32768], flight[8192];
		SSL_do_handshake(c);
		int got = BIO_read(out, wire, sizeof wire);
		size_t len = got > 5 ? (size_t)wire[3] << 8 | wire[4] : 0, flight_len = 0, used = 0;
		struct tls13_server s;
		struct tls13_client_hello ch;
		double a = cpu_now();
		uint16_t suite = tls13_client_hello_parse(wire + 5, len, &ch)
		                     ? tls13_server_can_answer(&ch, suites, 1, NULL)
		                     : 0;
		int r = suite ? tls13_server_start(&s, id, wire + 5, len, &ch, suite, NULL, judge_chain, &j,
		                                   flight, sizeof flight, &flight_len)
		              : -1;
		spent += cpu_now() - a;
		if (r == 0) {
			BIO_write(in, flight, (int)flight_len);
			SSL_do_handshake(c);
			got = BIO_read(out, wire, sizeof wire);
			a = cpu_now();
			r = tls13_server_read(&s, wire, got > 0 ? (size_t)got : 0, &used);
			tls13_server_clear(&s);
			spent += cpu_now() - a;
			*ok += r == 1 && SSL_is_init_finished(c);
		}
		SSL_free(c);
	}
	EVP_PKEY_free(j.key);
	free(j.der);
	return spent;
}

static double openssl_server(SSL_CTX *cctx, SSL_CTX *sctx, int n, int *ok)
{
	double spent = 0;
	for (int i = 0; i < n; i++) {
		BIO *in, *out;
		SSL *c = client_new(cctx, &in, &out);
		SSL *s = SSL_new(sctx);
		BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
		SSL_set_bio(s, s_in, s_out);
		SSL_set_accept_state(s);
		SSL_do_handshake(c);
		move(out, s_in);
		double a = cpu_now();
		SSL_do_handshake(s);
		spent += cpu_now() - a;
		move(s_out, in);
		SSL_do_handshake(c);
		move(out, s_in);
		a = cpu_now();
		int r = SSL_do_handshake(s);
		SSL_free(s);
		spent += cpu_now() - a;
		*ok += r == 1;
		SSL_free(c);
	}
	return spent;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	EVP_PKEY *skey = NULL, *ckey = NULL;
	X509 *scert = self_signed(&skey, "origin.bench", PKI_LEAF_SERVER);
	X509 *ccert = self_signed(&ckey, "edge.bench", PKI_LEAF_CLIENT);
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method()), *sctx = SSL_CTX_new(TLS_server_method());
	struct tls13_server_identity id;
	if (n <= 0 || !scert || !ccert || !cctx || !sctx ||
	    !tls13_server_identity_init(&id, skey, scert, NULL)) {
		fprintf(stderr, "handshake_cpu: setting up failed\n");
		return 1;
	}
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	SSL_CTX_set_ciphersuites(cctx, "TLS_AES_128_GCM_SHA256");
	SSL_CTX_use_certificate(cctx, ccert);
	SSL_CTX_use_PrivateKey(cctx, ckey);
	SSL_CTX_use_certificate(sctx, scert);
	SSL_CTX_use_PrivateKey(sctx, skey);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(sctx), ccert);
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_num_tickets(sctx, 0);
	SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
	int ok_ours = 0, ok_openssl = 0;
	double t_ours = ours(cctx, &id, n, &ok_ours);
	double t_openssl = openssl_server(cctx, sctx, n, &ok_openssl);
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("pullgate's handshake: %.1f us of server CPU per handshake (%d of %d completed)\n",
	       t_ours / n * 1e6, ok_ours, n);
	printf("OpenSSL's server:     %.1f us of server CPU per handshake (%d of %d completed)\n",
	       t_openssl / n * 1e6, ok_openssl, n);
	tls13_server_identity_clear(&id);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	X509_free(scert);
	X509_free(ccert);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ckey);
	return ok_ours == n && ok_openssl == n ? 0 : 1;
}
