/*
 * tls13_kdf: the TLS 1.3 key schedule from a small built-in provider.
 *
 * libssl derives every TLS 1.3 secret, key and IV (about fifteen per
 * handshake) through the "TLS13-KDF" of whichever provider its context's
 * property query picks. For each one it fetches the KDF, makes a context,
 * and the default provider fetches the digest by name from the parameters
 * and runs HMAC through EVP: about a tenth of a full handshake on the
 * guard's core, of which the hashing itself is a small part. And the only
 * way OpenSSL 3.0 gives out the traffic secrets that pullgate's own record
 * layer needs (tls/transport_records.h) is the key log callback, which
 * formats five secrets a handshake byte by byte with sprintf: another 3.5%.
 *
 * The provider here has that one algorithm: the same function as the
 * default provider's (RFC 8446, section 7.1: HKDF-Extract, with the
 * "derived" step before it, and HKDF-Expand-Label), for SHA-256 and
 * SHA-384, the hashes of every TLS 1.3 suite pullgate offers, with HMAC
 * over the low-level digest functions and no allocation. Its contexts are
 * made with TLS13_KDF_PROPQ (an optional property: everything else comes
 * from the default provider as before). It also hands the application
 * traffic secrets to the thread's observer, in place of the key log.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and co: the low-level digests, on purpose */
#include "tls/tls13_kdf.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tls/builtin_engine.h"

/* ---- HMAC over the low-level digests ---------------------------------- */

#define KDF_MAX_MD 48     /* SHA-384 */
#define KDF_MAX_BLOCK 128 /* SHA-384's block */

struct kdf_md {
	size_t len, block;
	void (*init)(void *c);
	void (*update)(void *c, const void *p, size_t n);
	void (*final)(void *c, unsigned char *out);
};

union kdf_hash {
	SHA256_CTX s256;
	SHA512_CTX s512;
};

static void sha256_init(void *c) { SHA256_Init(c); }
static void sha256_update(void *c, const void *p, size_t n) { SHA256_Update(c, p, n); }
static void sha256_final(void *c, unsigned char *out) { SHA256_Final(out, c); }
static void sha384_init(void *c) { SHA384_Init(c); }
static void sha384_update(void *c, const void *p, size_t n) { SHA384_Update(c, p, n); }
static void sha384_final(void *c, unsigned char *out) { SHA384_Final(out, c); }

static const struct kdf_md kdf_sha256 = { 32, 64, sha256_init, sha256_update, sha256_final };
static const struct kdf_md kdf_sha384 = { 48, 128, sha384_init, sha384_update, sha384_final };

/* The digest a name means, as OpenSSL spells it; NULL for any other. */
static const struct kdf_md *md_by_name(const char *name)
{
	static const char *const n256[] = { "SHA256", "SHA2-256", "SHA-256", "2.16.840.1.101.3.4.2.1" };
	static const char *const n384[] = { "SHA384", "SHA2-384", "SHA-384", "2.16.840.1.101.3.4.2.2" };
	for (size_t i = 0; i < sizeof n256 / sizeof n256[0]; i++) {
		if (strcasecmp(name, n256[i]) == 0)
			return &kdf_sha256;
		if (strcasecmp(name, n384[i]) == 0)
			return &kdf_sha384;
	}
	return NULL;
}

struct byte_run {
	const unsigned char *p;
	size_t n;
};

/* HMAC(key, the runs one after another) into out (md->len bytes). */
static void hmac(const struct kdf_md *md, const unsigned char *key, size_t key_len,
		 const struct byte_run *runs, size_t nruns, unsigned char *out)
{
	unsigned char k[KDF_MAX_BLOCK] = { 0 }, pad[KDF_MAX_BLOCK], inner[KDF_MAX_MD];
	union kdf_hash h;
	if (key_len > md->block) {
		md->init(&h);
		md->update(&h, key, key_len);
		md->final(&h, k);
	} else if (key_len) {
		memcpy(k, key, key_len);
	}
	for (size_t i = 0; i < md->block; i++)
		pad[i] = k[i] ^ 0x36;
	md->init(&h);
	md->update(&h, pad, md->block);
	for (size_t i = 0; i < nruns; i++)
		if (runs[i].n)
			md->update(&h, runs[i].p, runs[i].n);
	md->final(&h, inner);
	for (size_t i = 0; i < md->block; i++)
		pad[i] = k[i] ^ 0x5c;
	md->init(&h);
	md->update(&h, pad, md->block);
	md->update(&h, inner, md->len);
	md->final(&h, out);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
	OPENSSL_cleanse(inner, sizeof inner);
	OPENSSL_cleanse(&h, sizeof h);
}

