/*
 * edge_conf_zone: reads the edge's zones and their hostname records, then
 * resolves what each record inherits (SSL mode, origin-pull certificate,
 * strict-mode CA bundle, visitor certificate) so the edge never walks the
 * record -> zone -> edge chain at run time. The checks that need the chain
 * (an authenticated pull without TLS, a pull without its certificate, a
 * proxied name without a certificate for visitors) are made here, once.
 */
#include "conf/edge_conf_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A record's own origin_pull; INHERIT takes the zone's. */
enum record_pull { RECORD_PULL_INHERIT, RECORD_PULL_OFF, RECORD_PULL_HOSTNAME };

static const char *const ssl_names[] = { "off", "flexible", "full", "strict", NULL };
static const char *const zone_pull_names[] = { "off", "global", "zone", NULL };
static const char *const record_pull_names[] = { "inherit", "off", "hostname", NULL };
static const char *const error_codes_names[] = { "standard", "cloudflare", NULL };

/* ---- values ---- */

/* One of names (NULL-terminated); *out is its index. what names the kind of
 * value in the message ("mode", "value"). */
static bool read_choice(struct ydoc *d, yaml_node_t *n, const char *path, const char *what,
			const char *const names[], int *out)
{
	const char *v = ydoc_scalar(d, n, path);
	if (!v)
		return false;
	char known[128] = "";
	for (int i = 0; names[i]; i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return true;
		}
		snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
			 names[i]);
	}
	ydoc_error(d, n, "%s: unknown %s \"%s\" (known: %s)", path, what, v, known);
	return false;
}

/* A hostname (or "*.name" when wildcard), stored in lower case: names are
 * compared without case, and one spelling keeps those comparisons simple. */
