/*
 * guard_conf: loads the `guard:` section into struct guard_conf. Every key is
 * checked here (types, ranges, names, what requires what); files are only
 * named, never opened: the TLS layer reads them and reports its own errors.
 * The section is read to the end whatever goes wrong, so one run lists every
 * problem; the result is returned only when there was none.
 */
#include "conf/guard_conf.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/yaml_doc.h"

#define MS_SEC 1000u
#define MS_MIN (60u * MS_SEC)
#define MS_HOUR (60u * MS_MIN)

/* Presets the binary ships (share/trust/, embedded at build time). */
static const char *const known_presets[] = { "cloudflare", NULL };

static const char *const default_header_names[] = {
	"X-Client-Verified", "X-Client-Subject", "X-Client-SAN", "X-Client-Fingerprint",
	"X-Client-Not-After",
};
static const char *const header_keys[] = { "verified", "subject", "san", "fingerprint",
					   "not_after" };

/* The identity header name slots, in header_keys order. */
static char **header_slot(struct identity_headers *h, size_t i)
{
	char **slots[] = { &h->verified, &h->subject, &h->san, &h->fingerprint, &h->not_after };
	return slots[i];
}

static struct guard_conf *guard_conf_new(const char *path)
{
	struct guard_conf *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->file = strdup(path);
	c->log_level = strdup("info");
	c->watch_files = true;
	c->backend = (struct guard_backend){
		.connect_timeout_ms = 5 * MS_SEC,
		.response_timeout_ms = 60 * MS_SEC,
		.idle_timeout_ms = 30 * MS_SEC,
		.pool_size = 64,
	};
	c->headers.client_cert = true;
	bool ok = c->file && c->log_level;
	for (size_t i = 0; i < 5; i++)
		ok = (*header_slot(&c->headers, i) = strdup(default_header_names[i])) && ok;
	c->limits = conf_limits_default;
	c->timeouts = (struct guard_timeouts){
		.handshake_ms = 10 * MS_SEC,
		.header_ms = 15 * MS_SEC,
		.idle_ms = 60 * MS_SEC,
		.body_ms = 30 * MS_SEC,
		.grace_ms = 10 * MS_SEC,
	};
	if (!ok) {
		guard_conf_free(c);
		return NULL;
	}
	return c;
}

/* ---- listeners ---- */

/* Listeners are TCP: the server binds host:port. False after reporting a
 * unix: address. */
static bool check_addr_tcp(struct ydoc *d, const struct conf_addr *a, const char *path,
			   yaml_node_t *n)
{
	if (!a->is_unix)
		return true;
	ydoc_error(d, n, "%s: a listener needs host:port; unix: sockets are for backend.address", path);
	return false;
}

/* Reports a listener address that an earlier one already binds. */
static void check_addr_unique(struct ydoc *d, const struct guard_conf *c, const struct conf_addr *a,
			      const char *path, yaml_node_t *n)
{
	for (size_t i = 0; i < c->listen_count; i++) {
		if (&c->listen[i] != a && conf_addr_same(&c->listen[i], a)) {
			ydoc_error(d, n, "%s: %s is already given in guard.listen[%zu]", path, a->text, i);
			return;
		}
	}
	for (size_t i = 0; i < c->plain_count && &c->plain[i].addr != a; i++) {
		if (conf_addr_same(&c->plain[i].addr, a)) {
			ydoc_error(d, n, "%s: %s is already given in guard.plain_listen[%zu]", path,
				   a->text, i);
			return;
		}
	}
}

static void load_listen(struct ydoc *d, yaml_node_t *n, struct guard_conf *c)
{
	size_t len = ydoc_list_len(n);
	if (!len) {
		ydoc_error(d, n, "guard.listen: at least one address is required");
		return;
	}
	if (!(c->listen = calloc(len, sizeof *c->listen))) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char path[YDOC_PATH_MAX];
		yaml_node_t *item = ydoc_list_item(d, n, i);
		struct conf_addr *a = &c->listen[c->listen_count];
		if (!ydoc_read_address(d, item, ydoc_list_path(path, n, "guard.listen", i), a))
			continue;
		/* Counted even when refused, so that guard_conf_free frees it. */
		c->listen_count++;
		if (check_addr_tcp(d, a, path, item))
			check_addr_unique(d, c, a, path, item);
	}
}

