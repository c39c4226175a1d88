/* builtin_engine: see builtin_engine.h. */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE is deprecated in 3.0, and what we use */
#include "tls/builtin_engine.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

bool builtin_engine_allowed(void)
{
	/* The configuration file is what would ask for FIPS: read it first,
	 * as libssl would when the first SSL_CTX is made. */
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	return !EVP_default_properties_is_fips_enabled(NULL);
}

bool builtin_engine_add(const char *id, const char *name, int (*set)(ENGINE *e),
			int (*reg)(ENGINE *e))
{
#ifdef OPENSSL_NO_ENGINE
	(void)id, (void)name, (void)set, (void)reg;
	return false;
#else
	if (!builtin_engine_allowed())
		return false;
	ENGINE *e = ENGINE_new();
	if (!e)
		return false;
	bool ok = ENGINE_set_id(e, id) == 1 && ENGINE_set_name(e, name) == 1 && set(e) == 1 &&
		  ENGINE_add(e) == 1 && reg(e) == 1;
	ENGINE_free(e);
	return ok;
#endif
}
