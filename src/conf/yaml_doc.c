/*
 * yaml_doc: a parsed YAML file plus the typed readers configuration loaders
 * build on. libyaml does all the YAML; this file only walks its nodes, checks
 * values and reports problems against the lines libyaml recorded.
 */
#include "conf/yaml_doc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>

/* ---- the document ---- */

static void ydoc_error_at_line(struct ydoc *d, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ydoc_error_at_line(struct ydoc *d, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	conf_errors_add(d->errs, d->file, line, "%s", msg);
	d->error_count++;
}

void ydoc_error(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ydoc_error_at_line(d, n ? ydoc_line(n) : 1, "%s", msg);
}

int ydoc_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

/* The 1-based line holding byte offset of f, for problems libyaml's reader
 * locates only by offset (bad UTF-8). */
static int line_of_offset(FILE *f, size_t offset)
{
	int line = 1;
	rewind(f);
	for (size_t i = 0; i < offset; i++) {
		int ch = getc(f);
		if (ch == EOF)
			break;
		line += ch == '\n';
	}
	return line;
}

static void ydoc_report_parser(struct ydoc *d, const yaml_parser_t *p, FILE *f)
{
	if (p->error == YAML_MEMORY_ERROR) {
		ydoc_error_at_line(d, 0, "out of memory");
	} else if (p->error == YAML_READER_ERROR) {
		ydoc_error_at_line(d, line_of_offset(f, p->problem_offset), "YAML syntax error: %s",
				   p->problem ? p->problem : "unreadable input");
	} else {
		ydoc_error_at_line(d, (int)p->problem_mark.line + 1, "YAML syntax error: %s",
				   p->problem ? p->problem : "malformed document");
	}
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

bool ydoc_open(struct ydoc *d, const char *path, struct conf_errors *errs)
{
	memset(d, 0, sizeof *d);
	d->file = path;
	d->errs = errs;

	FILE *f = fopen(path, "rb");
	struct stat st;
	if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		f = NULL;
		errno = EISDIR;
	}
	if (!f) {
		ydoc_error_at_line(d, 0, "%s", strerror(errno));
		return false;
	}
	if (strchr(path, '/') && !(d->dir = dir_of(path))) {
		fclose(f);
		ydoc_error_at_line(d, 0, "out of memory");
		return false;
	}

	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		ydoc_error_at_line(d, 0, "out of memory");
		return false;
	}
	yaml_parser_set_input_file(&p, f);
	if (!yaml_parser_load(&p, &d->doc)) {
		ydoc_report_parser(d, &p, f);
	} else {
		d->loaded = true;
		/* A second document would be silently ignored; say so instead. */
		yaml_document_t extra;
		if (!yaml_parser_load(&p, &extra)) {
			ydoc_report_parser(d, &p, f);
		} else {
			yaml_node_t *r = yaml_document_get_root_node(&extra);
			if (r)
				ydoc_error(d, r, "only one YAML document is allowed in a configuration file");
			yaml_document_delete(&extra);
		}
	}
	yaml_parser_delete(&p);
	fclose(f);
	return d->error_count == 0;
}

void ydoc_close(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	d->loaded = false;
	free(d->dir);
	d->dir = NULL;
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
	return d->loaded ? yaml_document_get_root_node(&d->doc) : NULL;
}

const char *ydoc_path_key(char *buf, const char *parent, const char *key)
{
	if (parent && *parent)
		snprintf(buf, YDOC_PATH_MAX, "%s.%s", parent, key);
	else
		snprintf(buf, YDOC_PATH_MAX, "%s", key);
	return buf;
}

const char *ydoc_path_index(char *buf, const char *parent, size_t i)
{
	snprintf(buf, YDOC_PATH_MAX, "%s[%zu]", parent, i);
	return buf;
}

/* ---- structure ---- */

bool ydoc_is_null(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

const char *ydoc_kind(const yaml_node_t *n)
{
	if (!n || ydoc_is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a value";
	}
}

bool ydoc_expect_map(struct ydoc *d, yaml_node_t *n, const char *path)
{
	if (n && n->type == YAML_MAPPING_NODE)
		return true;
	ydoc_error(d, n, "%s: expected a mapping, got %s", path, ydoc_kind(n));
	return false;
}

bool ydoc_map_pair(struct ydoc *d, yaml_node_t *map, size_t i, yaml_node_t **key,
		   yaml_node_t **value)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;
	if (i >= (size_t)(map->data.mapping.pairs.top - start))
		return false;
	*key = yaml_document_get_node(&d->doc, start[i].key);
	*value = yaml_document_get_node(&d->doc, start[i].value);
	return *key && *value;
}

