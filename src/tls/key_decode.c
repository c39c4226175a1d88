/*
 * key_decode: public keys of parsed certificates decoded by OpenSSL's
 * built-in key methods rather than a provider decoder.
 *
 * OpenSSL 3.0 decodes the public key of every certificate it parses
 * through a freshly built OSSL_DECODER context, and building one walks
 * every key manager and decoder the providers offer: about 1.2 million
 * instructions per certificate. A guard parses the client's certificate
 * in each full handshake, again in each session ticket it issues and in
 * each ticket it accepts, so that walk was a third of a full handshake
 * and half of a resumed one. x509_pubkey_decode takes the built-in
 * (legacy) decoder for a key type that an ENGINE has registered a key
 * method for; registering the built-in EC, RSA and Ed25519 methods that way
 * gives the same keys, decoded and checked by the same code, without the
 * walk. The EC key method is OpenSSL's with a decoder that shares keys
 * already seen (tls/shared_ec_keys.c).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE: see the comment above */
#include "tls/key_decode.h"

#include <openssl/evp.h>
#include <pthread.h>

#include "tls/builtin_engine.h"
#include "tls/shared_ec_keys.h"

static const int decoded_nids[] = { EVP_PKEY_EC, EVP_PKEY_RSA, EVP_PKEY_ED25519 };

static int builtin_pkey_meths(ENGINE *e, EVP_PKEY_METHOD **meth, const int **nids, int nid)
{
	if (!meth) {
		*nids = decoded_nids;
		return (int)(sizeof decoded_nids / sizeof decoded_nids[0]);
	}
	*meth = (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(nid);
	return *meth != NULL;
}

static int set_key_methods(ENGINE *e)
{
	return ENGINE_set_pkey_meths(e, builtin_pkey_meths) == 1 && shared_ec_keys_set(e);
}

static int register_key_methods(ENGINE *e)
{
	return ENGINE_register_pkey_meths(e) == 1 && ENGINE_register_pkey_asn1_meths(e) == 1;
}

static bool installed;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void install(void)
{
	installed = builtin_engine_add("pullgate-keys", "pullgate: built-in key methods",
				       set_key_methods, register_key_methods);
}

bool key_decode_install(void)
{
	/* A second ENGINE with the same id would be refused, and its
	 * clean-up would free the EC method the first one still serves. */
	pthread_once(&install_once, install);
	return installed;
}