/* HKDF-Expand (RFC 5869): out_len bytes of T(1) | T(2) | ... */
static bool hkdf_expand(const struct kdf_md *md, const unsigned char *prk, size_t prk_len,
			const unsigned char *info, size_t info_len, unsigned char *out,
			size_t out_len)
{
	if (out_len > 255 * md->len)
		return false;
	unsigned char t[KDF_MAX_MD];
	size_t done = 0;
	for (unsigned char i = 1; done < out_len; i++) {
		struct byte_run runs[] = { { t, i > 1 ? md->len : 0 }, { info, info_len }, { &i, 1 } };
		hmac(md, prk, prk_len, runs, 3, t);
		size_t n = out_len - done < md->len ? out_len - done : md->len;
		memcpy(out + done, t, n);
		done += n;
	}
	OPENSSL_cleanse(t, sizeof t);
	return true;
}

/* ---- the TLS 1.3 KDF ---------------------------------------------------- */

#define KDF_MAX_KEY 128
#define KDF_MAX_TEXT 255 /* one length byte in HkdfLabel */

struct kdf_ctx {
	const struct kdf_md *md;
	int mode;
	bool has_key, has_salt;
	unsigned char key[KDF_MAX_KEY], salt[KDF_MAX_KEY];
	size_t key_len, salt_len;
	unsigned char prefix[KDF_MAX_TEXT], label[KDF_MAX_TEXT], data[KDF_MAX_TEXT];
	size_t prefix_len, label_len, data_len;
	bool has_data;
};

static __thread tls13_kdf_observer *observer;
static __thread void *observer_arg;

void tls13_kdf_observe(tls13_kdf_observer *fn, void *arg)
{
	observer = fn;
	observer_arg = fn ? arg : NULL;
}

/* HKDF-Expand-Label: the HkdfLabel of out_len, prefix | label and data. */
static bool expand_label(const struct kdf_md *md, const unsigned char *secret, size_t secret_len,
			 const unsigned char *prefix, size_t prefix_len, const unsigned char *label,
			 size_t label_len, const unsigned char *data, size_t data_len,
			 unsigned char *out, size_t out_len)
{
	unsigned char info[2 + 1 + 2 * KDF_MAX_TEXT + 1 + KDF_MAX_TEXT];
	if (out_len > 0xffff || prefix_len + label_len > KDF_MAX_TEXT || data_len > KDF_MAX_TEXT)
		return false;
	size_t n = 0;
	info[n++] = (unsigned char)(out_len >> 8);
	info[n++] = (unsigned char)out_len;
	info[n++] = (unsigned char)(prefix_len + label_len);
	memcpy(info + n, prefix, prefix_len);
	n += prefix_len;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = (unsigned char)data_len;
	memcpy(info + n, data, data_len);
	n += data_len;
	return hkdf_expand(md, secret, secret_len, info, n, out, out_len);
}

/* The "derived" step, then HKDF-Extract(salt, key), as the default
 * provider's prov_tls13_hkdf_generate_secret: an absent key is zeros of
 * the hash's length, an absent salt an empty one. */
static bool generate_secret(const struct kdf_ctx *c, unsigned char *out, size_t out_len)
{
	static const unsigned char zeros[KDF_MAX_MD];
	const struct kdf_md *md = c->md;
	if (out_len != md->len)
		return false;
	const unsigned char *ikm = c->has_key ? c->key : zeros;
	size_t ikm_len = c->has_key ? c->key_len : md->len;
	unsigned char derived[KDF_MAX_MD];
	const unsigned char *salt = zeros;
	size_t salt_len = 0;
	if (c->has_salt) {
		unsigned char empty_hash[KDF_MAX_MD];
		union kdf_hash h;
		md->init(&h);
		md->final(&h, empty_hash);
		if (!expand_label(md, c->salt, c->salt_len, c->prefix, c->prefix_len, c->label,
				  c->label_len, empty_hash, md->len, derived, md->len))
			return false;
		salt = derived;
		salt_len = md->len;
	}
	struct byte_run run = { ikm, ikm_len };
	hmac(md, salt, salt_len, &run, 1, out);
	OPENSSL_cleanse(derived, sizeof derived);
	return true;
}

