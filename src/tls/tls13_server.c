/*
 * tls13_server: the server side of a full TLS 1.3 handshake with a client
 * certificate (see tls13_server.h). The messages and the key schedule
 * follow RFC 8446, sections 4 and 7; the names below are the RFC's.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* EVP_PKEY_get0_EC_KEY: the curve of a key an ENGINE holds */
#include "tls/tls13_server.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/tls1.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tls/x25519.h"
#include "tls/x25519_pool.h"

enum hs_type {
	HS_SERVER_HELLO = 2,
	HS_ENCRYPTED_EXTENSIONS = 8,
	HS_CERTIFICATE = 11,
	HS_CERTIFICATE_REQUEST = 13,
	HS_CERTIFICATE_VERIFY = 15,
	HS_FINISHED = 20,
};

#define RECORD_CHANGE_CIPHER_SPEC 20
#define X25519_LEN X25519_KEY_LEN
#define MAX_CHAIN 10

/* Signature schemes asked of the client, in CertificateRequest. */
static const uint16_t client_schemes[] = {
    0x0403, 0x0503, 0x0603, /* ecdsa_secp256r1_sha256 .. secp521r1_sha512 */
    0x0807,                 /* ed25519 */
    0x0804, 0x0805, 0x0806, /* rsa_pss_rsae_sha256 .. sha512 */
    0x0401, 0x0501, 0x0601, /* rsa_pkcs1_*: for signatures in certificates only */
};
/* The first of them, those a CertificateVerify may use (RFC 8446, 4.2.3). */
#define CERTIFICATE_VERIFY_SCHEMES 7

/* ---- writing messages ------------------------------------------------- */

struct writer {
	unsigned char *p;
	size_t n, room;
	bool full;
};

static void put(struct writer *w, const void *b, size_t len)
{
	if (w->full || w->room - w->n < len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->n, b, len);
	w->n += len;
}

static void put_u8(struct writer *w, unsigned v)
{
	unsigned char b = (unsigned char)v;
	put(w, &b, 1);
}

static void put_u16(struct writer *w, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	put(w, b, 2);
}

static void put_u24(struct writer *w, size_t v)
{
	unsigned char b[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
	put(w, b, 3);
}

/* Opens a length of width bytes; close_len fills it in. */
static size_t open_len(struct writer *w, int width)
{
	size_t at = w->n;
	unsigned char zero[3] = {0};
	put(w, zero, (size_t)width);
	return at;
}

static void close_len(struct writer *w, size_t at, int width)
{
	if (w->full)
		return;
	size_t len = w->n - at - (size_t)width;
	for (int i = width - 1; i >= 0; i--, len >>= 8)
		w->p[at + (size_t)i] = (unsigned char)len;
}

/* ---- the server's identity -------------------------------------------- */

static bool put_cert(struct writer *w, X509 *x)
{
	int len = i2d_X509(x, NULL);
	if (len <= 0 || w->full || w->room - w->n < (size_t)len + 5) {
		w->full = true;
		return false;
	}
	put_u24(w, (size_t)len);
	unsigned char *p = w->p + w->n;
	if (i2d_X509(x, &p) != len)
		return false;
	w->n += (size_t)len;
	put_u16(w, 0); /* no extensions */
	return true;
}

/* The curve of an EC key, also of one an ENGINE holds (whose group has no
 * name through the provider interface); NID_undef for any other key. */
static int ec_curve(EVP_PKEY *key)
{
	const EC_KEY *ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? EVP_PKEY_get0_EC_KEY(key) : NULL;
	const EC_GROUP *g = ec ? EC_KEY_get0_group(ec) : NULL;
	return g ? EC_GROUP_get_curve_name(g) : NID_undef;
}

bool tls13_server_identity_init(struct tls13_server_identity *id, EVP_PKEY *key, X509 *leaf,
                                STACK_OF(X509) * chain)
{
	memset(id, 0, sizeof *id);
	if (ec_curve(key) != NID_X9_62_prime256v1)
		return false;
	size_t room = 4 + 1 + 3;
	int n = i2d_X509(leaf, NULL);
	room += (size_t)(n > 0 ? n : 0) + 5;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		n = i2d_X509(sk_X509_value(chain, i), NULL);
		room += (size_t)(n > 0 ? n : 0) + 5;
	}
	struct writer w = {malloc(room), 0, room, false};
	if (!w.p)
		return false;
	put_u8(&w, HS_CERTIFICATE);
	size_t body = open_len(&w, 3);
	put_u8(&w, 0); /* certificate_request_context */
	size_t list = open_len(&w, 3);
	bool ok = put_cert(&w, leaf);
	for (int i = 0; ok && i < sk_X509_num(chain); i++)
		ok = put_cert(&w, sk_X509_value(chain, i));
	close_len(&w, list, 3);
	close_len(&w, body, 3);
	if (!ok || w.full) {
		free(w.p);
		return false;
	}
	id->certificate = w.p;
	id->certificate_len = w.n;

	room = 4 + 1 + 2 + 4 + 2 + 2 * sizeof client_schemes / sizeof client_schemes[0];
	w = (struct writer){malloc(room), 0, room, false};
	if (!w.p) {
		tls13_server_identity_clear(id);
		return false;
	}
	put_u8(&w, HS_CERTIFICATE_REQUEST);
	body = open_len(&w, 3);
	put_u8(&w, 0); /* certificate_request_context */
	size_t exts = open_len(&w, 2);
	put_u16(&w, 13); /* signature_algorithms */
	size_t ext = open_len(&w, 2);
	list = open_len(&w, 2);
	for (size_t i = 0; i < sizeof client_schemes / sizeof client_schemes[0]; i++)
		put_u16(&w, client_schemes[i]);
	close_len(&w, list, 2);
	close_len(&w, ext, 2);
	close_len(&w, exts, 2);
	close_len(&w, body, 3);
	id->cert_request = w.p;
	id->cert_request_len = w.n;
	EVP_PKEY_up_ref(key);
	id->key = key;
	return true;
}

