/*
 * tls13_ticket: a session ticket OpenSSL resumes (see tls13_ticket.h).
 *
 * OpenSSL 3.0 has setters for every field of a session but its peer
 * certificate and its verification result. i2d_SSL_SESSION gives the rest
 * in its ASN.1 form (a SEQUENCE whose optional fields are context-tagged
 * [n] EXPLICIT, in increasing order); the peer is field [3] and goes in
 * before the first field above it, and field [5], the verification result
 * (which a new session sets to 1, "not verified"), comes out, so that it
 * reads as 0, X509_V_OK: the chain was verified before the ticket was made.
 */
#include "tls/tls13_ticket.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/tls13_hkdf.h"

#define HS_NEW_SESSION_TICKET 4
#define KEY_NAME_LEN 16
#define HMAC_KEY_LEN 32
#define IV_LEN TLS13_TICKET_IV_LEN
#define MAC_LEN 32
#define NONCE_LEN 8
#define FIELD_PEER 3
#define FIELD_VERIFY_RESULT 5

/* One DER element at p (have bytes): its whole length, 0 when malformed. */
static size_t der_element(const unsigned char *p, size_t have)
{
	if (have < 2)
		return 0;
	size_t len = p[1], head = 2;
	if (len & 0x80) {
		size_t n = len & 0x7f;
		if (n == 0 || n > 3 || have < 2 + n)
			return 0;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | p[2 + i];
		head += n;
	}
	return have - head < len ? 0 : head + len;
}

static size_t der_put_len(unsigned char *out, size_t len)
{
	if (len < 0x80) {
		out[0] = (unsigned char)len;
		return 1;
	}
	size_t n = len > 0xffff ? 3 : len > 0xff ? 2 : 1;
	out[0] = (unsigned char)(0x80 | n);
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (unsigned char)(len >> (8 * (n - 1 - i)));
	return 1 + n;
}

/* The session's DER with the peer put in and the verification result
 * taken out, into out (room bytes); its length, 0 when it does not fit or
 * the encoding is not the one expected. */
static size_t splice_peer(const unsigned char *der, size_t der_len, const unsigned char *peer,
                          size_t peer_len, unsigned char *out, size_t room)
{
	size_t whole = der_element(der, der_len);
	if (!whole || whole != der_len || der[0] != 0x30)
		return 0;
	size_t head = der[1] & 0x80 ? 2 + (size_t)(der[1] & 0x7f) : 2;
	const unsigned char *p = der + head, *end = der + der_len;
	unsigned char peer_head[8];
	size_t peer_head_len = 1 + der_put_len(peer_head + 1, peer_len);
	peer_head[0] = 0xa0 | FIELD_PEER;
	/* Room for the body, then the SEQUENCE's header in front. */
	size_t body_room = room > 8 ? room - 8 : 0, n = 0;
	unsigned char *body = out + 8;
	bool placed = false;
	while (p < end) {
		size_t e = der_element(p, (size_t)(end - p));
		if (!e)
			return 0;
		bool context = (p[0] & 0xe0) == 0xa0;
		unsigned field = p[0] & 0x1f;
		if (context && field == FIELD_PEER)
			return 0; /* a peer already: not a session of ours */
		if (!placed && context && field > FIELD_PEER) {
			if (body_room - n < peer_head_len + peer_len)
				return 0;
			memcpy(body + n, peer_head, peer_head_len);
			memcpy(body + n + peer_head_len, peer, peer_len);
			n += peer_head_len + peer_len;
			placed = true;
		}
		if (!(context && field == FIELD_VERIFY_RESULT)) {
			if (body_room - n < e)
				return 0;
			memcpy(body + n, p, e);
			n += e;
		}
		p += e;
	}
	if (!placed)
		return 0;
	unsigned char seq[8];
	size_t seq_len = 1 + der_put_len(seq + 1, n);
	seq[0] = 0x30;
	memmove(out + seq_len, body, n);
	memcpy(out, seq, seq_len);
	return seq_len + n;
}

/* The session as OpenSSL encodes it, with the peer; its length or 0. */
static size_t session_der_encode(const struct tls13_server *s, const struct tls13_accept_choice *c, SSL *ssl,
                                 X509 *peer, long lifetime, time_t now, const unsigned char *psk,
                                 unsigned char *out, size_t room)
{
	const unsigned char id[2] = {(unsigned char)(s->suite >> 8), (unsigned char)s->suite};
	const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, id);
	SSL_SESSION *sess = cipher ? SSL_SESSION_new() : NULL;
	static const unsigned char alpn[] = "http/1.1";
	unsigned char *der = NULL, *peer_der = NULL;
	int der_len = 0, peer_len = 0;
	bool ok = sess && SSL_SESSION_set_protocol_version(sess, TLS1_3_VERSION) == 1 &&
	          SSL_SESSION_set_cipher(sess, cipher) == 1 &&
	          SSL_SESSION_set1_master_key(sess, psk, s->md->len) == 1 &&
	          SSL_SESSION_set1_id_context(sess, c->sid_ctx, (unsigned)c->sid_ctx_len) == 1 &&
	          SSL_SESSION_set_time(sess, (long)now) != 0 &&
	          SSL_SESSION_set_timeout(sess, lifetime) != 0 &&
	          (!s->alpn_selected || SSL_SESSION_set1_alpn_selected(sess, alpn, sizeof alpn - 1) == 1) &&
	          (der_len = i2d_SSL_SESSION(sess, &der)) > 0 && (peer_len = i2d_X509(peer, &peer_der)) > 0;
	size_t n = ok ? splice_peer(der, (size_t)der_len, peer_der, (size_t)peer_len, out, room) : 0;
	if (der)
		OPENSSL_clear_free(der, (size_t)der_len);
	OPENSSL_free(peer_der);
	SSL_SESSION_free(sess);
	return n;
}