/* An application traffic secret, to the observer. */
static void observe(const struct kdf_ctx *c, const unsigned char *out, size_t out_len)
{
	static const char prefix[] = "tls13 ", client[] = "c ap traffic", server[] = "s ap traffic";
	if (!observer || c->prefix_len != sizeof prefix - 1 ||
	    memcmp(c->prefix, prefix, sizeof prefix - 1) != 0 || c->label_len != sizeof client - 1)
		return;
	if (memcmp(c->label, client, sizeof client - 1) == 0)
		observer(observer_arg, true, out, out_len);
	else if (memcmp(c->label, server, sizeof server - 1) == 0)
		observer(observer_arg, false, out, out_len);
}

static void *kdf_new(void *provctx)
{
	(void)provctx;
	return OPENSSL_zalloc(sizeof(struct kdf_ctx));
}

static void kdf_reset(void *vctx)
{
	OPENSSL_cleanse(vctx, sizeof(struct kdf_ctx));
}

static void kdf_free(void *vctx)
{
	if (vctx)
		OPENSSL_clear_free(vctx, sizeof(struct kdf_ctx));
}

/* An octet string parameter into buf (room bytes); false when longer. */
static bool get_octets(const OSSL_PARAM *p, unsigned char *buf, size_t room, size_t *len)
{
	void *dst = buf;
	if (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size > room ||
	    !OSSL_PARAM_get_octet_string(p, &dst, room, len)) {
		ERR_raise(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT);
		return false;
	}
	return true;
}

static int kdf_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct kdf_ctx *c = vctx;
	if (!params)
		return 1;
	const OSSL_PARAM *p;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_DIGEST))) {
		const char *name = NULL;
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &name) || !(c->md = md_by_name(name))) {
			ERR_raise(ERR_LIB_PROV, ERR_R_UNSUPPORTED);
			return 0;
		}
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_MODE))) {
		int mode;
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			/* Copied: the parameter's bytes need not end in a NUL. */
			char name[16], *s = name;
			if (!OSSL_PARAM_get_utf8_string(p, &s, sizeof name))
				mode = -1;
			else
				mode = strcasecmp(s, "EXTRACT_ONLY") == 0  ? EVP_KDF_HKDF_MODE_EXTRACT_ONLY
				       : strcasecmp(s, "EXPAND_ONLY") == 0 ? EVP_KDF_HKDF_MODE_EXPAND_ONLY
									     : -1;
		} else if (!OSSL_PARAM_get_int(p, &mode)) {
			mode = -1;
		}
		/* Extract-and-expand has no place in TLS 1.3, as in the
		 * default provider's TLS13-KDF. */
		if (mode != EVP_KDF_HKDF_MODE_EXTRACT_ONLY && mode != EVP_KDF_HKDF_MODE_EXPAND_ONLY) {
			ERR_raise(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT);
			return 0;
		}
		c->mode = mode;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_KEY))) {
		if (!get_octets(p, c->key, sizeof c->key, &c->key_len))
			return 0;
		c->has_key = true;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_SALT))) {
		if (!get_octets(p, c->salt, sizeof c->salt, &c->salt_len))
			return 0;
		c->has_salt = true;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_PREFIX)) &&
	    !get_octets(p, c->prefix, sizeof c->prefix, &c->prefix_len))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_LABEL)) &&
	    !get_octets(p, c->label, sizeof c->label, &c->label_len))
		return 0;
	/* As the default provider: data not given is no data. */
	c->data_len = 0;
	c->has_data = false;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_KDF_PARAM_DATA))) {
		if (!get_octets(p, c->data, sizeof c->data, &c->data_len))
			return 0;
		c->has_data = true;
	}
	return 1;
}

