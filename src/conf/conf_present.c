/* conf_present: see conf_present.h. */
#include "conf/conf_present.h"

#include <string.h>

#include "conf/yaml_doc.h"

bool conf_sections_present(const char *path, bool *guard, bool *edge, struct conf_errors *errs)
{
	struct ydoc d;
	*guard = *edge = false;
	bool ok = ydoc_open(&d, path, errs);
	yaml_node_t *root = ok ? ydoc_root(&d) : NULL;
	if (root && root->type == YAML_MAPPING_NODE) {
		yaml_node_t *key, *value;
		for (size_t i = 0; ydoc_map_pair(&d, root, i, &key, &value); i++) {
			if (key->type != YAML_SCALAR_NODE)
				continue;
			const char *k = (const char *)key->data.scalar.value;
			*guard |= strcmp(k, "guard") == 0;
			*edge |= strcmp(k, "edge") == 0;
		}
	}
	ydoc_close(&d);
	return ok;
}
