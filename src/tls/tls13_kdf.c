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
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and co (tls/tls13_hkdf.h): the low-level digests, on purpose */
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
#include "tls/tls13_hkdf.h"

/* ---- the TLS 1.3 KDF ---------------------------------------------------- */

#define KDF_MAX_KEY 128
#define KDF_MAX_TEXT 255 /* one length byte in HkdfLabel */

struct kdf_ctx {
	const struct tls13_hash *md;
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

/* The "derived" step, then HKDF-Extract(salt, key), as the default
 * provider's prov_tls13_hkdf_generate_secret: an absent key is zeros of
 * the hash's length, an absent salt an empty one. */
static bool generate_secret(const struct kdf_ctx *c, unsigned char *out, size_t out_len)
{
	static const unsigned char zeros[TLS13_MAX_HASH];
	const struct tls13_hash *md = c->md;
	if (out_len != md->len)
		return false;
	const unsigned char *ikm = c->has_key ? c->key : zeros;
	size_t ikm_len = c->has_key ? c->key_len : md->len;
	unsigned char derived[TLS13_MAX_HASH];
	const unsigned char *salt = zeros;
	size_t salt_len = 0;
	if (c->has_salt) {
		unsigned char empty_hash[TLS13_MAX_HASH];
		union tls13_hash_ctx h;
		md->init(&h);
		md->final(&h, empty_hash);
		if (!tls13_hkdf_expand_label(md, c->salt, c->salt_len, c->prefix, c->prefix_len,
					     c->label, c->label_len, empty_hash, md->len, derived,
					     md->len))
			return false;
		salt = derived;
		salt_len = md->len;
	}
	struct tls13_byte_run run = { ikm, ikm_len };
	tls13_hmac(md, salt, salt_len, &run, 1, out);
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
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &name) || !(c->md = tls13_hash_by_name(name))) {
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
		ok = tls13_hkdf_expand_label(c->md, c->key, c->key_len, c->prefix, c->prefix_len,
					     c->label, c->label_len, c->data, c->data_len, out,
					     out_len);
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