void tls13_server_identity_clear(struct tls13_server_identity *id)
{
	EVP_PKEY_free(id->key);
	free(id->certificate);
	free(id->cert_request);
	memset(id, 0, sizeof *id);
}

/* ---- choosing ---------------------------------------------------------- */

uint16_t tls13_server_can_answer(const struct tls13_client_hello *ch, const uint16_t *suites,
                                 size_t suite_count, const char *alpn)
{
	if (!ch->offers_tls13 || !ch->x25519_share || !ch->group_x25519 ||
	    !(ch->sigalgs & TLS13_SIG_ECDSA_P256_SHA256) || ch->has_psk || ch->early_data || ch->cookie ||
	    (ch->has_alpn && (!alpn || !tls13_client_hello_offers_alpn(ch, alpn))))
		return 0;
	for (size_t i = 0; i < suite_count; i++)
		for (size_t k = 0; k < ch->suite_count; k++)
			if (ch->suites[k] == suites[i])
				return suites[i];
	return 0;
}

/* ---- key exchange and signatures -------------------------------------- */

/* Each thread's context for making X25519 keys from their bytes: made
 * once, as looking the algorithm up by name costs more than the key. */
static pthread_key_t x25519_ctx_key;
static pthread_once_t x25519_ctx_once = PTHREAD_ONCE_INIT;

static void x25519_ctx_free(void *ctx)
{
	EVP_PKEY_CTX_free(ctx);
}

static void x25519_ctx_key_create(void)
{
	(void)pthread_key_create(&x25519_ctx_key, x25519_ctx_free);
}