/* The key's name when it is a scalar, else NULL. */
static const char *key_name(const yaml_node_t *k)
{
	return k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
}

bool ydoc_check_keys(struct ydoc *d, yaml_node_t *map, const char *path, const char *const known[])
{
	size_t before = d->error_count;
	yaml_node_t *k, *v;
	for (size_t i = 0; ydoc_map_pair(d, map, i, &k, &v); i++) {
		const char *name = key_name(k);
		if (!name) {
			ydoc_error(d, k, "%s: a key must be a plain name, got %s", path, ydoc_kind(k));
			continue;
		}
		bool found = false;
		for (size_t j = 0; known[j] && !found; j++)
			found = !strcmp(name, known[j]);
		if (!found) {
			if (*path)
				ydoc_error(d, k, "%s: unknown key \"%s\"", path, name);
			else
				ydoc_error(d, k, "unknown top-level key \"%s\"", name);
			continue;
		}
		yaml_node_t *k2, *v2;
		for (size_t j = 0; j < i && ydoc_map_pair(d, map, j, &k2, &v2); j++) {
			const char *earlier = key_name(k2);
			if (earlier && !strcmp(earlier, name)) {
				ydoc_error(d, k, "%s%sduplicate key \"%s\"", path, *path ? ": " : "", name);
				break;
			}
		}
	}
	return d->error_count == before;
}

yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *map, const char *key)
{
	yaml_node_t *k, *v;
	for (size_t i = 0; ydoc_map_pair(d, map, i, &k, &v); i++) {
		const char *name = key_name(k);
		if (name && !strcmp(name, key))
			return v;
	}
	return NULL;
}

yaml_node_t *ydoc_require(struct ydoc *d, yaml_node_t *map, const char *path, const char *key)
{
	yaml_node_t *v = ydoc_get(d, map, key);
	if (!v)
		ydoc_error(d, map, "%s: missing required key \"%s\"", path, key);
	return v;
}

size_t ydoc_list_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 1;
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *ydoc_list_item(struct ydoc *d, yaml_node_t *n, size_t i)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return i == 0 ? n : NULL;
	if (i >= ydoc_list_len(n))
		return NULL;
	return yaml_document_get_node(&d->doc, n->data.sequence.items.start[i]);
}

const char *ydoc_list_path(char *buf, const yaml_node_t *list, const char *path, size_t i)
{
	if (list->type == YAML_SEQUENCE_NODE)
		return ydoc_path_index(buf, path, i);
	snprintf(buf, YDOC_PATH_MAX, "%s", path);
	return buf;
}

/* ---- scalars ---- */

const char *ydoc_scalar(struct ydoc *d, yaml_node_t *n, const char *path)
{
	if (n->type != YAML_SCALAR_NODE) {
		ydoc_error(d, n, "%s: expected a single value, got %s", path, ydoc_kind(n));
		return NULL;
	}
	const char *v = (const char *)n->data.scalar.value;
	if (strlen(v) != n->data.scalar.length) {
		ydoc_error(d, n, "%s: the value contains a NUL byte", path);
		return NULL;
	}
	return ydoc_is_null(n) ? "" : v;
}

/* A non-empty scalar, or NULL after reporting why not. */
static const char *nonempty_scalar(struct ydoc *d, yaml_node_t *n, const char *path)
{
	const char *v = ydoc_scalar(d, n, path);
	if (v && !*v) {
		ydoc_error(d, n, "%s: no value given", path);
		return NULL;
	}
	return v;
}

/* Stores a malloc'd copy in *out, replacing what was there. */
static bool store_copy(struct ydoc *d, yaml_node_t *n, char *copy, char **out)
{
	if (!copy) {
		ydoc_error(d, n, "out of memory");
		return false;
	}
	free(*out);
	*out = copy;
	return true;
}

bool ydoc_read_string(struct ydoc *d, yaml_node_t *n, const char *path, char **out)
{
	const char *v = nonempty_scalar(d, n, path);
	return v && store_copy(d, n, strdup(v), out);
}

/* text resolved against the configuration file's folder; malloc'd. */
static char *resolve(const struct ydoc *d, const char *text)
{
	if (text[0] == '/' || !d->dir)
		return strdup(text);
	char *joined = NULL;
	if (asprintf(&joined, "%s%s%s", d->dir, strcmp(d->dir, "/") ? "/" : "", text) < 0)
		return NULL;
	return joined;
}

