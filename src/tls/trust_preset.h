/*
 * trust_preset: trust anchors that ship inside the binary, by name. A preset
 * marked shared is a CA that issues to many unrelated parties (a CDN's
 * origin-pull CA): trusting it alone proves "came through that CDN", not
 * "came through my account", so its use without pins earns a warning.
 */
#ifndef PULLGATE_TLS_TRUST_PRESET_H
#define PULLGATE_TLS_TRUST_PRESET_H

#include <stdbool.h>

struct trust_preset {
	const char *name;
	const char *pem;  /* static PEM text, one or more certificates */
	bool shared;
};

/* The preset called name (exact, lowercase), or NULL when there is none. */
const struct trust_preset *trust_preset_find(const char *name);

#endif