static EVP_PKEY_CTX *x25519_fromdata_ctx(void)
{
	if (pthread_once(&x25519_ctx_once, x25519_ctx_key_create) != 0)
		return NULL;
	EVP_PKEY_CTX *ctx = pthread_getspecific(x25519_ctx_key);
	if (ctx)
		return ctx;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || pthread_setspecific(x25519_ctx_key, ctx) != 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* A new x25519 key pair: our share into pub, the shared secret of it and
 * the client's share into secret. The pair comes from this thread's pool
 * (tls/x25519_pool.h, public keys computed from a table, in batches); it
 * is then handed to OpenSSL whole, so that it does not compute the public
 * key again, for the shared secret. */
static bool x25519_exchange(const unsigned char *client_share, unsigned char *pub, unsigned char *secret)
{
	unsigned char priv[X25519_LEN];
	if (!x25519_pool_take(priv, pub)) {
		OPENSSL_cleanse(priv, sizeof priv);
		return false;
	}
	OSSL_PARAM pair[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, X25519_LEN),
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, priv, X25519_LEN),
	    OSSL_PARAM_construct_end(),
	};
	OSSL_PARAM peer[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)client_share, X25519_LEN),
	    OSSL_PARAM_construct_end(),
	};
	EVP_PKEY *ours = NULL, *theirs = NULL;
	EVP_PKEY_CTX *kctx = x25519_fromdata_ctx(), *dctx = NULL;
	size_t slen = X25519_LEN;
	/* Any 32 bytes are an X25519 public key: nothing to validate (an
	 * all-zero secret, from a share of small order, fails the derive). */
	bool ok = kctx && EVP_PKEY_fromdata(kctx, &ours, EVP_PKEY_KEYPAIR, pair) == 1 &&
	          EVP_PKEY_fromdata(kctx, &theirs, EVP_PKEY_PUBLIC_KEY, peer) == 1 &&
	          (dctx = EVP_PKEY_CTX_new(ours, NULL)) != NULL && EVP_PKEY_derive_init(dctx) == 1 &&
	          EVP_PKEY_derive_set_peer_ex(dctx, theirs, 0) == 1 &&
	          EVP_PKEY_derive(dctx, secret, &slen) == 1 && slen == X25519_LEN;
	OPENSSL_cleanse(priv, sizeof priv);
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(theirs);
	EVP_PKEY_free(ours);
	return ok;
}

/* What a CertificateVerify signs: 64 spaces, the context string, a zero
 * byte and the transcript hash (RFC 8446, 4.4.3); its length. */
static size_t signed_content(bool server, const unsigned char *hash, size_t hash_len, unsigned char *out)
{
	static const char srv[] = "TLS 1.3, server CertificateVerify";
	static const char cli[] = "TLS 1.3, client CertificateVerify";
	memset(out, 0x20, 64);
	memcpy(out + 64, server ? srv : cli, sizeof srv); /* with its zero byte */
	memcpy(out + 64 + sizeof srv, hash, hash_len);
	return 64 + sizeof srv + hash_len;
}

/* ECDSA with SHA-256 over content. An EC key that libcrypto holds in
 * memory signs through its EC_KEY, which skips the digest context and
 * the provider lookups of EVP_DigestSign; any other through EVP. */
static bool sign_p256(EVP_PKEY *key, const unsigned char *content, size_t len, unsigned char *sig,
                      size_t *sig_len)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(key);
	if (ec && EC_KEY_get0_private_key(ec)) {
		union tls13_hash_ctx h;
		unsigned char digest[SHA256_DIGEST_LENGTH];
		tls13_sha256.init(&h);
		tls13_sha256.update(&h, content, len);
		tls13_sha256.final(&h, digest);
		ECDSA_SIG *es = ECDSA_do_sign(digest, sizeof digest, (EC_KEY *)ec);
		int n = es ? i2d_ECDSA_SIG(es, NULL) : -1;
		unsigned char *p = sig;
		bool ok = n > 0 && (size_t)n <= *sig_len && i2d_ECDSA_SIG(es, &p) == n;
		ECDSA_SIG_free(es);
		*sig_len = ok ? (size_t)n : 0;
		return ok;
	}
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	bool ok = m && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key) == 1 &&
	          EVP_DigestSign(m, sig, sig_len, content, len) == 1;
	EVP_MD_CTX_free(m);
	return ok;
}

/* ECDSA P-256 with SHA-256, through the key's EC_KEY (and the verification
 * method it may have, tls/fixed_base_verify.h): 1 good, 0 bad, -1 when the
 * key is not one held that way. */
static int verify_p256_direct(EVP_PKEY *key, const unsigned char *content, size_t len,
                              const unsigned char *sig, size_t sig_len)
{
	const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(key);
	if (!ec || sig_len > INT32_MAX)
		return -1;
	union tls13_hash_ctx h;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	tls13_sha256.init(&h);
	tls13_sha256.update(&h, content, len);
	tls13_sha256.final(&h, digest);
	/* ECDSA_verify takes only the DER encoding exactly as it re-encodes. */
	return ECDSA_verify(0, digest, sizeof digest, sig, (int)sig_len, (EC_KEY *)ec) == 1;
}