static void load_plain_one(struct ydoc *d, yaml_node_t *item, const char *path,
			   struct guard_plain_listener *p)
{
	static const char *const keys[] = { "address", "action", "redirect_port", NULL };
	p->action = PLAIN_ACTION_CLOSE;
	p->redirect_port = 443;
	if (item->type != YAML_MAPPING_NODE) {
		ydoc_read_address(d, item, path, &p->addr);
		return;
	}
	ydoc_check_keys(d, item, path, keys);
	char kpath[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_require(d, item, path, "address");
	if (n)
		ydoc_read_address(d, n, ydoc_path_key(kpath, path, "address"), &p->addr);
	if ((n = ydoc_get(d, item, "action"))) {
		const char *v = ydoc_scalar(d, n, ydoc_path_key(kpath, path, "action"));
		if (v && !strcmp(v, "redirect"))
			p->action = PLAIN_ACTION_REDIRECT;
		else if (v && strcmp(v, "close"))
			ydoc_error(d, n, "%s: unknown action \"%s\" (known: close, redirect)", kpath, v);
	}
	long long port;
	if ((n = ydoc_get(d, item, "redirect_port")) &&
	    ydoc_read_int(d, n, ydoc_path_key(kpath, path, "redirect_port"), 1, 65535, &port)) {
		p->redirect_port = (uint16_t)port;
		if (p->action != PLAIN_ACTION_REDIRECT)
			ydoc_error(d, n, "%s: redirect_port is only used with action: redirect", path);
	}
}

static void load_plain(struct ydoc *d, yaml_node_t *n, struct guard_conf *c)
{
	size_t len = ydoc_list_len(n);
	if (!len)
		return;
	if (!(c->plain = calloc(len, sizeof *c->plain))) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char path[YDOC_PATH_MAX];
		size_t before = d->error_count;
		yaml_node_t *item = ydoc_list_item(d, n, i);
		struct guard_plain_listener *p = &c->plain[c->plain_count];
		load_plain_one(d, item, ydoc_list_path(path, n, "guard.plain_listen", i), p);
		/* An entry is kept (and so freed with the struct) even when bad. */
		c->plain_count++;
		if (d->error_count == before && check_addr_tcp(d, &p->addr, path, item))
			check_addr_unique(d, c, &p->addr, path, item);
	}
}

/* ---- certificates, hosts, trust ---- */

/* Reports a hostname of hosts[i] that an earlier entry (or itself) lists. */
static void check_hostnames_unique(struct ydoc *d, const struct guard_conf *c, size_t i,
				   const char *path, yaml_node_t *n)
{
	const struct str_list *mine = &c->hosts[i].hostnames;
	for (size_t k = 0; k < mine->count; k++) {
		for (size_t j = 0; j <= i; j++) {
			const struct str_list *other = &c->hosts[j].hostnames;
			size_t end = j == i ? k : other->count;
			for (size_t m = 0; m < end; m++) {
				if (strcasecmp(mine->items[k], other->items[m]))
					continue;
				ydoc_error(d, n, "%s: hostname \"%s\" is already listed in guard.hosts[%zu]",
					   path, mine->items[k], j);
				return;
			}
		}
	}
}

static void load_host(struct ydoc *d, yaml_node_t *item, const char *path, struct guard_conf *c)
{
	static const char *const keys[] = { "hostnames", "certificate", "key", "pins", NULL };
	struct guard_host *h = &c->hosts[c->host_count++];
	h->line = ydoc_line(item);
	if (!ydoc_expect_map(d, item, path))
		return;
	ydoc_check_keys(d, item, path, keys);

	char kpath[YDOC_PATH_MAX];
	yaml_node_t *n = ydoc_require(d, item, path, "hostnames");
	if (n && ydoc_read_str_list(d, n, ydoc_path_key(kpath, path, "hostnames"), YDOC_STR_TEXT,
				    conf_check_hostname_pattern, &h->hostnames)) {
		if (!h->hostnames.count)
			ydoc_error(d, n, "%s: at least one hostname is required", kpath);
		check_hostnames_unique(d, c, c->host_count - 1, kpath, n);
	}
	yaml_node_t *cert = ydoc_get(d, item, "certificate");
	yaml_node_t *key = ydoc_get(d, item, "key");
	if (cert)
		ydoc_read_path(d, cert, ydoc_path_key(kpath, path, "certificate"), &h->certificate);
	if (key)
		ydoc_read_path(d, key, ydoc_path_key(kpath, path, "key"), &h->key);
	if (key && !cert)
		ydoc_error(d, key, "%s: key given without certificate", path);
	if (cert && !key)
		ydoc_error(d, cert, "%s: certificate given without key", path);
	if ((n = ydoc_get(d, item, "pins"))) {
		h->has_pins = true;
		ydoc_read_pins(d, n, ydoc_path_key(kpath, path, "pins"), &h->pins);
	}
}

