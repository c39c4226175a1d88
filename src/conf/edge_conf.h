/*
 * edge_conf: the typed, immutable configuration of `pullgate edge`, loaded
 * from the `edge:` section of a YAML file (format: docs/edge.conf.md). Every
 * string is owned by the struct and freed by edge_conf_free. Durations are in
 * milliseconds. Inheritance (record -> zone -> edge) is resolved by the loader:
 * each record carries its effective settings.
 */
#ifndef PULLGATE_CONF_EDGE_CONF_H
#define PULLGATE_CONF_EDGE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf_error.h"
#include "conf/conf_types.h"

enum ssl_mode { SSL_MODE_OFF, SSL_MODE_FLEXIBLE, SSL_MODE_FULL, SSL_MODE_STRICT };

/* Authenticated origin pulls: which client certificate a pull presents. */
enum origin_pull { ORIGIN_PULL_OFF, ORIGIN_PULL_GLOBAL, ORIGIN_PULL_ZONE, ORIGIN_PULL_HOSTNAME };

enum error_codes { ERROR_CODES_STANDARD, ERROR_CODES_CLOUDFLARE };

/* A certificate and its key, as files. The loader checks them only as text;
 * the TLS layer opens them. Both are set, or neither (then line is 0). */
struct cert_files {
	char *certificate; /* PEM chain: leaf first */
	char *key;
	int line;          /* where certificate was written; 0 when not given */
};

struct edge_record {
	char *name;               /* hostname, or "*.example.com"; lower case */
	struct edge_zone *zone;   /* back pointer */
	bool proxied;             /* false: DNS-only, the edge does not serve it */
	struct conf_addr origin;  /* host:port; port defaults to 80 (off, flexible) or 443 */
	/* SNI and verified name toward the origin; default the origin host when
	 * it is a name, NULL when it is an IP literal (no SNI is sent and strict
	 * mode verifies the certificate against the IP address). */
	char *origin_sni;
	/* Effective settings after inheritance: */
	enum ssl_mode ssl;
	enum origin_pull pull;    /* OFF, or where the certificate below came from */
	const struct cert_files *client_cert; /* NULL when pull is OFF; points into conf */
	/* strict: CA bundle file, the zone's else the edge's (points into conf);
	 * NULL = the system default */
	const char *origin_ca;
	const struct cert_files *visitor_cert; /* record's own, else the zone's, else NULL */
	struct cert_files own_client_cert;  /* when origin_pull: hostname */
	struct cert_files own_visitor_cert; /* optional per-record visitor certificate */
	int line;
};

/* The zone's cache rules. */
struct edge_zone_cache {
	bool enabled;             /* default true (when the edge has a cache) */
	bool ignore_query;        /* key without the query string; default false */
	bool store_set_cookie;    /* store responses with Set-Cookie; default false */
};

struct edge_zone {
	char *name;               /* "example.com"; lower case */
	enum ssl_mode ssl;        /* default full */
	enum origin_pull pull;    /* default off */
	struct cert_files client_cert;  /* when pull: zone */
	struct cert_files visitor_cert; /* the zone's certificate for visitors (may be a wildcard) */
	char *origin_ca;          /* strict bundle; NULL = edge default */
	bool always_https;        /* plain listener redirects this zone */
	enum error_codes error_codes;
	struct edge_zone_cache cache;
	struct edge_record *records;
	size_t record_count;
	int line;
};

struct edge_timeouts {
	uint32_t handshake_ms;       /* 10000 */
	uint32_t header_ms;          /* 15000 */
	uint32_t idle_ms;            /* 60000 */
	uint32_t body_ms;            /* 30000 */
	uint32_t grace_ms;           /* 10000 */
	uint32_t origin_connect_ms;  /* 5000 */
	uint32_t origin_response_ms; /* 60000 */
};

struct edge_pool_conf {
	uint32_t size;               /* idle connections per origin pool per worker, 32 */
	uint32_t idle_timeout_ms;    /* 60000 */
};

/* The shared cache of all workers. */
struct edge_cache_conf {
	uint64_t size;                /* bytes; 0 turns the cache off; default 256m */
	uint64_t max_object;          /* larger responses stream without being stored; default 8m */
	uint32_t collapse_wait_ms;    /* how long a miss waits for a concurrent pull of the same key; 10s */
	bool cf_cache_status;         /* also send a CF-Cache-Status header; default false */
	char *name;                   /* the cache's name in Cache-Status; default "pullgate" */
};

struct edge_conf {
	char *file;
	int workers;                  /* 0 = one per core */
	struct conf_addr *listen;     /* HTTPS listeners (at least one) */
	size_t listen_count;
	struct conf_addr *plain;      /* plain HTTP listeners */
	size_t plain_count;
	bool has_global_client_cert;
	struct cert_files global_client_cert; /* origin_pull: global */
	char *origin_ca;              /* default strict bundle; NULL = system default */
	char *connecting_ip_header;   /* "CF-Connecting-IP"; NULL turns it off */
	struct edge_pool_conf pool;
	struct edge_cache_conf cache;
	struct edge_timeouts timeouts;
	struct http_limits_conf limits;
	struct edge_zone *zones;
	size_t zone_count;
	char *log_level;
	bool watch_files;
	struct access_log_conf access_log;
	bool has_admin;
	struct conf_addr admin;       /* metrics and health (loopback advised); off unless given */
};

/* Loads the `edge:` section of path (a `guard:` section beside it is left to
 * the guard's loader). On failure returns NULL with every problem found
 * appended to errs as "file:line: message". Files are named, not opened. */
struct edge_conf *edge_conf_load(const char *path, struct conf_errors *errs);
void edge_conf_free(struct edge_conf *conf);

/* The proxied or DNS-only record for a hostname (host_len bytes, not
 * NUL-terminated; any case; a trailing dot ignored), or NULL. An exact name
 * wins over a wildcard record; "*.example.com" matches exactly one more
 * label. The caller checks proxied. Safe from any thread: conf is immutable. */
const struct edge_record *edge_conf_find_record(const struct edge_conf *conf, const char *host,
						size_t host_len);

#endif
