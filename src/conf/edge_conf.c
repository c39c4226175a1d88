/*
 * edge_conf: loads the `edge:` section into struct edge_conf: listeners, the
 * edge-wide origin-pull certificate and defaults, pool, timeouts and limits
 * here; zones and records in edge_conf_zone.c. Like the guard's loader it
 * reads the whole section whatever goes wrong, so one run lists every
 * problem, and names files without opening them.
 */
#include "conf/edge_conf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/edge_conf_int.h"
#include "core/hostname.h"

#define EDGE_DEFAULT_CONNECTING_IP_HEADER "CF-Connecting-IP"

static struct edge_conf *edge_conf_new(const char *path)
{
	struct edge_conf *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->file = strdup(path);
	c->log_level = strdup("info");
	c->connecting_ip_header = strdup(EDGE_DEFAULT_CONNECTING_IP_HEADER);
	c->watch_files = true;
	c->cache.size = 256u << 20;
	c->cache.max_object = 8u << 20;
	c->cache.collapse_wait_ms = 10000;
	c->cache.name = strdup("pullgate");
	c->pool = (struct edge_pool_conf){ .size = 32, .idle_timeout_ms = 60 * EDGE_MS_SEC };
	c->timeouts = (struct edge_timeouts){
		.handshake_ms = 10 * EDGE_MS_SEC,
		.header_ms = 15 * EDGE_MS_SEC,
		.idle_ms = 60 * EDGE_MS_SEC,
		.body_ms = 30 * EDGE_MS_SEC,
		.grace_ms = 10 * EDGE_MS_SEC,
		.origin_connect_ms = 5 * EDGE_MS_SEC,
		.origin_response_ms = 60 * EDGE_MS_SEC,
	};
	c->limits = conf_limits_default;
	if (!c->file || !c->log_level || !c->connecting_ip_header) {
		edge_conf_free(c);
		return NULL;
	}
	return c;
}

/* ---- listeners ---- */

/* Reports a listener address that an earlier one already binds. */
static void check_addr_unique(struct ydoc *d, const struct edge_conf *c, const struct conf_addr *a,
			      const char *path, yaml_node_t *n)
{
	for (size_t i = 0; i < c->listen_count && &c->listen[i] != a; i++) {
		if (conf_addr_same(&c->listen[i], a)) {
			ydoc_error(d, n, "%s: %s is already given in edge.listen[%zu]", path, a->text, i);
			return;
		}
	}
	for (size_t i = 0; i < c->plain_count && &c->plain[i] != a; i++) {
		if (conf_addr_same(&c->plain[i], a)) {
			ydoc_error(d, n, "%s: %s is already given in edge.plain_listen[%zu]", path,
				   a->text, i);
			return;
		}
	}
}

/* One address or a list of them into *arr. Every entry is kept, read or not,
 * so an entry's index is its index in the file and edge_conf_free frees it. */
static void load_listeners(struct ydoc *d, yaml_node_t *n, const char *lpath, struct edge_conf *c,
			   struct conf_addr **arr, size_t *count)
{
	size_t len = ydoc_list_len(n);
	if (!len)
		return;
	if (!(*arr = calloc(len, sizeof **arr))) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char path[YDOC_PATH_MAX];
		yaml_node_t *item = ydoc_list_item(d, n, i);
		struct conf_addr *a = &(*arr)[(*count)++];
		if (!ydoc_read_address(d, item, ydoc_list_path(path, n, lpath, i), a))
			continue;
		if (a->is_unix)
			ydoc_error(d, item, "%s: a listener needs host:port; unix: sockets are not supported",
				   path);
		else
			check_addr_unique(d, c, a, path, item);
	}
}

/* ---- the edge-wide keys ---- */

/* false, "" or null turn the header off, true keeps the default name,
 * anything else must be a field name the edge may set. */
static void load_connecting_ip_header(struct ydoc *d, yaml_node_t *n, struct edge_conf *c)
{
	const char *path = "edge.connecting_ip_header";
	const char *v = ydoc_scalar(d, n, path);
	if (!v)
		return;
	if (!*v || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcasecmp(v, "no")) {
		free(c->connecting_ip_header);
		c->connecting_ip_header = NULL;
	} else if (!strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcasecmp(v, "yes")) {
		/* the default name stays */
	} else if (!conf_http_token_valid(v)) {
		ydoc_error(d, n, "%s: \"%s\" is not a valid header name", path, v);
	} else if (conf_http_header_reserved(v)) {
		ydoc_error(d, n,
			   "%s: \"%s\" cannot carry the visitor's address (it carries HTTP framing "
			   "or routing)",
			   path, v);
	} else {
		ydoc_read_string(d, n, path, &c->connecting_ip_header);
	}
}