static int kdf_derive(void *vctx, unsigned char *out, size_t out_len, const OSSL_PARAM params[])
{
	struct kdf_ctx *c = vctx;
	if (!kdf_set_ctx_params(c, params))
		return 0;
	if (!c->md) {
		ERR_raise(ERR_LIB_PROV, ERR_R_PASSED_NULL_PARAMETER);
		return 0;
	}
	bool ok;
	if (c->mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY) {
		ok = generate_secret(c, out, out_len);
	} else if (c->mode == EVP_KDF_HKDF_MODE_EXPAND_ONLY && c->has_key) {
		ok = expand_label(c->md, c->key, c->key_len, c->prefix, c->prefix_len, c->label,
				  c->label_len, c->data, c->data_len, out, out_len);
		if (ok)
			observe(c, out, out_len);
	} else {
		ok = false;
	}
	if (!ok)
		ERR_raise(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT);
	return ok;
}

static const OSSL_PARAM *kdf_settable_ctx_params(void *ctx, void *provctx)
{
	(void)ctx, (void)provctx;
	static const OSSL_PARAM settable[] = {
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_MODE, NULL, 0),
		OSSL_PARAM_int(OSSL_KDF_PARAM_MODE, NULL),
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_PROPERTIES, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_PREFIX, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_LABEL, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_DATA, NULL, 0),
		OSSL_PARAM_END,
	};
	return settable;
}

static int kdf_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
	const struct kdf_ctx *c = vctx;
	OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_KDF_PARAM_SIZE);
	if (!p)
		return -2;
	size_t size = c->mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? (c->md ? c->md->len : 0) : SIZE_MAX;
	return OSSL_PARAM_set_size_t(p, size);
}

static const OSSL_PARAM *kdf_gettable_ctx_params(void *ctx, void *provctx)
{
	(void)ctx, (void)provctx;
	static const OSSL_PARAM gettable[] = { OSSL_PARAM_size_t(OSSL_KDF_PARAM_SIZE, NULL),
					       OSSL_PARAM_END };
	return gettable;
}

static const OSSL_DISPATCH kdf_functions[] = {
	{ OSSL_FUNC_KDF_NEWCTX, (void (*)(void))kdf_new },
	{ OSSL_FUNC_KDF_FREECTX, (void (*)(void))kdf_free },
	{ OSSL_FUNC_KDF_RESET, (void (*)(void))kdf_reset },
	{ OSSL_FUNC_KDF_DERIVE, (void (*)(void))kdf_derive },
	{ OSSL_FUNC_KDF_SETTABLE_CTX_PARAMS, (void (*)(void))kdf_settable_ctx_params },
	{ OSSL_FUNC_KDF_SET_CTX_PARAMS, (void (*)(void))kdf_set_ctx_params },
	{ OSSL_FUNC_KDF_GETTABLE_CTX_PARAMS, (void (*)(void))kdf_gettable_ctx_params },
	{ OSSL_FUNC_KDF_GET_CTX_PARAMS, (void (*)(void))kdf_get_ctx_params },
	{ 0, NULL },
};

/* ---- the provider --------------------------------------------------------- */

static const OSSL_ALGORITHM provider_kdfs[] = {
	{ OSSL_KDF_NAME_TLS1_3_KDF, "provider=" TLS13_KDF_PROVIDER, kdf_functions,
	  "pullgate: the TLS 1.3 key schedule" },
	{ NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *provider_query(void *provctx, int operation, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	return operation == OSSL_OP_KDF ? provider_kdfs : NULL;
}

static const OSSL_DISPATCH provider_functions[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))provider_query },
	{ 0, NULL },
};

static int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			 const OSSL_DISPATCH **out, void **provctx)
{
	(void)in;
	*out = provider_functions;
	*provctx = (void *)handle;
	return 1;
}

static bool installed;
static OSSL_PROVIDER *provider; /* loaded for the life of the process */
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void install(void)
{
	if (!builtin_engine_allowed()) /* FIPS: see builtin_engine.h */
		return;
	/* retain_fallbacks: loading a provider must not stop the default
	 * one from loading as it otherwise would. */
	if (OSSL_PROVIDER_add_builtin(NULL, TLS13_KDF_PROVIDER, provider_init) == 1)
		provider = OSSL_PROVIDER_try_load(NULL, TLS13_KDF_PROVIDER, 1);
	installed = provider != NULL;
	ERR_clear_error();
}

bool tls13_kdf_install(void)
{
	pthread_once(&install_once, install);
	return installed;
}

const char *tls13_kdf_propq(void)
{
	return installed ? TLS13_KDF_PROPQ : NULL;
}