/* Checks the client's CertificateVerify signature of scheme over content
 * with key: 0, or the alert. */
static int verify_client_signature(EVP_PKEY *key, unsigned scheme, const unsigned char *content, size_t len,
                                   const unsigned char *sig, size_t sig_len)
{
	const char *md = NULL;
	int curve = NID_undef;
	bool pss = false;
	switch (scheme) {
	case 0x0403:
		md = "SHA256", curve = NID_X9_62_prime256v1;
		break;
	case 0x0503:
		md = "SHA384", curve = NID_secp384r1;
		break;
	case 0x0603:
		md = "SHA512", curve = NID_secp521r1;
		break;
	case 0x0804:
		md = "SHA256", pss = true;
		break;
	case 0x0805:
		md = "SHA384", pss = true;
		break;
	case 0x0806:
		md = "SHA512", pss = true;
		break;
	case 0x0807:
		break;
	default:
		return TLS13_ALERT_ILLEGAL_PARAMETER;
	}
	/* The scheme has to fit the key (RFC 8446, 4.2.3). */
	if (curve != NID_undef ? ec_curve(key) != curve
	    : pss              ? EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA
	                       : EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519)
		return TLS13_ALERT_ILLEGAL_PARAMETER;
	if (scheme == 0x0403) {
		int direct = verify_p256_direct(key, content, len, sig, sig_len);
		if (direct >= 0)
			return direct ? 0 : TLS13_ALERT_DECRYPT_ERROR;
	}
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = m && EVP_DigestVerifyInit_ex(m, &pctx, md, NULL, NULL, key, NULL) == 1 &&
	          (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	                    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
	          EVP_DigestVerify(m, sig, sig_len, content, len) == 1;
	EVP_MD_CTX_free(m);
	return ok ? 0 : TLS13_ALERT_DECRYPT_ERROR;
}

/* ---- the key schedule -------------------------------------------------- */

static void finished_mac(const struct tls13_hash *md, const unsigned char *traffic, const unsigned char *hash,
                         unsigned char *out)
{
	static const unsigned char prefix[] = "tls13 ", label[] = "finished";
	unsigned char key[TLS13_MAX_HASH];
	(void)tls13_hkdf_expand_label(md, traffic, md->len, prefix, sizeof prefix - 1, label,
	                              sizeof label - 1, NULL, 0, key, md->len);
	struct tls13_byte_run run = {hash, md->len};
	tls13_hmac(md, key, md->len, &run, 1, out);
	OPENSSL_cleanse(key, sizeof key);
}

/* From the shared secret and the transcript through ServerHello: the
 * handshake traffic secrets into client_hs and server_hs, the master
 * secret into s->master. */
static void handshake_secrets(struct tls13_server *s, const unsigned char *shared, unsigned char *server_hs)
{
	const struct tls13_hash *md = s->md;
	unsigned char zeros[TLS13_MAX_HASH] = {0}, empty[TLS13_MAX_HASH], hash[TLS13_MAX_HASH];
	unsigned char early[TLS13_MAX_HASH], derived[TLS13_MAX_HASH], hs[TLS13_MAX_HASH];
	union tls13_hash_ctx h;
	md->init(&h);
	md->final(&h, empty);
	tls13_hkdf_extract(md, NULL, 0, zeros, md->len, early);
	tls13_derive_secret(md, early, "derived", empty, derived);
	tls13_hkdf_extract(md, derived, md->len, shared, X25519_LEN, hs);
	tls13_transcript_hash(&s->transcript, hash);
	tls13_derive_secret(md, hs, "c hs traffic", hash, s->client_hs);
	tls13_derive_secret(md, hs, "s hs traffic", hash, server_hs);
	tls13_derive_secret(md, hs, "derived", empty, derived);
	tls13_hkdf_extract(md, derived, md->len, zeros, md->len, s->master);
	OPENSSL_cleanse(early, sizeof early);
	OPENSSL_cleanse(derived, sizeof derived);
	OPENSSL_cleanse(hs, sizeof hs);
}

/* ---- the server's flight ---------------------------------------------- */

static void put_server_hello(struct writer *w, const struct tls13_client_hello *ch, uint16_t suite,
                             const unsigned char *share, const unsigned char random[32])
{
	put_u8(w, HS_SERVER_HELLO);
	size_t body = open_len(w, 3);
	put_u16(w, 0x0303);
	put(w, random, 32);
	put_u8(w, (unsigned)ch->session_id_len);
	put(w, ch->session_id, ch->session_id_len);
	put_u16(w, suite);
	put_u8(w, 0);
	size_t exts = open_len(w, 2);
	put_u16(w, 43); /* supported_versions */
	put_u16(w, 2);
	put_u16(w, 0x0304);
	put_u16(w, 51); /* key_share */
	put_u16(w, 4 + X25519_LEN);
	put_u16(w, 0x001d);
	put_u16(w, X25519_LEN);
	put(w, share, X25519_LEN);
	close_len(w, exts, 2);
	close_len(w, body, 3);
}

static void put_encrypted_extensions(struct writer *w, const char *alpn)
{
	put_u8(w, HS_ENCRYPTED_EXTENSIONS);
	size_t body = open_len(w, 3);
	size_t exts = open_len(w, 2);
	if (alpn) {
		put_u16(w, 16);
		size_t ext = open_len(w, 2);
		size_t list = open_len(w, 2);
		put_u8(w, (unsigned)strlen(alpn));
		put(w, alpn, strlen(alpn));
		close_len(w, list, 2);
		close_len(w, ext, 2);
	}
	close_len(w, exts, 2);
	close_len(w, body, 3);
}

/* Seals the plaintext handshake bytes msg[0..len) as records into w. */
static bool seal_flight(struct tls13_server *s, struct writer *w, const unsigned char *msg, size_t len)
{
	for (size_t off = 0; off < len;) {
		size_t n = len - off < TLS13_MAX_PLAIN ? len - off : TLS13_MAX_PLAIN;
		if (w->full || w->room - w->n < TLS13_SEALED_LEN(n)) {
			w->full = true;
			return false;
		}
		size_t rec = tls13_seal(&s->hs, TLS13_HANDSHAKE, msg + off, n, w->p + w->n);
		if (!rec)
			return false;
		w->n += rec;
		off += n;
	}
	return true;
}

int tls13_server_start(struct tls13_server *s, const struct tls13_server_identity *id,
                       const unsigned char *msg, size_t msg_len, const struct tls13_client_hello *ch,
                       uint16_t suite, const char *alpn, tls13_server_judge_chain *judge, void *judge_arg,
                       unsigned char *out, size_t room, size_t *out_len)
{
	memset(s, 0, sizeof *s);
	s->state = TLS13_SERVER_FAILED;
	s->suite = suite;
	s->md = suite == 0x1302 ? &tls13_sha384 : &tls13_sha256;
	s->judge = judge;
	s->judge_arg = judge_arg;
	s->alpn_selected = alpn != NULL;
	const struct tls13_hash *md = s->md;
	*out_len = 0;
	unsigned char share[X25519_LEN], shared[X25519_LEN], server_hs[TLS13_MAX_HASH];
	/* The ServerHello's random and the session ticket's IV, public both,
	 * from one call: each call of the generator costs a few µs. */
	unsigned char fresh[32 + TLS13_TICKET_IV_LEN];
	if (RAND_bytes(fresh, sizeof fresh) != 1)
		return TLS13_ALERT_INTERNAL_ERROR;
	memcpy(s->ticket_iv, fresh + 32, TLS13_TICKET_IV_LEN);
	if (!x25519_exchange(ch->x25519_share, share, shared))
		return TLS13_ALERT_INTERNAL_ERROR;

	tls13_transcript_init(&s->transcript, md);
	tls13_transcript_add(&s->transcript, msg, msg_len);
	struct writer w = {out, 0, room, false};
	size_t header = w.n;
	static const unsigned char handshake_header[] = {TLS13_HANDSHAKE, 3, 3, 0, 0};
	put(&w, handshake_header, sizeof handshake_header);
	size_t sh = w.n;
	put_server_hello(&w, ch, suite, share, fresh);
	if (w.full)
		return TLS13_ALERT_INTERNAL_ERROR;
	out[header + 3] = (unsigned char)((w.n - sh) >> 8);
	out[header + 4] = (unsigned char)(w.n - sh);
	tls13_transcript_add(&s->transcript, out + sh, w.n - sh);
	if (ch->session_id_len) {
		/* Middlebox compatibility (RFC 8446, D.4). */
		static const unsigned char ccs[] = {RECORD_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1};
		put(&w, ccs, sizeof ccs);
	}
	handshake_secrets(s, shared, server_hs);
	OPENSSL_cleanse(shared, sizeof shared);
	bool keys = tls13_records_init(&s->hs, tls13_server_suite_id(s), s->client_hs, server_hs, md->len, 0);
	if (!keys) {
		OPENSSL_cleanse(server_hs, sizeof server_hs);
		return TLS13_ALERT_INTERNAL_ERROR;
	}

	/* The encrypted part, put together in plain text first. */
	size_t plain_room = 512 + id->cert_request_len + id->certificate_len;
	unsigned char *plain = malloc(plain_room);
	if (!plain) {
		OPENSSL_cleanse(server_hs, sizeof server_hs);
		return TLS13_ALERT_INTERNAL_ERROR;
	}
	struct writer p = {plain, 0, plain_room, false};
	put_encrypted_extensions(&p, alpn);
	put(&p, id->cert_request, id->cert_request_len);
	put(&p, id->certificate, id->certificate_len);
	int alert = TLS13_ALERT_INTERNAL_ERROR;
	if (p.full)
		goto out;
	tls13_transcript_add(&s->transcript, plain, p.n);

	unsigned char hash[TLS13_MAX_HASH], content[64 + 34 + TLS13_MAX_HASH], sig[80];
	size_t sig_len = sizeof sig;
	tls13_transcript_hash(&s->transcript, hash);
	size_t clen = signed_content(true, hash, md->len, content);
	if (!sign_p256(id->key, content, clen, sig, &sig_len))
		goto out;
	size_t cv = p.n;
	put_u8(&p, HS_CERTIFICATE_VERIFY);
	put_u24(&p, 4 + sig_len);
	put_u16(&p, 0x0403);
	put_u16(&p, (unsigned)sig_len);
	put(&p, sig, sig_len);
	if (p.full)
		goto out;
	tls13_transcript_add(&s->transcript, plain + cv, p.n - cv);

	unsigned char verify[TLS13_MAX_HASH];
	tls13_transcript_hash(&s->transcript, hash);
	finished_mac(md, server_hs, hash, verify);
	size_t fin = p.n;
	put_u8(&p, HS_FINISHED);
	put_u24(&p, md->len);
	put(&p, verify, md->len);
	if (p.full)
		goto out;
	tls13_transcript_add(&s->transcript, plain + fin, p.n - fin);

	/* The application secrets hang on the transcript through our
	 * Finished (RFC 8446, 7.1). */
	tls13_transcript_hash(&s->transcript, hash);
	tls13_derive_secret(md, s->master, "c ap traffic", hash, s->client_ap);
	tls13_derive_secret(md, s->master, "s ap traffic", hash, s->server_ap);
	if (!seal_flight(s, &w, plain, p.n))
		goto out;
	*out_len = w.n;
	s->state = TLS13_SERVER_WAIT_CERTIFICATE;
	alert = 0;
out:
	OPENSSL_cleanse(plain, p.n);
	free(plain);
	OPENSSL_cleanse(server_hs, sizeof server_hs);
	return alert;
}

/* ---- the client's flight ---------------------------------------------- */

static int read_certificate(struct tls13_server *s, const unsigned char *b, size_t len)
{
	const unsigned char *der[MAX_CHAIN];
	size_t der_len[MAX_CHAIN], count = 0;
	if (len < 4 || b[0] != 0)
		return TLS13_ALERT_DECODE_ERROR; /* a context we did not send */
	size_t list = (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
	if (list != len - 4)
		return TLS13_ALERT_DECODE_ERROR;
	for (size_t off = 4; off < len;) {
		if (len - off < 3)
			return TLS13_ALERT_DECODE_ERROR;
		size_t n = (size_t)b[off] << 16 | (size_t)b[off + 1] << 8 | b[off + 2];
		off += 3;
		if (!n || len - off < n + 2)
			return TLS13_ALERT_DECODE_ERROR;
		if (count == MAX_CHAIN)
			return TLS13_ALERT_BAD_CERTIFICATE;
		der[count] = b + off;
		der_len[count++] = n;
		off += n;
		size_t ext = (size_t)b[off] << 8 | b[off + 1];
		off += 2;
		if (len - off < ext)
			return TLS13_ALERT_DECODE_ERROR;
		if (ext)
			return TLS13_ALERT_UNSUPPORTED_EXTENSION; /* we asked for none */
	}
	if (!count)
		return TLS13_ALERT_CERTIFICATE_REQUIRED;
	return s->judge(s->judge_arg, der, der_len, count, &s->peer_key);
}

static int read_certificate_verify(struct tls13_server *s, const unsigned char *b, size_t len)
{
	if (len < 4)
		return TLS13_ALERT_DECODE_ERROR;
	unsigned scheme = (unsigned)b[0] << 8 | b[1];
	size_t sig_len = (size_t)b[2] << 8 | b[3];
	if (sig_len != len - 4)
		return TLS13_ALERT_DECODE_ERROR;
	bool offered = false;
	for (size_t i = 0; i < CERTIFICATE_VERIFY_SCHEMES; i++)
		offered |= client_schemes[i] == scheme;
	if (!offered)
		return TLS13_ALERT_ILLEGAL_PARAMETER;
	unsigned char hash[TLS13_MAX_HASH], content[64 + 34 + TLS13_MAX_HASH];
	tls13_transcript_hash(&s->transcript, hash);
	size_t clen = signed_content(false, hash, s->md->len, content);
	return verify_client_signature(s->peer_key, scheme, content, clen, b + 4, sig_len);
}

static int read_finished(struct tls13_server *s, const unsigned char *b, size_t len)
{
	unsigned char hash[TLS13_MAX_HASH], want[TLS13_MAX_HASH];
	if (len != s->md->len)
		return TLS13_ALERT_DECODE_ERROR;
	tls13_transcript_hash(&s->transcript, hash);
	finished_mac(s->md, s->client_hs, hash, want);
	int alert = CRYPTO_memcmp(want, b, len) == 0 ? 0 : TLS13_ALERT_DECRYPT_ERROR;
	OPENSSL_cleanse(want, sizeof want);
	return alert;
}

/* One whole handshake message m[0..4+len) of the client's. */
static int take_message(struct tls13_server *s, const unsigned char *m, size_t len)
{
	int alert;
	switch (s->state) {
	case TLS13_SERVER_WAIT_CERTIFICATE:
		if (m[0] != HS_CERTIFICATE)
			return TLS13_ALERT_UNEXPECTED_MESSAGE;
		if ((alert = read_certificate(s, m + 4, len)))
			return alert;
		s->state = TLS13_SERVER_WAIT_CERTIFICATE_VERIFY;
		break;
	case TLS13_SERVER_WAIT_CERTIFICATE_VERIFY:
		if (m[0] != HS_CERTIFICATE_VERIFY)
			return TLS13_ALERT_UNEXPECTED_MESSAGE;
		if ((alert = read_certificate_verify(s, m + 4, len)))
			return alert;
		s->state = TLS13_SERVER_WAIT_FINISHED;
		break;
	case TLS13_SERVER_WAIT_FINISHED:
		if (m[0] != HS_FINISHED)
			return TLS13_ALERT_UNEXPECTED_MESSAGE;
		if ((alert = read_finished(s, m + 4, len)))
			return alert;
		s->state = TLS13_SERVER_DONE;
		break;
	default:
		return TLS13_ALERT_UNEXPECTED_MESSAGE;
	}
	tls13_transcript_add(&s->transcript, m, 4 + len);
	if (s->state == TLS13_SERVER_DONE) {
		unsigned char hash[TLS13_MAX_HASH];
		tls13_transcript_hash(&s->transcript, hash);
		tls13_derive_secret(s->md, s->master, "res master", hash, s->resumption);
	}
	return 0;
}

/* The handshake bytes of one record: whole messages are taken, a partial
 * one waits in s->msg. */
static int take_handshake(struct tls13_server *s, const unsigned char *p, size_t n)
{
	if (!n)
		return TLS13_ALERT_UNEXPECTED_MESSAGE; /* an empty handshake record */
	if (s->msg_room - s->msg_len < n) {
		size_t want = s->msg_len + n;
		if (want > TLS13_SERVER_MAX_MESSAGE + 4)
			return TLS13_ALERT_HANDSHAKE_FAILURE;
		unsigned char *grown = realloc(s->msg, want);
		if (!grown)
			return TLS13_ALERT_INTERNAL_ERROR;
		s->msg = grown;
		s->msg_room = want;
	}
	memcpy(s->msg + s->msg_len, p, n);
	s->msg_len += n;
	size_t off = 0;
	while (s->msg_len - off >= 4 && s->state != TLS13_SERVER_DONE) {
		const unsigned char *m = s->msg + off;
		size_t len = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
		if (len > TLS13_SERVER_MAX_MESSAGE)
			return TLS13_ALERT_HANDSHAKE_FAILURE;
		if (s->msg_len - off - 4 < len)
			break;
		int alert = take_message(s, m, len);
		if (alert)
			return alert;
		off += 4 + len;
	}
	memmove(s->msg, s->msg + off, s->msg_len - off);
	s->msg_len -= off;
	/* Our keys change after the client's Finished: it ends its record. */
	if (s->state == TLS13_SERVER_DONE && s->msg_len)
		return TLS13_ALERT_UNEXPECTED_MESSAGE;
	return 0;
}

static int fail(struct tls13_server *s, int alert)
{
	s->state = TLS13_SERVER_FAILED;
	return alert;
}

int tls13_server_read(struct tls13_server *s, unsigned char *in, size_t len, size_t *used)
{
	*used = 0;
	if (s->state == TLS13_SERVER_FAILED)
		return TLS13_ALERT_INTERNAL_ERROR;
	while (s->state != TLS13_SERVER_DONE) {
		unsigned char *rec = in + *used;
		size_t have = len - *used;
		if (have < TLS13_HEADER_LEN)
			return 0;
		size_t body = (size_t)rec[3] << 8 | rec[4];
		if (body > TLS13_MAX_BODY)
			return fail(s, TLS13_ALERT_RECORD_OVERFLOW);
		if (have < TLS13_HEADER_LEN + body)
			return 0;
		size_t rec_len = TLS13_HEADER_LEN + body;
		int alert = 0;
		if (rec[0] == RECORD_CHANGE_CIPHER_SPEC) {
			/* One, before the client's encrypted flight (RFC 8446, 5). */
			if (s->ccs_seen || body != 1 || rec[5] != 1 ||
			    s->state != TLS13_SERVER_WAIT_CERTIFICATE || s->msg_len)
				alert = TLS13_ALERT_UNEXPECTED_MESSAGE;
			s->ccs_seen = true;
		} else if (rec[0] == TLS13_ALERT) {
			alert = TLS13_SERVER_PEER_ALERT;
		} else if (rec[0] != TLS13_APPLICATION_DATA) {
			alert = TLS13_ALERT_UNEXPECTED_MESSAGE;
		} else {
			enum tls13_content type;
			size_t content_len;
			alert = tls13_open(&s->hs, rec, rec_len, &type, &content_len);
			if (!alert && type == TLS13_ALERT)
				alert = TLS13_SERVER_PEER_ALERT;
			else if (!alert && type != TLS13_HANDSHAKE)
				alert = TLS13_ALERT_UNEXPECTED_MESSAGE;
			else if (!alert)
				alert = take_handshake(s, rec + TLS13_HEADER_LEN, content_len);
		}
		if (alert)
			return fail(s, alert);
		*used += rec_len;
	}
	return 1;
}

bool tls13_server_app_records(const struct tls13_server *s, struct tls13_records *r)
{
	return tls13_records_init(r, tls13_server_suite_id(s), s->client_ap, s->server_ap, s->md->len, 0);
}

void tls13_server_clear(struct tls13_server *s)
{
	tls13_records_clear(&s->hs);
	EVP_PKEY_free(s->peer_key);
	if (s->msg)
		OPENSSL_clear_free(s->msg, s->msg_room);
	OPENSSL_cleanse(s, sizeof *s);
}