bool ydoc_read_path(struct ydoc *d, yaml_node_t *n, const char *path, char **out)
{
	const char *v = nonempty_scalar(d, n, path);
	return v && store_copy(d, n, resolve(d, v), out);
}

bool ydoc_read_bool(struct ydoc *d, yaml_node_t *n, const char *path, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	const char *v = nonempty_scalar(d, n, path);
	if (!v)
		return false;
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*out = !strcasecmp(v, yes[i]);
			return true;
		}
	}
	ydoc_error(d, n, "%s: \"%s\" is not a boolean (use true or false)", path, v);
	return false;
}

/* Leading decimal digits of s as a number; *end after them. False when there
 * are none or the number does not fit (then *overflow is set). */
static bool parse_digits(const char *s, uint64_t *val, const char **end, bool *overflow)
{
	uint64_t v = 0;
	const char *p = s;
	*overflow = false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - digit) / 10)
			*overflow = true;
		else
			v = v * 10 + digit;
	}
	*end = p;
	*val = v;
	return p != s && !*overflow;
}

bool ydoc_read_int(struct ydoc *d, yaml_node_t *n, const char *path, long long min, long long max,
		   long long *out)
{
	const char *v = nonempty_scalar(d, n, path);
	if (!v)
		return false;
	bool neg = *v == '-';
	const char *end;
	uint64_t mag;
	bool overflow;
	parse_digits(v + neg, &mag, &end, &overflow);
	if (end == v + neg || *end) {
		ydoc_error(d, n, "%s: \"%s\" is not an integer", path, v);
		return false;
	}
	long long val = 0;
	bool in_range = !overflow && mag <= (uint64_t)LLONG_MAX;
	if (in_range) {
		val = neg ? -(long long)mag : (long long)mag;
		in_range = val >= min && val <= max;
	}
	if (!in_range) {
		ydoc_error(d, n, "%s: %s is out of range (%lld to %lld)", path, v, min, max);
		return false;
	}
	*out = val;
	return true;
}

