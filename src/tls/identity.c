/*
 * identity: the headers through which the guard tells the origin app who
 * connected — RFC 9440 Client-Cert / Client-Cert-Chain and simple text
 * headers. Every value is built so that a certificate holder cannot inject
 * a header: RFC 2253 escaping for the subject, and any control byte that
 * survives becomes '?'.
 */
#include "tls/guard_tls.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/cert_text.h"
#include "tls/pins.h"
#include "tls/verify_policy.h"

/* The client's certificate, the chain it sent and whether it verified:
 * from the SSL after OpenSSL's handshake, from the connection's state
 * after one of our own (tls/tls13_accept.h), which only ends verified. */
static X509 *peer_leaf(SSL *ssl)
{
	struct tls_conn_state *st = tls_conn_state_get(ssl, false);
	return st && st->peer ? st->peer : SSL_get0_peer_certificate(ssl);
}

static STACK_OF(X509) *peer_chain(SSL *ssl)
{
	struct tls_conn_state *st = tls_conn_state_get(ssl, false);
	return st && st->peer ? st->peer_chain : SSL_get_peer_cert_chain(ssl);
}

static long peer_verify_result(SSL *ssl)
{
	struct tls_conn_state *st = tls_conn_state_get(ssl, false);
	return st && st->peer ? X509_V_OK : SSL_get_verify_result(ssl);
}

static bool header_on(const char *name)
{
	return name && name[0];
}

/* Writes ":<base64 DER>:", an RFC 8941 byte sequence. */
static bool put_sf_binary(FILE *f, X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	if (n <= 0)
		return false;
	unsigned char *b64 = malloc(4 * (((size_t)n + 2) / 3) + 1);
	if (b64) {
		EVP_EncodeBlock(b64, der, n);
		fprintf(f, ":%s:", b64);
	}
	free(b64);
	OPENSSL_free(der);
	return b64 != NULL;
}

static void put_chain(FILE *f, SSL *ssl, X509 *leaf)
{
	/* On the server the stack should hold only what came after the
	 * leaf; skip the leaf anyway should a version include it. */
	STACK_OF(X509) *chain = peer_chain(ssl);
	int written = 0;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		if (X509_cmp(c, leaf) == 0)
			continue;
		fputs(written++ ? ", " : "Client-Cert-Chain: ", f);
		put_sf_binary(f, c);
	}
	if (written)
		fputs("\r\n", f);
}

/* A SAN value: control and non-ASCII bytes become '?', and ',' (the list
 * separator) becomes %2C so one SAN cannot pose as two. */
static void put_san_value(FILE *f, const char *prefix, const unsigned char *p, int n)
{
	fputs(prefix, f);
	for (int i = 0; i < n; i++) {
		if (p[i] == ',')
			fputs("%2C", f);
		else
			fputc(p[i] < 0x20 || p[i] >= 0x7f ? '?' : p[i], f);
	}
}

static void put_san(FILE *f, X509 *leaf)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int written = 0;
	for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		const char *prefix = NULL;
		ASN1_STRING *s = NULL;
		char ip[INET6_ADDRSTRLEN] = "";
		switch (gn->type) {
		case GEN_DNS: prefix = "DNS:"; s = gn->d.dNSName; break;
		case GEN_URI: prefix = "URI:"; s = gn->d.uniformResourceIdentifier; break;
		case GEN_EMAIL: prefix = "email:"; s = gn->d.rfc822Name; break;
		case GEN_IPADD:
			s = gn->d.iPAddress;
			if (s->length == 4 || s->length == 16) {
				prefix = "IP:";
				inet_ntop(s->length == 4 ? AF_INET : AF_INET6, s->data, ip, sizeof ip);
			}
			break;
		}
		if (!prefix)
			continue;
		fputs(written++ ? "," : "", f);
		if (ip[0])
			put_san_value(f, prefix, (const unsigned char *)ip, (int)strlen(ip));
		else
			put_san_value(f, prefix, ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(sans);
}