static void load_hosts(struct ydoc *d, yaml_node_t *n, struct guard_conf *c)
{
	size_t len = ydoc_list_len(n);
	if (!len)
		return;
	if (!(c->hosts = calloc(len, sizeof *c->hosts))) {
		ydoc_error(d, n, "out of memory");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char path[YDOC_PATH_MAX];
		load_host(d, ydoc_list_item(d, n, i), ydoc_list_path(path, n, "guard.hosts", i), c);
	}
}

static bool preset_known(const char *name)
{
	for (size_t i = 0; known_presets[i]; i++)
		if (!strcmp(name, known_presets[i]))
			return true;
	return false;
}

static void load_presets(struct ydoc *d, yaml_node_t *n, struct guard_conf *c)
{
	/* Read unchecked, then check each item so the message can list the
	 * known names. */
	if (!ydoc_read_str_list(d, n, "guard.trust.preset", YDOC_STR_TEXT, NULL, &c->presets))
		return;
	for (size_t i = 0; i < c->presets.count; i++) {
		if (preset_known(c->presets.items[i]))
			continue;
		char known[128] = "";
		for (size_t k = 0; known_presets[k]; k++)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
				 k ? ", " : "", known_presets[k]);
		ydoc_error(d, ydoc_list_item(d, n, i), "guard.trust.preset: unknown preset \"%s\" (known: %s)",
			   c->presets.items[i], known);
	}
}

static void load_trust(struct ydoc *d, yaml_node_t *t, struct guard_conf *c)
{
	static const char *const keys[] = { "ca", "preset", "crl", NULL };
	if (!ydoc_expect_map(d, t, "guard.trust"))
		return;
	ydoc_check_keys(d, t, "guard.trust", keys);
	size_t before = d->error_count;
	yaml_node_t *n;
	if ((n = ydoc_get(d, t, "ca")))
		ydoc_read_str_list(d, n, "guard.trust.ca", YDOC_STR_PATH, NULL, &c->ca_files);
	if ((n = ydoc_get(d, t, "preset")))
		load_presets(d, n, c);
	/* Only when ca and preset were readable: else the anchor is not
	 * missing, just mistyped, and that was said already. */
	if (d->error_count == before && !c->ca_files.count && !c->presets.count)
		ydoc_error(d, t, "guard.trust: no trust anchor (give ca or preset)");
	if ((n = ydoc_get(d, t, "crl")))
		ydoc_read_str_list(d, n, "guard.trust.crl", YDOC_STR_PATH, NULL, &c->crl_files);
}

/* ---- backend ---- */

static void load_backend(struct ydoc *d, yaml_node_t *b, struct guard_conf *c)
{
	static const char *const keys[] = { "address", "connect_timeout", "response_timeout",
					    "idle_timeout", "pool_size", NULL };
	const char *p = "guard.backend";
	if (!ydoc_expect_map(d, b, p))
		return;
	ydoc_check_keys(d, b, p, keys);
	yaml_node_t *n = ydoc_require(d, b, p, "address");
	if (n)
		ydoc_read_address(d, n, "guard.backend.address", &c->backend.addr);
	ydoc_get_ms(d, b, p, "connect_timeout", 100, 5 * MS_MIN, &c->backend.connect_timeout_ms);
	ydoc_get_ms(d, b, p, "response_timeout", 100, 24 * MS_HOUR, &c->backend.response_timeout_ms);
	ydoc_get_ms(d, b, p, "idle_timeout", 100, MS_HOUR, &c->backend.idle_timeout_ms);
	long long pool;
	if ((n = ydoc_get(d, b, "pool_size")) &&
	    ydoc_read_int(d, n, "guard.backend.pool_size", 0, 100000, &pool))
		c->backend.pool_size = (uint32_t)pool;
}