/* Writes a millisecond count in the largest unit that divides it. */
static const char *fmt_duration(char *buf, size_t len, uint64_t ms)
{
	if (ms && ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

static const char *fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "gmk";
	for (int i = 0; i < 3; i++) {
		uint64_t unit = 1ull << (10 * (3 - i));
		if (bytes && bytes % unit == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(bytes / unit), units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}

/* A number with a unit suffix from units (NULL-terminated names with their
 * multipliers; the empty name gives the bare number's meaning). Returns 0 when
 * parsed, 1 when not of that form, 2 when it does not fit in 64 bits. */
struct unit_mult {
	const char *name;
	uint64_t mult;
};

static int parse_with_unit(const char *v, const struct unit_mult *units, uint64_t *out)
{
	const char *end;
	uint64_t num;
	bool overflow;
	if (!parse_digits(v, &num, &end, &overflow) && !overflow)
		return 1;
	for (size_t i = 0; units[i].name; i++) {
		if (strcasecmp(end, units[i].name) != 0)
			continue;
		if (overflow || (num && units[i].mult > UINT64_MAX / num))
			return 2;
		*out = num * units[i].mult;
		return 0;
	}
	return 1;
}

bool ydoc_read_duration(struct ydoc *d, yaml_node_t *n, const char *path, uint64_t min_ms,
			uint64_t max_ms, uint64_t *out)
{
	static const struct unit_mult units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "", 1000 }, { NULL, 0 },
	};
	const char *v = nonempty_scalar(d, n, path);
	if (!v)
		return false;
	uint64_t ms = 0;
	int r = parse_with_unit(v, units, &ms);
	if (r == 1) {
		ydoc_error(d, n, "%s: \"%s\" is not a duration (use 500ms, 10s, 2m)", path, v);
		return false;
	}
	if (r == 2 || ms < min_ms || ms > max_ms) {
		char lo[32], hi[32];
		ydoc_error(d, n, "%s: %s is out of range (%s to %s)", path, v,
			   fmt_duration(lo, sizeof lo, min_ms), fmt_duration(hi, sizeof hi, max_ms));
		return false;
	}
	*out = ms;
	return true;
}

bool ydoc_read_size(struct ydoc *d, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	static const struct unit_mult units[] = {
		{ "", 1 }, { "k", 1ull << 10 }, { "m", 1ull << 20 }, { "g", 1ull << 30 }, { NULL, 0 },
	};
	const char *v = nonempty_scalar(d, n, path);
	if (!v)
		return false;
	uint64_t bytes = 0;
	int r = parse_with_unit(v, units, &bytes);
	if (r == 1) {
		ydoc_error(d, n, "%s: \"%s\" is not a size (use 8192, 8k, 1m)", path, v);
		return false;
	}
	if (r == 2 || bytes < min || bytes > max) {
		char lo[32], hi[32];
		ydoc_error(d, n, "%s: %s is out of range (%s to %s)", path, v,
			   fmt_size(lo, sizeof lo, min), fmt_size(hi, sizeof hi, max));
		return false;
	}
	*out = bytes;
	return true;
}

/* ---- addresses ---- */

/* Port text to a number, reporting why it is not one. */
static bool parse_port(struct ydoc *d, yaml_node_t *n, const char *path, const char *text,
		       uint16_t *out)
{
	const char *end;
	uint64_t v;
	bool overflow;
	if (!*text) {
		ydoc_error(d, n, "%s: no port number after the colon", path);
		return false;
	}
	if (!parse_digits(text, &v, &end, &overflow) && !overflow) {
		ydoc_error(d, n, "%s: \"%s\" is not a port number", path, text);
		return false;
	}
	if (*end) {
		ydoc_error(d, n, "%s: \"%s\" is not a port number", path, text);
		return false;
	}
	if (overflow || v < 1 || v > 65535) {
		ydoc_error(d, n, "%s: port %s is out of range", path, text);
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

/* True when s is only digits and dots: then it must be an IPv4 address, not
 * a hostname. */
static bool looks_numeric(const char *s)
{
	return strspn(s, "0123456789.") == strlen(s);
}

static bool parse_unix(struct ydoc *d, yaml_node_t *n, const char *path, const char *rest,
		       struct conf_addr *a)
{
	if (!*rest) {
		ydoc_error(d, n, "%s: unix: needs a socket path, as in unix:/run/app.sock", path);
		return false;
	}
	a->is_unix = true;
	a->path = resolve(d, rest);
	if (!a->path) {
		ydoc_error(d, n, "out of memory");
		return false;
	}
	if (strlen(a->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		ydoc_error(d, n, "%s: socket path %s is too long (at most %zu bytes)", path, a->path,
			   sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return false;
	}
	return true;
}

/* host:port or [v6]:port; with port_optional also host or [v6], leaving
 * a->port 0. */
static bool parse_inet(struct ydoc *d, yaml_node_t *n, const char *path, const char *v,
		       bool port_optional, struct conf_addr *a)
{
	const char *host = v, *port;
	size_t host_len;
	if (*v == '[') {
		const char *close = strchr(v, ']');
		bool bare = close && !close[1] && port_optional;
		if (!close || (close[1] != ':' && !bare)) {
			ydoc_error(d, n, "%s: \"%s\" is not an address (use [v6]:port)", path, v);
			return false;
		}
		host = v + 1;
		host_len = (size_t)(close - host);
		port = bare ? NULL : close + 2;
	} else {
		const char *colon = strrchr(v, ':');
		if (!colon && port_optional) {
			host_len = strlen(v);
			port = NULL;
		} else if (!colon) {
			ydoc_error(d, n,
				   "%s: \"%s\" is not an address (use host:port, [v6]:port or unix:/path)",
				   path, v);
			return false;
		} else {
			if (memchr(v, ':', (size_t)(colon - v))) {
				ydoc_error(d, n,
					   "%s: an IPv6 address needs brackets, as in \"[::1]:8443\"",
					   path);
				return false;
			}
			host_len = (size_t)(colon - v);
			port = colon + 1;
		}
	}
	if (!host_len) {
		ydoc_error(d, n, "%s: \"%s\" has no host (use 0.0.0.0:port or [::]:port for all addresses)",
			   path, v);
		return false;
	}
	if (port && !parse_port(d, n, path, port, &a->port))
		return false;
	a->host = strndup(host, host_len);
	if (!a->host) {
		ydoc_error(d, n, "out of memory");
		return false;
	}
	unsigned char buf[sizeof(struct in6_addr)];
	if (*v == '[') {
		if (inet_pton(AF_INET6, a->host, buf) != 1) {
			ydoc_error(d, n, "%s: \"%s\" is not an IPv6 address", path, a->host);
			return false;
		}
	} else if (looks_numeric(a->host)) {
		if (inet_pton(AF_INET, a->host, buf) != 1) {
			ydoc_error(d, n, "%s: \"%s\" is not an IPv4 address", path, a->host);
			return false;
		}
	} else if (!conf_hostname_pattern_valid(a->host, false)) {
		ydoc_error(d, n, "%s: \"%s\" is not a hostname or IP address", path, a->host);
		return false;
	}
	return true;
}

static bool read_address(struct ydoc *d, yaml_node_t *n, const char *path, bool port_optional,
			 struct conf_addr *out)
{
	const char *v = nonempty_scalar(d, n, path);
	if (!v)
		return false;
	struct conf_addr a = { .line = ydoc_line(n) };
	a.text = strdup(v);
	if (!a.text) {
		ydoc_error(d, n, "out of memory");
		return false;
	}
	bool ok = !strncmp(v, "unix:", 5) ? parse_unix(d, n, path, v + 5, &a)
					  : parse_inet(d, n, path, v, port_optional, &a);
	if (!ok) {
		conf_addr_free(&a);
		return false;
	}
	conf_addr_free(out);
	*out = a;
	return true;
}

bool ydoc_read_address(struct ydoc *d, yaml_node_t *n, const char *path, struct conf_addr *out)
{
	return read_address(d, n, path, false, out);
}

bool ydoc_read_address_opt_port(struct ydoc *d, yaml_node_t *n, const char *path,
				struct conf_addr *out)
{
	return read_address(d, n, path, true, out);
}

/* ---- lists ---- */

bool ydoc_read_str_list(struct ydoc *d, yaml_node_t *n, const char *path, enum ydoc_str_kind kind,
			ydoc_item_check check, struct str_list *out)
{
	size_t before = d->error_count;
	size_t len = ydoc_list_len(n);
	struct str_list l = { 0 };
	if (len && !(l.items = calloc(len, sizeof *l.items))) {
		ydoc_error(d, n, "out of memory");
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char ipath[YDOC_PATH_MAX];
		yaml_node_t *item = ydoc_list_item(d, n, i);
		const char *v = nonempty_scalar(d, item, ydoc_list_path(ipath, n, path, i));
		if (!v)
			continue;
		const char *why = check ? check(v) : NULL;
		if (why) {
			ydoc_error(d, item, "%s: \"%s\" %s", ipath, v, why);
			continue;
		}
		char *copy = kind == YDOC_STR_PATH ? resolve(d, v) : strdup(v);
		if (!copy) {
			ydoc_error(d, item, "out of memory");
			continue;
		}
		l.items[l.count++] = copy;
	}
	if (d->error_count != before) {
		str_list_free(&l);
		return false;
	}
	*out = l;
	return true;
}

/* ---- names ---- */

bool conf_hostname_pattern_valid(const char *s, bool allow_wildcard)
{
	if (allow_wildcard && s[0] == '*' && s[1] == '.')
		s += 2;
	size_t total = strlen(s);
	if (!total || total > 253)
		return false;
	size_t label = 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || !*p) {
			/* Labels are 1-63 bytes and neither start nor end with '-'. */
			if (!label || label > 63 || p[-1] == '-' || p[-(long)label] == '-')
				return false;
			if (!*p)
				return true;
			label = 0;
			continue;
		}
		bool ldh = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9') || *p == '-';
		if (!ldh)
			return false;
		label++;
	}
}

const char *conf_check_hostname_pattern(const char *value)
{
	if (conf_hostname_pattern_valid(value, true))
		return NULL;
	return "is not a hostname pattern (use name.example.com or *.example.com)";
}

bool conf_http_token_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !strchr("!#$%&'*+-.^_`|~", c))
			return false;
	}
	return true;
}

/* ---- freeing ---- */

void str_list_free(struct str_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

void conf_addr_free(struct conf_addr *a)
{
	free(a->text);
	free(a->host);
	free(a->path);
	a->text = a->host = a->path = NULL;
}

yaml_node_t *ydoc_section(struct ydoc *d, const char *name, const char *article)
{
	static const char *const keys[] = { "guard", "edge", NULL };
	yaml_node_t *root = ydoc_root(d);
	if (!root || ydoc_is_null(root)) {
		ydoc_error(d, NULL, "no %s section", name);
		return NULL;
	}
	if (root->type != YAML_MAPPING_NODE) {
		ydoc_error(d, root, "expected a mapping with %s %s section at the top level, got %s", article, name,
			   ydoc_kind(root));
		return NULL;
	}
	ydoc_check_keys(d, root, "", keys);
	yaml_node_t *section = ydoc_get(d, root, name);
	if (!section)
		ydoc_error(d, NULL, "no %s section", name);
	return section;
}
