/*
 * trust_preset: the built-in anchors. The PEM text is generated at build
 * time from share/trust/ by tools/embed.sh, so the binary runs without the
 * share/ folder; share/trust/README.md says where each file comes from.
 */
#include "tls/trust_preset.h"

#include <string.h>

extern const char preset_cloudflare_pem[];

static const struct trust_preset presets[] = {
	/* Every Cloudflare zone's pulls carry a certificate from this CA. */
	{ "cloudflare", preset_cloudflare_pem, true },
};

const struct trust_preset *trust_preset_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}