static bool read_hostname(struct ydoc *d, yaml_node_t *n, const char *path, bool wildcard,
			  char **out)
{
	char *name = NULL;
	if (!ydoc_read_string(d, n, path, &name))
		return false;
	if (!conf_hostname_pattern_valid(name, wildcard)) {
		ydoc_error(d, n, "%s: \"%s\" is not a %s", path, name,
			   wildcard ? "hostname pattern (use name.example.com or *.example.com)"
				    : "hostname");
		free(name);
		return false;
	}
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	free(*out);
	*out = name;
	return true;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* "www.example.com" and "*.example.com" are inside zone "example.com", as
 * is "example.com" itself; both are lower case. */
static bool name_in_zone(const char *name, const char *zone)
{
	if (name[0] == '*' && name[1] == '.')
		name += 2;
	size_t nl = strlen(name), zl = strlen(zone);
	if (nl == zl)
		return !strcmp(name, zone);
	return nl > zl && name[nl - zl - 1] == '.' && !strcmp(name + nl - zl, zone);
}

/* ---- certificates ---- */

void edge_conf_read_cert_pair(struct ydoc *d, yaml_node_t *map, const char *path, bool required,
			      struct cert_files *out)
{
	char kpath[YDOC_PATH_MAX];
	yaml_node_t *cert = ydoc_get(d, map, "certificate");
	yaml_node_t *key = ydoc_get(d, map, "key");
	if (cert)
		ydoc_read_path(d, cert, ydoc_path_key(kpath, path, "certificate"), &out->certificate);
	if (key)
		ydoc_read_path(d, key, ydoc_path_key(kpath, path, "key"), &out->key);
	if (key && !cert)
		ydoc_error(d, key, "%s: key given without certificate", path);
	if (cert && !key)
		ydoc_error(d, cert, "%s: certificate given without key", path);
	if (!cert && !key && required)
		ydoc_error(d, map, "%s: needs certificate and key", path);
	if (cert || key)
		out->line = ydoc_line(cert ? cert : key);
}

void edge_conf_read_client_cert(struct ydoc *d, yaml_node_t *n, const char *path,
				struct cert_files *out)
{
	static const char *const keys[] = { "certificate", "key", NULL };
	/* Given, even when wrong: what depends on it is not reported missing. */
	out->line = ydoc_line(n);
	if (!ydoc_expect_map(d, n, path))
		return;
	ydoc_check_keys(d, n, path, keys);
	edge_conf_read_cert_pair(d, n, path, true, out);
}

/* ---- records ---- */

/* Reports a record name an earlier record (of any zone) already has. */
static void check_record_unique(struct ydoc *d, const struct edge_conf *c,
				const struct edge_record *r, const char *path, yaml_node_t *n)
{
	for (size_t i = 0; i < c->zone_count; i++) {
		const struct edge_zone *z = &c->zones[i];
		for (size_t j = 0; j < z->record_count && &z->records[j] != r; j++) {
			if (z->records[j].name && !strcmp(z->records[j].name, r->name)) {
				ydoc_error(d, n, "%s: \"%s\" is already given in edge.zones[%zu].records[%zu]",
					   path, r->name, i, j);
				return;
			}
		}
	}
}

static void record_read_name(struct ydoc *d, yaml_node_t *item, const char *path,
			     const struct edge_conf *c, struct edge_record *r)
{
	char kpath[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_require(d, item, path, "name");
	if (!n || !read_hostname(d, n, ydoc_path_key(kpath, path, "name"), true, &r->name))
		return;
	if (r->zone->name && !name_in_zone(r->name, r->zone->name)) {
		ydoc_error(d, n, "%s: \"%s\" is not inside zone \"%s\"", kpath, r->name,
			   r->zone->name);
		return;
	}
	check_record_unique(d, c, r, kpath, n);
}

static void record_read_origin(struct ydoc *d, yaml_node_t *item, const char *path,
			       struct edge_record *r)
{
	char kpath[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_require(d, item, path, "origin");
	if (!n || !ydoc_read_address_opt_port(d, n, ydoc_path_key(kpath, path, "origin"), &r->origin))
		return;
	if (r->origin.is_unix) {
		ydoc_error(d, n, "%s: an origin is host or host:port; unix: sockets are not supported",
			   kpath);
		return;
	}
	if (!r->origin.port)
		r->origin.port = r->zone->ssl >= SSL_MODE_FULL ? 443 : 80;
	yaml_node_t *sni = ydoc_get(d, item, "origin_sni");
	if (sni) {
		const char *v = ydoc_scalar(d, sni, ydoc_path_key(kpath, path, "origin_sni"));
		if (v && is_ip_literal(v))
			ydoc_error(d, sni,
				   "%s: \"%s\" is an IP address; SNI carries only names (leave "
				   "origin_sni out to send none)",
				   kpath, v);
		else if (v)
			read_hostname(d, sni, kpath, false, &r->origin_sni);
	} else if (!is_ip_literal(r->origin.host)) {
		if (!(r->origin_sni = strdup(r->origin.host)))
			ydoc_error(d, n, "out of memory");
	}
}

/* Which certificate the record's pulls present, and the checks that follow
 * from it. pull_node is the record's origin_pull (NULL when inherited). */
static void record_resolve_pull(struct ydoc *d, yaml_node_t *item, yaml_node_t *pull_node,
				const char *path, enum record_pull own, const struct edge_conf *c,
				struct edge_record *r)
{
	const struct edge_zone *z = r->zone;
	if (own == RECORD_PULL_HOSTNAME) {
		r->pull = ORIGIN_PULL_HOSTNAME;
		r->client_cert = &r->own_client_cert;
		if (!r->own_client_cert.line)
			ydoc_error(d, pull_node,
				   "%s: origin_pull: hostname needs the record's client_certificate", path);
	} else if (own == RECORD_PULL_INHERIT) {
		r->pull = z->pull;
		if (z->pull == ORIGIN_PULL_ZONE)
			r->client_cert = &z->client_cert;
		else if (z->pull == ORIGIN_PULL_GLOBAL)
			r->client_cert = &c->global_client_cert;
	}
	if (own != RECORD_PULL_HOSTNAME && r->own_client_cert.line)
		ydoc_error(d, ydoc_get(d, item, "client_certificate"),
			   "%s: client_certificate is only used with origin_pull: hostname", path);
	/* An inherited pull is reported once, at the zone's origin_pull. */
	if (own == RECORD_PULL_HOSTNAME && r->ssl < SSL_MODE_FULL)
		ydoc_error(d, pull_node ? pull_node : item,
			   "%s: origin_pull needs ssl full or strict: there is no TLS to the origin "
			   "to authenticate",
			   path);
}

static void record_load(struct ydoc *d, yaml_node_t *item, const char *path, struct edge_conf *c,
			struct edge_record *r)
{
	static const char *const keys[] = { "name", "origin", "proxied", "origin_sni", "origin_pull",
					    "client_certificate", "certificate", "key", NULL };
	const struct edge_zone *z = r->zone;
	r->line = ydoc_line(item);
	r->proxied = true;
	r->ssl = z->ssl;
	r->origin_ca = z->origin_ca ? z->origin_ca : c->origin_ca;
	if (!ydoc_expect_map(d, item, path))
		return;
	ydoc_check_keys(d, item, path, keys);

	char kpath[YDOC_PATH_MAX];
	record_read_name(d, item, path, c, r);
	record_read_origin(d, item, path, r);
	ydoc_get_bool(d, item, path, "proxied", &r->proxied);
	yaml_node_t *n;
	if ((n = ydoc_get(d, item, "client_certificate")))
		edge_conf_read_client_cert(d, n, ydoc_path_key(kpath, path, "client_certificate"),
					   &r->own_client_cert);
	edge_conf_read_cert_pair(d, item, path, false, &r->own_visitor_cert);

	int own = RECORD_PULL_INHERIT;
	yaml_node_t *pull = ydoc_get(d, item, "origin_pull");
	if (pull && !read_choice(d, pull, ydoc_path_key(kpath, path, "origin_pull"), "value",
				 record_pull_names, &own))
		return; /* the rest would follow from a guess */
	record_resolve_pull(d, item, pull, path, (enum record_pull)own, c, r);

	if (r->own_visitor_cert.line)
		r->visitor_cert = &r->own_visitor_cert;
	else if (z->visitor_cert.line)
		r->visitor_cert = &z->visitor_cert;
	if (r->proxied && !r->visitor_cert)
		ydoc_error(d, item,
			   "%s: a proxied record needs a visitor certificate (give certificate and "
			   "key on the record or its zone)",
			   path);
}

/* ---- zones ---- */

static void zone_read_name(struct ydoc *d, yaml_node_t *item, const char *path,
			   const struct edge_conf *c, struct edge_zone *z)
{
	char kpath[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_require(d, item, path, "name");
	if (!n || !read_hostname(d, n, ydoc_path_key(kpath, path, "name"), false, &z->name))
		return;
	for (size_t i = 0; &c->zones[i] != z; i++) {
		if (c->zones[i].name && !strcmp(c->zones[i].name, z->name)) {
			ydoc_error(d, n, "%s: zone \"%s\" is already given in edge.zones[%zu]", kpath,
				   z->name, i);
			return;
		}
	}
}

/* The zone's own settings, checked against each other and the edge's. */
static void zone_read_settings(struct ydoc *d, yaml_node_t *item, const char *path,
			       const struct edge_conf *c, struct edge_zone *z)
{
	char kpath[YDOC_PATH_MAX];
	int v;
	yaml_node_t *n;
	if ((n = ydoc_get(d, item, "ssl")) &&
	    read_choice(d, n, ydoc_path_key(kpath, path, "ssl"), "mode", ssl_names, &v))
		z->ssl = (enum ssl_mode)v;
	yaml_node_t *pull = ydoc_get(d, item, "origin_pull");
	if (pull && read_choice(d, pull, ydoc_path_key(kpath, path, "origin_pull"), "value",
				zone_pull_names, &v))
		z->pull = (enum origin_pull)v;
	if ((n = ydoc_get(d, item, "client_certificate")))
		edge_conf_read_client_cert(d, n, ydoc_path_key(kpath, path, "client_certificate"),
					   &z->client_cert);
	yaml_node_t *ca = ydoc_get(d, item, "origin_ca");
	if (ca)
		ydoc_read_path(d, ca, ydoc_path_key(kpath, path, "origin_ca"), &z->origin_ca);
	ydoc_get_bool(d, item, path, "always_https", &z->always_https);
	if ((n = ydoc_get(d, item, "error_codes")) &&
	    read_choice(d, n, ydoc_path_key(kpath, path, "error_codes"), "value", error_codes_names,
			&v))
		z->error_codes = (enum error_codes)v;
	edge_conf_read_cert_pair(d, item, path, false, &z->visitor_cert);
	if ((n = ydoc_get(d, item, "cache"))) {
		static const char *const cache_keys[] = { "enabled", "ignore_query", "store_set_cookie", NULL };
		const char *cp = ydoc_path_key(kpath, path, "cache");
		char cpath[YDOC_PATH_MAX];
		snprintf(cpath, sizeof cpath, "%s", cp);
		if (n->type == YAML_SCALAR_NODE) {
			ydoc_read_bool(d, n, cpath, &z->cache.enabled);
		} else if (ydoc_expect_map(d, n, cpath)) {
			ydoc_check_keys(d, n, cpath, cache_keys);
			ydoc_get_bool(d, n, cpath, "enabled", &z->cache.enabled);
			ydoc_get_bool(d, n, cpath, "ignore_query", &z->cache.ignore_query);
			ydoc_get_bool(d, n, cpath, "store_set_cookie", &z->cache.store_set_cookie);
		}
	}

	if (z->pull != ORIGIN_PULL_OFF && (z->ssl == SSL_MODE_OFF || z->ssl == SSL_MODE_FLEXIBLE))
		ydoc_error(d, pull, "%s: origin_pull needs ssl full or strict: there is no TLS to the origin to authenticate",
			   path);
	if (z->pull == ORIGIN_PULL_ZONE && !z->client_cert.line)
		ydoc_error(d, pull, "%s: origin_pull: zone needs the zone's client_certificate", path);
	if (z->pull == ORIGIN_PULL_GLOBAL && !c->has_global_client_cert)
		ydoc_error(d, pull, "%s: origin_pull: global needs edge.client_certificate", path);
	if (z->pull != ORIGIN_PULL_ZONE && z->client_cert.line)
		ydoc_error(d, ydoc_get(d, item, "client_certificate"),
			   "%s: client_certificate is only used with origin_pull: zone", path);
	/* A bundle in a zone that does not verify would read as protection
	 * the zone does not have. */
	if (ca && z->ssl != SSL_MODE_STRICT)
		ydoc_error(d, ca, "%s: origin_ca is only used with ssl: strict", path);
}

static void zone_load(struct ydoc *d, yaml_node_t *item, const char *path, struct edge_conf *c,
		      struct edge_zone *z)
{
	static const char *const keys[] = { "name", "certificate", "key", "ssl", "origin_pull",
					    "client_certificate", "origin_ca", "always_https",
					    "error_codes", "cache", "records", NULL };
	z->line = ydoc_line(item);
	z->cache.enabled = true;
	z->ssl = SSL_MODE_FULL;
	z->pull = ORIGIN_PULL_OFF;
	z->error_codes = ERROR_CODES_STANDARD;
	if (!ydoc_expect_map(d, item, path))
		return;
	ydoc_check_keys(d, item, path, keys);
	zone_read_name(d, item, path, c, z);
	zone_read_settings(d, item, path, c, z);

	char rpath[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_get(d, item, "records");
	if (!n || ydoc_is_null(n))
		return;
	size_t len = ydoc_list_len(n);
	if (len && !(z->records = calloc(len, sizeof *z->records))) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	ydoc_path_key(rpath, path, "records");
	for (size_t i = 0; i < len; i++) {
		char ipath[YDOC_PATH_MAX];
		/* Counted first, so edge_conf_free frees it whatever happens. */
		struct edge_record *r = &z->records[z->record_count++];
		r->zone = z;
		record_load(d, ydoc_list_item(d, n, i), ydoc_list_path(ipath, n, rpath, i), c, r);
	}
}

void edge_conf_read_zones(struct ydoc *d, yaml_node_t *n, struct edge_conf *c)
{
	if (ydoc_is_null(n))
		return;
	size_t len = ydoc_list_len(n);
	if (len && !(c->zones = calloc(len, sizeof *c->zones))) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char path[YDOC_PATH_MAX];
		struct edge_zone *z = &c->zones[c->zone_count++];
		zone_load(d, ydoc_list_item(d, n, i), ydoc_list_path(path, n, "edge.zones", i), c, z);
	}
}

/* ---- freeing ---- */

void edge_cert_files_free(struct cert_files *cf)
{
	free(cf->certificate);
	free(cf->key);
	cf->certificate = cf->key = NULL;
}

static void edge_record_free(struct edge_record *r)
{
	free(r->name);
	conf_addr_free(&r->origin);
	free(r->origin_sni);
	edge_cert_files_free(&r->own_client_cert);
	edge_cert_files_free(&r->own_visitor_cert);
}

void edge_conf_free_zones(struct edge_conf *c)
{
	for (size_t i = 0; i < c->zone_count; i++) {
		struct edge_zone *z = &c->zones[i];
		free(z->name);
		edge_cert_files_free(&z->client_cert);
		edge_cert_files_free(&z->visitor_cert);
		free(z->origin_ca);
		for (size_t j = 0; j < z->record_count; j++)
			edge_record_free(&z->records[j]);
		free(z->records);
	}
	free(c->zones);
	c->zones = NULL;
	c->zone_count = 0;
}