static void put_text_headers(FILE *f, SSL *ssl, X509 *leaf, const struct identity_headers *conf)
{
	if (header_on(conf->verified))
		fprintf(f, "%s: %s\r\n", conf->verified,
			!leaf ? "NONE" : peer_verify_result(ssl) == X509_V_OK ? "SUCCESS" : "FAILED");
	if (!leaf)
		return;
	if (header_on(conf->subject)) {
		char subject[2048];
		cert_text_subject(leaf, subject, sizeof subject);
		fprintf(f, "%s: %s\r\n", conf->subject, subject);
	}
	if (header_on(conf->san)) {
		fprintf(f, "%s: ", conf->san);
		put_san(f, leaf);
		fputs("\r\n", f);
	}
	uint8_t d[32];
	if (header_on(conf->fingerprint) && pin_cert_sha256(leaf, d)) {
		fprintf(f, "%s: ", conf->fingerprint);
		for (int i = 0; i < 32; i++)
			fprintf(f, "%02x", d[i]);
		fputs("\r\n", f);
	}
	char when[32];
	if (header_on(conf->not_after) &&
	    cert_text_time(X509_get0_notAfter(leaf), false, when, sizeof when))
		fprintf(f, "%s: %s\r\n", conf->not_after, when);
}

char *guard_tls_identity_block(SSL *ssl, const struct identity_headers *conf, size_t *len)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	if (!f)
		return NULL;
	X509 *leaf = peer_leaf(ssl);
	bool ok = true;
	if (leaf && conf->client_cert) {
		fputs("Client-Cert: ", f);
		ok = put_sf_binary(f, leaf);
		fputs("\r\n", f);
	}
	if (leaf && conf->client_cert_chain)
		put_chain(f, ssl, leaf);
	put_text_headers(f, ssl, leaf, conf);
	ok = !ferror(f) && ok;
	if (fclose(f) != 0 || !ok) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}

/* ---- shared identities ---------------------------------------------
 * A full handshake whose chain the verify cache knew takes the kept leaf
 * (tls/verify_cache.c), so its certificate object is the same as that of
 * every other connection with those certificates. The identity built for
 * the first of them hangs on the object (ex_data) and goes with it; a
 * mutex guards that slot, as the object is shared between workers. */

static int identity_index = -1;
static pthread_once_t identity_index_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t identity_lock = PTHREAD_MUTEX_INITIALIZER;

static void identity_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			     void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	guard_identity_unref(ptr);
}

static void identity_index_init(void)
{
	identity_index = X509_get_ex_new_index(0, NULL, NULL, NULL, identity_free_cb);
}

void guard_identity_unref(struct guard_identity *id)
{
	if (id && atomic_fetch_sub_explicit(&id->refs, 1, memory_order_acq_rel) == 1)
		free(id);
}

static struct guard_identity *identity_ref(struct guard_identity *id)
{
	atomic_fetch_add_explicit(&id->refs, 1, memory_order_relaxed);
	return id;
}

static struct guard_identity *identity_build(SSL *ssl, X509 *leaf,
					     const struct identity_headers *conf)
{
	size_t len = 0;
	char *block = guard_tls_identity_block(ssl, conf, &len);
	struct guard_identity *id = block ? malloc(sizeof *id + len + 1) : NULL;
	if (id) {
		atomic_init(&id->refs, 1);
		id->conf = conf;
		id->len = len;
		memcpy(id->block, block, len + 1);
		id->fingerprint[0] = '\0';
		uint8_t d[32];
		if (leaf && pin_cert_sha256(leaf, d))
			for (int i = 0; i < 32; i++)
				snprintf(id->fingerprint + 2 * i, 3, "%02x", d[i]);
	}
	free(block);
	return id;
}

struct guard_identity *guard_tls_identity(SSL *ssl, const struct identity_headers *conf)
{
	X509 *leaf = peer_leaf(ssl);
	pthread_once(&identity_index_once, identity_index_init);
	if (!leaf || identity_index < 0)
		return identity_build(ssl, leaf, conf);
	pthread_mutex_lock(&identity_lock);
	struct guard_identity *id = X509_get_ex_data(leaf, identity_index);
	if (id && id->conf == conf)
		identity_ref(id);
	else
		id = NULL;
	pthread_mutex_unlock(&identity_lock);
	if (id)
		return id;
	id = identity_build(ssl, leaf, conf);
	if (!id)
		return NULL;
	pthread_mutex_lock(&identity_lock);
	if (!X509_get_ex_data(leaf, identity_index) &&
	    X509_set_ex_data(leaf, identity_index, id) == 1)
		identity_ref(id); /* the certificate's reference */
	pthread_mutex_unlock(&identity_lock);
	return id;
}

bool guard_identity_is_reserved(const struct identity_headers *conf, struct slice name)
{
	const char *names[] = { "Client-Cert", "Client-Cert-Chain", conf->verified, conf->subject,
				conf->san, conf->fingerprint, conf->not_after };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (header_on(names[i]) && slice_eq_cstr_nocase(name, names[i]))
			return true;
	return false;
}