/* The last session this thread encoded, its PSK zeroed: the next one for
 * the same client certificate (the same X509, held, as the verify cache
 * hands it out), suite, context, ALPN and lifetime, made in the same
 * second, differs from it in its PSK alone, and is this with the PSK
 * copied in at psk_at. Saves building and encoding an SSL_SESSION per
 * handshake. */
struct session_template {
	X509 *peer; /* a reference held */
	uint16_t suite;
	bool alpn;
	long lifetime;
	time_t made;
	unsigned char sid_ctx[SSL_MAX_SID_CTX_LENGTH];
	size_t sid_ctx_len;
	size_t psk_at, psk_len, len;
	unsigned char der[]; /* len bytes */
};

static pthread_key_t template_key;
static pthread_once_t template_once = PTHREAD_ONCE_INIT;

static void template_free(void *p)
{
	struct session_template *t = p;
	if (t) {
		X509_free(t->peer);
		free(t);
	}
}

static void template_key_create(void)
{
	(void)pthread_key_create(&template_key, template_free);
}

static bool template_fits(const struct session_template *t, const struct tls13_server *s,
                          const struct tls13_accept_choice *c, X509 *peer, long lifetime, time_t now)
{
	return t && t->peer == peer && t->suite == s->suite && t->alpn == s->alpn_selected &&
	       t->lifetime == lifetime && t->made == now && t->psk_len == s->md->len &&
	       t->sid_ctx_len == c->sid_ctx_len && memcmp(t->sid_ctx, c->sid_ctx, c->sid_ctx_len) == 0;
}

/* Keeps der (whose PSK is psk) as this thread's template, when the PSK
 * occurs in it exactly once. */
static void template_keep(const struct tls13_server *s, const struct tls13_accept_choice *c, X509 *peer,
                          long lifetime, time_t now, const unsigned char *psk, const unsigned char *der,
                          size_t len)
{
	size_t psk_len = s->md->len, at = SIZE_MAX;
	if (c->sid_ctx_len > SSL_MAX_SID_CTX_LENGTH || len < psk_len)
		return;
	for (size_t i = 0; i + psk_len <= len; i++)
		if (memcmp(der + i, psk, psk_len) == 0) {
			if (at != SIZE_MAX)
				return;
			at = i;
		}
	struct session_template *t = at != SIZE_MAX ? malloc(sizeof *t + len) : NULL;
	if (!t)
		return;
	if (X509_up_ref(peer) != 1) {
		free(t);
		return;
	}
	t->peer = peer;
	t->suite = s->suite;
	t->alpn = s->alpn_selected;
	t->lifetime = lifetime;
	t->made = now;
	memcpy(t->sid_ctx, c->sid_ctx, c->sid_ctx_len);
	t->sid_ctx_len = c->sid_ctx_len;
	t->psk_at = at;
	t->psk_len = psk_len;
	t->len = len;
	memcpy(t->der, der, len);
	memset(t->der + at, 0, psk_len);
	template_free(pthread_getspecific(template_key));
	if (pthread_setspecific(template_key, t) != 0) {
		template_free(t);
		(void)pthread_setspecific(template_key, NULL);
	}
}

/* The session's DER for this ticket into out (room bytes): from this
 * thread's template when it fits, else encoded (and kept as the next
 * template). Its length, or 0. */
static size_t session_der(const struct tls13_server *s, const struct tls13_accept_choice *c, SSL *ssl,
                          X509 *peer, long lifetime, const unsigned char *psk, unsigned char *out,
                          size_t room)
{
	time_t now = time(NULL);
	if (pthread_once(&template_once, template_key_create) != 0)
		return session_der_encode(s, c, ssl, peer, lifetime, now, psk, out, room);
	const struct session_template *t = pthread_getspecific(template_key);
	if (template_fits(t, s, c, peer, lifetime, now)) {
		if (t->len > room)
			return 0;
		memcpy(out, t->der, t->len);
		memcpy(out + t->psk_at, psk, t->psk_len);
		return t->len;
	}
	size_t n = session_der_encode(s, c, ssl, peer, lifetime, now, psk, out, room);
	if (n)
		template_keep(s, c, peer, lifetime, now, psk, out, n);
	return n;
}