/* ---- identity headers ---- */

/* One name key: false, "" or null turn the header off, true keeps the
 * default name, anything else must be a usable field name. */
static void load_header_name(struct ydoc *d, yaml_node_t *n, const char *path, char **slot)
{
	const char *v = ydoc_scalar(d, n, path);
	if (!v)
		return;
	if (!*v || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcasecmp(v, "no")) {
		free(*slot);
		*slot = NULL;
	} else if (!strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcasecmp(v, "yes")) {
		/* the default name stays */
	} else if (!conf_http_token_valid(v)) {
		ydoc_error(d, n, "%s: \"%s\" is not a valid header name", path, v);
	} else if (conf_http_header_reserved(v)) {
		ydoc_error(d, n, "%s: \"%s\" cannot be an identity header (it carries HTTP framing or routing)",
			   path, v);
	} else {
		ydoc_read_string(d, n, path, slot);
	}
}

/* Two identity headers by one name would make a client's identity ambiguous
 * to the app. Client-Cert and Client-Cert-Chain count when enabled. */
static void check_header_names_unique(struct ydoc *d, yaml_node_t *map, struct identity_headers *h)
{
	const char *names[7];
	const char *keys[7];
	size_t count = 0;
	if (h->client_cert) {
		names[count] = "Client-Cert";
		keys[count++] = "client_cert";
	}
	if (h->client_cert_chain) {
		names[count] = "Client-Cert-Chain";
		keys[count++] = "client_cert_chain";
	}
	for (size_t i = 0; i < 5; i++) {
		const char *name = *header_slot(h, i);
		if (!name)
			continue;
		for (size_t j = 0; j < count; j++) {
			if (strcasecmp(name, names[j]))
				continue;
			yaml_node_t *at = ydoc_get(d, map, header_keys[i]);
			ydoc_error(d, at ? at : map, "guard.headers.%s: \"%s\" is already used by %s",
				   header_keys[i], name, keys[j]);
			break;
		}
		names[count] = name;
		keys[count++] = header_keys[i];
	}
}

static void load_headers(struct ydoc *d, yaml_node_t *m, struct guard_conf *c)
{
	static const char *const keys[] = { "client_cert", "client_cert_chain", "verified", "subject",
					    "san", "fingerprint", "not_after", NULL };
	const char *p = "guard.headers";
	if (!ydoc_expect_map(d, m, p))
		return;
	ydoc_check_keys(d, m, p, keys);
	ydoc_get_bool(d, m, p, "client_cert", &c->headers.client_cert);
	ydoc_get_bool(d, m, p, "client_cert_chain", &c->headers.client_cert_chain);
	size_t before = d->error_count;
	for (size_t i = 0; i < 5; i++) {
		char path[YDOC_PATH_MAX];
		yaml_node_t *n = ydoc_get(d, m, header_keys[i]);
		if (n)
			load_header_name(d, n, ydoc_path_key(path, p, header_keys[i]),
					 header_slot(&c->headers, i));
	}
	if (d->error_count == before)
		check_header_names_unique(d, m, &c->headers);
}

/* ---- timeouts, the rest ---- */

static void load_timeouts(struct ydoc *d, yaml_node_t *m, struct guard_conf *c)
{
	static const char *const keys[] = { "handshake", "header", "idle", "body", "grace", NULL };
	const char *p = "guard.timeouts";
	if (!ydoc_expect_map(d, m, p))
		return;
	ydoc_check_keys(d, m, p, keys);
	ydoc_get_ms(d, m, p, "handshake", 100, 5 * MS_MIN, &c->timeouts.handshake_ms);
	ydoc_get_ms(d, m, p, "header", 100, MS_HOUR, &c->timeouts.header_ms);
	ydoc_get_ms(d, m, p, "idle", 100, MS_HOUR, &c->timeouts.idle_ms);
	ydoc_get_ms(d, m, p, "body", 100, MS_HOUR, &c->timeouts.body_ms);
	ydoc_get_ms(d, m, p, "grace", 0, MS_HOUR, &c->timeouts.grace_ms);
}

