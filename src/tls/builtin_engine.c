/* builtin_engine: see builtin_engine.h. */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE is deprecated in 3.0, and what we use */
#include "tls/builtin_engine.h"

bool builtin_engine_add(const char *id, const char *name, int (*set)(ENGINE *e),
			int (*reg)(ENGINE *e))
{
#ifdef OPENSSL_NO_ENGINE
	(void)id, (void)name, (void)set, (void)reg;
	return false;
#else
	ENGINE *e = ENGINE_new();
	if (!e)
		return false;
	bool ok = ENGINE_set_id(e, id) == 1 && ENGINE_set_name(e, name) == 1 && set(e) == 1 &&
		  ENGINE_add(e) == 1 && reg(e) == 1;
	ENGINE_free(e);
	return ok;
#endif
}