static void load_pool(struct ydoc *d, yaml_node_t *m, struct edge_conf *c)
{
	static const char *const keys[] = { "size", "idle_timeout", NULL };
	const char *p = "edge.pool";
	if (!ydoc_expect_map(d, m, p))
		return;
	ydoc_check_keys(d, m, p, keys);
	yaml_node_t *n = ydoc_get(d, m, "size");
	long long size;
	if (n && ydoc_read_int(d, n, "edge.pool.size", 0, 100000, &size))
		c->pool.size = (uint32_t)size;
	ydoc_get_ms(d, m, p, "idle_timeout", 100, EDGE_MS_HOUR, &c->pool.idle_timeout_ms);
}

static void load_cache(struct ydoc *d, yaml_node_t *m, struct edge_conf *c)
{
	static const char *const keys[] = { "size", "max_object", "collapse_wait", "cf_cache_status",
					    "name", NULL };
	const char *p = "edge.cache";
	if (!ydoc_expect_map(d, m, p))
		return;
	ydoc_check_keys(d, m, p, keys);
	yaml_node_t *n;
	if ((n = ydoc_get(d, m, "size")))
		ydoc_read_size(d, n, "edge.cache.size", 0, (uint64_t)1 << 40, &c->cache.size);
	if ((n = ydoc_get(d, m, "max_object")))
		ydoc_read_size(d, n, "edge.cache.max_object", 1, (uint64_t)1 << 34, &c->cache.max_object);
	ydoc_get_ms(d, m, p, "collapse_wait", 0, EDGE_MS_HOUR, &c->cache.collapse_wait_ms);
	if (c->cache.size && c->cache.max_object > c->cache.size / 2)
		ydoc_error(d, ydoc_get(d, m, "max_object") ? ydoc_get(d, m, "max_object") : m,
			   "edge.cache.max_object: %llu bytes is more than half of size (%llu): such objects could "
			   "never be stored",
			   (unsigned long long)c->cache.max_object, (unsigned long long)c->cache.size);
	ydoc_get_bool(d, m, p, "cf_cache_status", &c->cache.cf_cache_status);
	if ((n = ydoc_get(d, m, "name"))) {
		char *name = NULL;
		if (ydoc_read_string(d, n, "edge.cache.name", &name)) {
			bool ok = name[0] != '\0';
			for (const char *q = name; *q; q++)
				ok &= (*q > 0x20 && *q < 0x7f && *q != ',' && *q != ';' && *q != '"');
			if (!ok) {
				ydoc_error(d, n, "edge.cache.name: \"%s\" is not a token", name);
				free(name);
			} else {
				free(c->cache.name);
				c->cache.name = name;
			}
		}
	}
}

static void load_timeouts(struct ydoc *d, yaml_node_t *m, struct edge_conf *c)
{
	static const char *const keys[] = { "handshake",      "header",         "idle",
					    "body",           "grace",          "origin_connect",
					    "origin_response", NULL };
	const char *p = "edge.timeouts";
	struct edge_timeouts *t = &c->timeouts;
	if (!ydoc_expect_map(d, m, p))
		return;
	ydoc_check_keys(d, m, p, keys);
	ydoc_get_ms(d, m, p, "handshake", 100, 5 * EDGE_MS_MIN, &t->handshake_ms);
	ydoc_get_ms(d, m, p, "header", 100, EDGE_MS_HOUR, &t->header_ms);
	ydoc_get_ms(d, m, p, "idle", 100, EDGE_MS_HOUR, &t->idle_ms);
	ydoc_get_ms(d, m, p, "body", 100, EDGE_MS_HOUR, &t->body_ms);
	ydoc_get_ms(d, m, p, "grace", 0, EDGE_MS_HOUR, &t->grace_ms);
	ydoc_get_ms(d, m, p, "origin_connect", 100, 5 * EDGE_MS_MIN, &t->origin_connect_ms);
	ydoc_get_ms(d, m, p, "origin_response", 100, 24 * EDGE_MS_HOUR, &t->origin_response_ms);
}

