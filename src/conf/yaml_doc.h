/*
 * yaml_doc: reading a configuration file through libyaml's document API, with
 * typed readers that report every problem as "file:line: path: message" and
 * go on, so one run lists all of a file's mistakes. Shared by the guard's and
 * the edge's loaders.
 *
 * Conventions of every ydoc_read_* function: `path` names the value in
 * messages ("guard.timeouts.header"); on success the value is stored in *out
 * and true returned; on failure the problem is reported against the node's
 * line, *out is left as it was, and false returned. Strings stored in *out
 * are malloc'd and owned by the caller.
 */
#ifndef PULLGATE_CONF_YAML_DOC_H
#define PULLGATE_CONF_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "conf/conf_error.h"
#include "conf/conf_types.h"

struct ydoc {
	const char *file;          /* borrowed: the path as given, for messages */
	char *dir;                 /* owned: the file's folder; NULL when the path has no '/' */
	struct conf_errors *errs;  /* borrowed: where problems go */
	size_t error_count;        /* problems reported through this document */
	bool loaded;               /* doc holds a parsed document */
	yaml_document_t doc;
};

/* Messages name values by dotted paths; this bounds them. */
#define YDOC_PATH_MAX 160

/* Opens and parses path. A file that cannot be read or a YAML syntax error is
 * reported ("file:line: YAML syntax error: ...") and false returned. Either
 * way ydoc_close must be called. Only one YAML document per file. */
bool ydoc_open(struct ydoc *d, const char *path, struct conf_errors *errs);
void ydoc_close(struct ydoc *d);

/* The top node, or NULL for an empty file. */
yaml_node_t *ydoc_root(struct ydoc *d);
/* 1-based line of a node. */
int ydoc_line(const yaml_node_t *n);

/* Reports "file:line: message" at node n (line 1 when n is NULL). */
void ydoc_error(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Path building into a caller's buffer of YDOC_PATH_MAX bytes; returns buf. */
const char *ydoc_path_key(char *buf, const char *parent, const char *key);
const char *ydoc_path_index(char *buf, const char *parent, size_t i);

/* ---- structure ---- */

/* The top-level section `name` ("guard", "edge") of a file whose only
 * top-level keys may be guard and edge; reports what is wrong ("no edge
 * section") and returns NULL when it is missing. article: "a" or "an". */
yaml_node_t *ydoc_section(struct ydoc *d, const char *name, const char *article);

/* "a mapping", "a list", "a value" or "nothing", for messages. */
const char *ydoc_kind(const yaml_node_t *n);
/* True for an empty plain scalar or null / ~. */
bool ydoc_is_null(const yaml_node_t *n);

/* Reports "path: expected a mapping, got ..." unless n is a mapping. */
bool ydoc_expect_map(struct ydoc *d, yaml_node_t *n, const char *path);
/* Checks a mapping's keys: each must be a plain name from known (a
 * NULL-terminated list), given once. Reports `path: unknown key "x"` and
 * `path: duplicate key "x"` at the key's line; an empty path means the top
 * level (`unknown top-level key "x"`). False when any was reported. */
bool ydoc_check_keys(struct ydoc *d, yaml_node_t *map, const char *path, const char *const known[]);
/* The value under key in a mapping (the first, when duplicated), or NULL. */
yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *map, const char *key);
/* Like ydoc_get, but reports `path: missing required key "key"` at the
 * mapping's line when it is absent. */
yaml_node_t *ydoc_require(struct ydoc *d, yaml_node_t *map, const char *path, const char *key);
/* The key and value nodes of a mapping's i-th pair; false past the end. */
bool ydoc_map_pair(struct ydoc *d, yaml_node_t *map, size_t i, yaml_node_t **key,
		   yaml_node_t **value);

/* A value that may be one item or a list of them: a sequence's length, or 1
 * for anything else; and its i-th item (the node itself when not a list). */
size_t ydoc_list_len(const yaml_node_t *n);
yaml_node_t *ydoc_list_item(struct ydoc *d, yaml_node_t *n, size_t i);
/* The path of a list item: "path[i]" for a sequence, "path" otherwise. */
const char *ydoc_list_path(char *buf, const yaml_node_t *list, const char *path, size_t i);

/* ---- scalars ---- */

/* The text of a scalar (borrowed from the document, NUL-terminated), or NULL
 * with "path: expected a single value, got a list" and the like. An empty or
 * null scalar is returned as "". */
const char *ydoc_scalar(struct ydoc *d, yaml_node_t *n, const char *path);

/* A non-empty string. */
bool ydoc_read_string(struct ydoc *d, yaml_node_t *n, const char *path, char **out);
/* A non-empty file path, made relative to the configuration file's folder
 * when it is relative. */
bool ydoc_read_path(struct ydoc *d, yaml_node_t *n, const char *path, char **out);
/* true/false, yes/no, on/off, any case. */
bool ydoc_read_bool(struct ydoc *d, yaml_node_t *n, const char *path, bool *out);
/* A decimal integer within [min, max]. */
bool ydoc_read_int(struct ydoc *d, yaml_node_t *n, const char *path, long long min, long long max,
		   long long *out);