static void load_guard(struct ydoc *d, yaml_node_t *g, struct guard_conf *c)
{
	static const char *const keys[] = { "workers", "listen", "plain_listen", "certificate", "key",
					    "hosts", "trust", "pins", "backend", "headers", "limits",
					    "timeouts", "log_level", "watch_files", "admin", "access_log", NULL };
	if (!ydoc_expect_map(d, g, "guard"))
		return;
	ydoc_check_keys(d, g, "guard", keys);
	yaml_node_t *n;
	if ((n = ydoc_get(d, g, "workers")))
		ydoc_read_workers(d, n, "guard.workers", &c->workers);
	if ((n = ydoc_require(d, g, "guard", "listen")))
		load_listen(d, n, c);
	if ((n = ydoc_get(d, g, "plain_listen")))
		load_plain(d, n, c);
	if ((n = ydoc_require(d, g, "guard", "certificate")))
		ydoc_read_path(d, n, "guard.certificate", &c->certificate);
	if ((n = ydoc_require(d, g, "guard", "key")))
		ydoc_read_path(d, n, "guard.key", &c->key);
	if ((n = ydoc_get(d, g, "hosts")))
		load_hosts(d, n, c);
	if ((n = ydoc_require(d, g, "guard", "trust")))
		load_trust(d, n, c);
	if ((n = ydoc_get(d, g, "pins"))) {
		c->has_pins = true;
		ydoc_read_pins(d, n, "guard.pins", &c->pins);
	}
	if ((n = ydoc_require(d, g, "guard", "backend")))
		load_backend(d, n, c);
	if ((n = ydoc_get(d, g, "headers")))
		load_headers(d, n, c);
	if ((n = ydoc_get(d, g, "limits")))
		ydoc_read_limits(d, n, "guard.limits", &c->limits);
	if ((n = ydoc_get(d, g, "timeouts")))
		load_timeouts(d, n, c);
	if ((n = ydoc_get(d, g, "log_level")))
		ydoc_read_log_level(d, n, "guard.log_level", &c->log_level);
	ydoc_get_bool(d, g, "guard", "watch_files", &c->watch_files);
	if ((n = ydoc_get(d, g, "access_log")))
		ydoc_read_access_log(d, n, "guard.access_log", &c->access_log);
	if ((n = ydoc_get(d, g, "admin")))
		c->has_admin = ydoc_read_address(d, n, "guard.admin", &c->admin);
}


struct guard_conf *guard_conf_load(const char *path, struct conf_errors *errs)
{
	struct ydoc d;
	struct guard_conf *c = NULL;
	if (ydoc_open(&d, path, errs)) {
		yaml_node_t *g = ydoc_section(&d, "guard", "a");
		if (g && !(c = guard_conf_new(path)))
			ydoc_error(&d, g, "out of memory");
		if (c)
			load_guard(&d, g, c);
	}
	bool failed = d.error_count > 0;
	ydoc_close(&d);
	if (failed) {
		guard_conf_free(c);
		return NULL;
	}
	return c;
}

static void guard_host_free(struct guard_host *h)
{
	str_list_free(&h->hostnames);
	free(h->certificate);
	free(h->key);
	pin_set_free(&h->pins);
}

void guard_conf_free(struct guard_conf *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->access_log.path);
	if (c->has_admin)
		conf_addr_free(&c->admin);
	for (size_t i = 0; i < c->listen_count; i++)
		conf_addr_free(&c->listen[i]);
	free(c->listen);
	for (size_t i = 0; i < c->plain_count; i++)
		conf_addr_free(&c->plain[i].addr);
	free(c->plain);
	free(c->certificate);
	free(c->key);
	for (size_t i = 0; i < c->host_count; i++)
		guard_host_free(&c->hosts[i]);
	free(c->hosts);
	str_list_free(&c->ca_files);
	str_list_free(&c->presets);
	str_list_free(&c->crl_files);
	pin_set_free(&c->pins);
	conf_addr_free(&c->backend.addr);
	for (size_t i = 0; i < 5; i++)
		free(*header_slot(&c->headers, i));
	free(c->log_level);
	free(c);
}
