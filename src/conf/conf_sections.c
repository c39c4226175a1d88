/*
 * conf_sections: what the guard's and the edge's sections have in common
 * (workers, log_level, limits, durations and booleans by key, reserved header
 * names, listener address comparison), read one way so both roles accept the
 * same values and say the same things about them.
 */
#include "conf/yaml_doc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

const struct http_limits_conf conf_limits_default = {
	.request_line = 8192,
	.header_bytes = 32768,
	.header_count = 100,
	.body_bytes = 0,
};

void ydoc_get_ms(struct ydoc *d, yaml_node_t *map, const char *parent, const char *key,
		 uint64_t min_ms, uint64_t max_ms, uint32_t *out)
{
	char path[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_get(d, map, key);
	uint64_t v;
	if (n && ydoc_read_duration(d, n, ydoc_path_key(path, parent, key), min_ms, max_ms, &v))
		*out = (uint32_t)v;
}

void ydoc_get_bool(struct ydoc *d, yaml_node_t *map, const char *parent, const char *key,
		   bool *out)
{
	char path[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_get(d, map, key);
	if (n)
		ydoc_read_bool(d, n, ydoc_path_key(path, parent, key), out);
}

void ydoc_read_workers(struct ydoc *d, yaml_node_t *n, const char *path, int *out)
{
	const char *v = ydoc_scalar(d, n, path);
	long long w;
	if (v && !strcmp(v, "auto"))
		*out = 0;
	else if (v && ydoc_read_int(d, n, path, 0, 1024, &w))
		*out = (int)w;
}

void ydoc_read_log_level(struct ydoc *d, yaml_node_t *n, const char *path, char **out)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	const char *v = ydoc_scalar(d, n, path);
	if (!v)
		return;
	int level = log_level_parse(v);
	if (level < 0 || level > 3) {
		ydoc_error(d, n, "%s: unknown level \"%s\" (known: debug, info, warn, error)", path, v);
		return;
	}
	char *copy = strdup(names[level]);
	if (!copy) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	free(*out);
	*out = copy;
}

void ydoc_read_limits(struct ydoc *d, yaml_node_t *m, const char *p, struct http_limits_conf *out)
{
	static const char *const keys[] = { "request_line", "header_bytes", "header_count",
					    "body_bytes", NULL };
	if (!ydoc_expect_map(d, m, p))
		return;
	ydoc_check_keys(d, m, p, keys);
	size_t before = d->error_count;
	char path[YDOC_PATH_MAX];
	uint64_t v;
	long long count;
	yaml_node_t *line = ydoc_get(d, m, "request_line");
	yaml_node_t *bytes = ydoc_get(d, m, "header_bytes");
	yaml_node_t *n;
	if (line && ydoc_read_size(d, line, ydoc_path_key(path, p, "request_line"), 256, 1 << 20, &v))
		out->request_line = (size_t)v;
	if (bytes &&
	    ydoc_read_size(d, bytes, ydoc_path_key(path, p, "header_bytes"), 1 << 10, 1 << 20, &v))
		out->header_bytes = (size_t)v;
	if ((n = ydoc_get(d, m, "header_count")) &&
	    ydoc_read_int(d, n, ydoc_path_key(path, p, "header_count"), 1, 128, &count))
		out->header_count = (size_t)count;
	if ((n = ydoc_get(d, m, "body_bytes")) &&
	    ydoc_read_size(d, n, ydoc_path_key(path, p, "body_bytes"), 0, 1ull << 50, &v))
		out->body_bytes = v;
	if (d->error_count == before && out->request_line > out->header_bytes)
		ydoc_error(d, line ? line : bytes,
			   "%s: request_line (%zu bytes) cannot exceed header_bytes "
			   "(%zu bytes), which includes it",
			   p, out->request_line, out->header_bytes);
}

bool conf_http_header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"host", "content-length", "transfer-encoding", "connection", "keep-alive",
		"proxy-connection", "te", "trailer", "upgrade", "expect",
	};
	for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
		if (!strcasecmp(name, reserved[i]))
			return true;
	return false;
}

bool conf_addr_same(const struct conf_addr *a, const struct conf_addr *b)
{
	if (!a->text || !b->text)
		return false; /* one that failed to parse */
	if (a->is_unix || b->is_unix)
		return a->is_unix && b->is_unix && !strcmp(a->path, b->path);
	return a->port == b->port && !strcasecmp(a->host, b->host);
}

void ydoc_read_access_log(struct ydoc *d, yaml_node_t *n, const char *path, struct access_log_conf *out)
{
	static const char *const keys[] = { "path", "format", NULL };
	char kpath[YDOC_PATH_MAX];
	yaml_node_t *p = n, *f = NULL;
	if (n->type == YAML_MAPPING_NODE) {
		ydoc_check_keys(d, n, path, keys);
		p = ydoc_require(d, n, path, "path");
		f = ydoc_get(d, n, "format");
	}
	char *where = NULL;
	if (!p)
		return;
	const char *value = ydoc_scalar(d, p, ydoc_path_key(kpath, path, "path"));
	if (!value)
		return;
	/* "stderr" is not a path to resolve against the file's folder. */
	bool ok = strcmp(value, "stderr") == 0 ? ydoc_read_string(d, p, kpath, &where)
					       : ydoc_read_path(d, p, kpath, &where);
	if (!ok)
		return;
	bool json = true;
	if (f) {
		const char *v = ydoc_scalar(d, f, ydoc_path_key(kpath, path, "format"));
		if (v && strcmp(v, "combined") == 0) {
			json = false;
		} else if (!v || strcmp(v, "json") != 0) {
			ydoc_error(d, f, "%s.format: unknown format \"%s\" (known: json, combined)", path, v ? v : "");
			free(where);
			return;
		}
	}
	free(out->path);
	out->path = where;
	out->json = json;
	out->enabled = true;
}
