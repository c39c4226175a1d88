/*
 * record_ciphers: TLS record protection by OpenSSL's built-in AEAD code.
 *
 * OpenSSL 3.0 seals and opens every TLS 1.3 record through a provider: it
 * asks the cipher context for its IV length, sets the nonce, adds the
 * header, runs the data and gets or sets the tag, and each of these steps
 * builds an OSSL_PARAM array that the provider searches by name with
 * strcmp. Per proxied request that was about 60 OSSL_PARAM_locate calls and
 * a tenth of the user-space instructions. libssl fetches a record cipher
 * "implicitly" (EVP_get_cipherbynid) when an ENGINE is registered for its
 * NID, and an EVP context driven by an ENGINE calls the cipher's own
 * functions. Registering OpenSSL's built-in AES-GCM and ChaCha20-Poly1305
 * (the same AES-NI/CLMUL and vector code the default provider runs) that
 * way keeps the algorithms and drops the parameter traffic.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE: see the comment above */
#include "tls/record_ciphers.h"

#include <openssl/evp.h>

#include "tls/builtin_engine.h"

static const int record_nids[] = {
	NID_aes_128_gcm,
	NID_aes_256_gcm,
#ifndef OPENSSL_NO_CHACHA
	NID_chacha20_poly1305,
#endif
};

static int builtin_ciphers(ENGINE *e, const EVP_CIPHER **cipher, const int **nids, int nid)
{
	(void)e;
	if (!cipher) {
		*nids = record_nids;
		return (int)(sizeof record_nids / sizeof record_nids[0]);
	}
	switch (nid) {
	case NID_aes_128_gcm:
		*cipher = EVP_aes_128_gcm();
		break;
	case NID_aes_256_gcm:
		*cipher = EVP_aes_256_gcm();
		break;
#ifndef OPENSSL_NO_CHACHA
	case NID_chacha20_poly1305:
		*cipher = EVP_chacha20_poly1305();
		break;
#endif
	default:
		*cipher = NULL;
	}
	return *cipher != NULL;
}

static int set_ciphers(ENGINE *e)
{
	return ENGINE_set_ciphers(e, builtin_ciphers);
}

bool record_ciphers_install(void)
{
	return builtin_engine_add("pullgate-records", "pullgate: built-in record ciphers", set_ciphers,
				  ENGINE_register_ciphers);
}