/* AES-256-CBC, looked up once rather than at each ticket's EVP_EncryptInit_ex. */
static EVP_CIPHER *ticket_cipher;
static pthread_once_t ticket_cipher_once = PTHREAD_ONCE_INIT;

static void ticket_cipher_fetch(void)
{
	ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
}

/* key name | IV | AES-256-CBC(plain) | HMAC-SHA256 of all before it. */
static size_t seal_ticket(const unsigned char *keys, const unsigned char *iv_in, const unsigned char *plain,
                          size_t len, unsigned char *out, size_t room)
{
	const unsigned char *name = keys, *hmac_key = keys + KEY_NAME_LEN,
	                    *aes_key = keys + KEY_NAME_LEN + HMAC_KEY_LEN;
	if (room < KEY_NAME_LEN + IV_LEN + len + 16 + MAC_LEN || len > INT32_MAX)
		return 0;
	memcpy(out, name, KEY_NAME_LEN);
	unsigned char *iv = out + KEY_NAME_LEN, *ct = iv + IV_LEN;
	memcpy(iv, iv_in, IV_LEN);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;
	const EVP_CIPHER *cipher =
	    pthread_once(&ticket_cipher_once, ticket_cipher_fetch) == 0 && ticket_cipher ? ticket_cipher
	                                                                                 : EVP_aes_256_cbc();
	bool ok = c && EVP_EncryptInit_ex(c, cipher, NULL, aes_key, iv) == 1 &&
	          EVP_EncryptUpdate(c, ct, &a, plain, (int)len) == 1 &&
	          EVP_EncryptFinal_ex(c, ct + a, &b) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		return 0;
	size_t n = KEY_NAME_LEN + IV_LEN + (size_t)a + (size_t)b;
	struct tls13_byte_run run = {out, n};
	tls13_hmac(&tls13_sha256, hmac_key, HMAC_KEY_LEN, &run, 1, out + n);
	return n + MAC_LEN;
}

size_t tls13_ticket_message(const struct tls13_server *s, const struct tls13_accept_choice *choice, SSL *ssl,
                            unsigned char *out, size_t room)
{
	long lifetime = 0;
	X509 *peer = choice->peer ? choice->peer(choice->judge_arg, &lifetime) : NULL;
	if (!peer || lifetime <= 0 || !choice->ticket_keys || room < 4 + 4 + 4 + 1 + NONCE_LEN + 2 + 2)
		return 0;
	/* One ticket per connection: a nonce of zeros is unique to it. */
	static const unsigned char nonce[NONCE_LEN], prefix[] = "tls13 ", label[] = "resumption";
	unsigned char psk[TLS13_MAX_HASH];
	if (!tls13_hkdf_expand_label(s->md, s->resumption, s->md->len, prefix, sizeof prefix - 1, label,
	                             sizeof label - 1, nonce, sizeof nonce, psk, s->md->len))
		return 0;
	/* The session, with its PSK, in plain: a buffer of the thread's, wiped
	 * after use (a large malloc per handshake costs more than the rest). */
	static __thread unsigned char der[TLS13_TICKET_MESSAGE_MAX];
	size_t der_room = room < sizeof der ? room : sizeof der;
	size_t der_len = session_der(s, choice, ssl, peer, lifetime, psk, der, der_room);
	OPENSSL_cleanse(psk, sizeof psk);
	size_t at = 4 + 4 + 4 + 1 + NONCE_LEN + 2;
	size_t ticket =
	    der_len ? seal_ticket(choice->ticket_keys, s->ticket_iv, der, der_len, out + at, room - at - 2)
	            : 0;
	/* What session_der wrote lies within its length and the 8 bytes it
	 * builds the header in; after a failure, anywhere. */
	OPENSSL_cleanse(der, der_len && der_len + 8 < der_room ? der_len + 8 : der_room);
	if (!ticket || ticket > 0xffff)
		return 0;
	size_t body = at - 4 + ticket + 2;
	out[0] = HS_NEW_SESSION_TICKET;
	out[1] = (unsigned char)(body >> 16);
	out[2] = (unsigned char)(body >> 8);
	out[3] = (unsigned char)body;
	out[4] = (unsigned char)(lifetime >> 24);
	out[5] = (unsigned char)(lifetime >> 16);
	out[6] = (unsigned char)(lifetime >> 8);
	out[7] = (unsigned char)lifetime;
	memset(out + 8, 0, 4); /* ticket_age_add: the session's, which is 0 */
	out[12] = NONCE_LEN;
	memcpy(out + 13, nonce, NONCE_LEN);
	out[13 + NONCE_LEN] = (unsigned char)(ticket >> 8);
	out[14 + NONCE_LEN] = (unsigned char)ticket;
	out[at + ticket] = 0; /* no extensions */
	out[at + ticket + 1] = 0;
	return at + ticket + 2;
}