static void load_edge(struct ydoc *d, yaml_node_t *e, struct edge_conf *c)
{
	static const char *const keys[] = { "workers",   "listen",    "plain_listen",
					    "client_certificate", "origin_ca",
					    "connecting_ip_header", "pool", "timeouts",
					    "limits",    "log_level", "watch_files", "admin", "access_log", "cache",
					    "zones",     NULL };
	if (!ydoc_expect_map(d, e, "edge"))
		return;
	ydoc_check_keys(d, e, "edge", keys);
	yaml_node_t *n;
	if ((n = ydoc_get(d, e, "workers")))
		ydoc_read_workers(d, n, "edge.workers", &c->workers);
	if ((n = ydoc_require(d, e, "edge", "listen"))) {
		if (!ydoc_list_len(n))
			ydoc_error(d, n, "edge.listen: at least one address is required");
		load_listeners(d, n, "edge.listen", c, &c->listen, &c->listen_count);
	}
	if ((n = ydoc_get(d, e, "plain_listen")))
		load_listeners(d, n, "edge.plain_listen", c, &c->plain, &c->plain_count);
	if ((n = ydoc_get(d, e, "client_certificate"))) {
		c->has_global_client_cert = true;
		edge_conf_read_client_cert(d, n, "edge.client_certificate", &c->global_client_cert);
	}
	if ((n = ydoc_get(d, e, "origin_ca")))
		ydoc_read_path(d, n, "edge.origin_ca", &c->origin_ca);
	if ((n = ydoc_get(d, e, "connecting_ip_header")))
		load_connecting_ip_header(d, n, c);
	if ((n = ydoc_get(d, e, "pool")))
		load_pool(d, n, c);
	if ((n = ydoc_get(d, e, "cache")))
		load_cache(d, n, c);
	if ((n = ydoc_get(d, e, "timeouts")))
		load_timeouts(d, n, c);
	if ((n = ydoc_get(d, e, "limits")))
		ydoc_read_limits(d, n, "edge.limits", &c->limits);
	if ((n = ydoc_get(d, e, "log_level")))
		ydoc_read_log_level(d, n, "edge.log_level", &c->log_level);
	ydoc_get_bool(d, e, "edge", "watch_files", &c->watch_files);
	if ((n = ydoc_get(d, e, "access_log")))
		ydoc_read_access_log(d, n, "edge.access_log", &c->access_log);
	if ((n = ydoc_get(d, e, "admin")))
		c->has_admin = ydoc_read_address(d, n, "edge.admin", &c->admin);
	/* Last: records inherit from the keys above. */
	if ((n = ydoc_get(d, e, "zones")))
		edge_conf_read_zones(d, n, c);
}


struct edge_conf *edge_conf_load(const char *path, struct conf_errors *errs)
{
	struct ydoc d;
	struct edge_conf *c = NULL;
	if (ydoc_open(&d, path, errs)) {
		yaml_node_t *e = ydoc_section(&d, "edge", "an");
		if (e && !(c = edge_conf_new(path)))
			ydoc_error(&d, e, "out of memory");
		if (c)
			load_edge(&d, e, c);
	}
	bool failed = d.error_count > 0;
	ydoc_close(&d);
	if (failed) {
		edge_conf_free(c);
		return NULL;
	}
	return c;
}

void edge_conf_free(struct edge_conf *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->access_log.path);
	free(c->cache.name);
	if (c->has_admin)
		conf_addr_free(&c->admin);
	for (size_t i = 0; i < c->listen_count; i++)
		conf_addr_free(&c->listen[i]);
	free(c->listen);
	for (size_t i = 0; i < c->plain_count; i++)
		conf_addr_free(&c->plain[i]);
	free(c->plain);
	edge_cert_files_free(&c->global_client_cert);
	free(c->origin_ca);
	free(c->connecting_ip_header);
	free(c->log_level);
	edge_conf_free_zones(c);
	free(c);
}

/* ---- lookup ---- */

static bool is_wildcard(const char *name)
{
	return name[0] == '*' && name[1] == '.';
}

/* A linear walk: it runs per new visitor connection or request head, over
 * the few names one edge serves; a table built from the snapshot can replace
 * it without changing callers. */
const struct edge_record *edge_conf_find_record(const struct edge_conf *conf, const char *host,
						size_t host_len)
{
	struct slice name = slice_make(host, host_len);
	for (int wild = 0; wild < 2; wild++) {
		for (size_t i = 0; i < conf->zone_count; i++) {
			const struct edge_zone *z = &conf->zones[i];
			for (size_t j = 0; j < z->record_count; j++) {
				const struct edge_record *r = &z->records[j];
				if (is_wildcard(r->name) == (wild == 1) &&
				    hostname_matches(r->name, name))
					return r;
			}
		}
	}
	return NULL;
}