/* "500ms", "10s", "2m", "1h", or a bare number of seconds; *out in
 * milliseconds, within [min_ms, max_ms]. */
bool ydoc_read_duration(struct ydoc *d, yaml_node_t *n, const char *path, uint64_t min_ms,
			uint64_t max_ms, uint64_t *out);
/* Bytes, or with a k/m/g suffix (1024-based); within [min, max]. */
bool ydoc_read_size(struct ydoc *d, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
		    uint64_t *out);
/* host:port, [v6]:port or unix:/path (a relative socket path is made
 * relative to the configuration file's folder). *out is replaced; the caller
 * frees it with conf_addr_free. */
bool ydoc_read_address(struct ydoc *d, yaml_node_t *n, const char *path, struct conf_addr *out);
/* Like ydoc_read_address, but the port may be left out ("origin.example.com",
 * "[::1]"): then out->port is 0 and the caller supplies its default. */
bool ydoc_read_address_opt_port(struct ydoc *d, yaml_node_t *n, const char *path,
				struct conf_addr *out);

/* Checks one list item; returns NULL when it is fine, else the end of a
 * message that follows the quoted value ("is not a hostname pattern"). */
typedef const char *(*ydoc_item_check)(const char *value);
enum ydoc_str_kind { YDOC_STR_TEXT, YDOC_STR_PATH };
/* One string or a list of them, each non-empty and passing check (when not
 * NULL); paths resolved like ydoc_read_path. On success *out (which must be
 * empty) holds the items; on failure it stays empty. An empty list is valid
 * here; the caller decides whether it may be. */
bool ydoc_read_str_list(struct ydoc *d, yaml_node_t *n, const char *path, enum ydoc_str_kind kind,
			ydoc_item_check check, struct str_list *out);

/* ---- keys both roles' sections share (conf_sections.c) ---- */

/* The value under key in map, when present: a duration within [min_ms,
 * max_ms] into *out, or a boolean. parent is the map's path. */
void ydoc_get_ms(struct ydoc *d, yaml_node_t *map, const char *parent, const char *key,
		 uint64_t min_ms, uint64_t max_ms, uint32_t *out);
void ydoc_get_bool(struct ydoc *d, yaml_node_t *map, const char *parent, const char *key,
		   bool *out);
/* "auto" (0) or 0-1024. */
void ydoc_read_workers(struct ydoc *d, yaml_node_t *n, const char *path, int *out);
/* debug, info, warn (or warning), error; *out is replaced by the canonical
 * name (malloc'd). */
void ydoc_read_log_level(struct ydoc *d, yaml_node_t *n, const char *path, char **out);
/* access_log: a path (or "stderr"), or a mapping {path, format: json |
 * combined}. */
void ydoc_read_access_log(struct ydoc *d, yaml_node_t *n, const char *path, struct access_log_conf *out);
/* The defaults of a limits mapping, and the mapping itself (request_line,
 * header_bytes, header_count, body_bytes) read over what *out holds. */
extern const struct http_limits_conf conf_limits_default;
void ydoc_read_limits(struct ydoc *d, yaml_node_t *map, const char *path,
		      struct http_limits_conf *out);

/* ---- pins (conf_pins.c) ---- */

/* A mapping with sha256, spki_sha256 and subject lists. *out must be empty;
 * it is filled with every valid entry even when some are reported. */
bool ydoc_read_pins(struct ydoc *d, yaml_node_t *n, const char *path, struct pin_set *out);
/* Parses 64 hex digits, optionally with a colon between every two. False
 * when not one, with why (the end of a message after the quoted text). */
bool conf_parse_sha256_hex(const char *text, uint8_t out[32], char *why, size_t why_len);
/* Parses a SHA-256 as 44 characters of padded base64, or as hex. */
bool conf_parse_sha256_any(const char *text, uint8_t out[32], char *why, size_t why_len);

/* ---- validation of names ---- */

/* "name.example.com" or "*.example.com": letters, digits and hyphens in
 * labels of 1-63 bytes, at most 253 bytes, a "*." only at the start. */
bool conf_hostname_pattern_valid(const char *s, bool allow_wildcard);
/* An HTTP field name: one or more tchar (RFC 9110 5.6.2). */
bool conf_http_token_valid(const char *s);
/* ydoc_item_check for hostname patterns. */
const char *conf_check_hostname_pattern(const char *value);
/* Header names that steer framing or routing (Host, Content-Length, ...): a
 * header the proxy sets itself must never have one of them. */
bool conf_http_header_reserved(const char *name);

/* Two addresses that bind the same thing; false when either failed to parse. */
bool conf_addr_same(const struct conf_addr *a, const struct conf_addr *b);

/* ---- freeing ---- */

void str_list_free(struct str_list *l);
void conf_addr_free(struct conf_addr *a);
void pin_set_free(struct pin_set *p);

#endif
