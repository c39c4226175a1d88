/*
 * guard_conf: the typed, immutable configuration of `pullgate guard`, loaded
 * from the `guard:` section of a YAML file. Every string is owned by the
 * struct and freed by guard_conf_free. Durations are in milliseconds.
 */
#ifndef PULLGATE_CONF_GUARD_CONF_H
#define PULLGATE_CONF_GUARD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf_error.h"
#include "conf/conf_types.h"

/* Per-SNI rules: a client whose SNI matches one of hostnames is served with
 * this certificate (when given) and judged with these pins (when given,
 * replacing the global pins). Its requests' Host must match hostnames too. */
struct guard_host {
	struct str_list hostnames; /* exact or "*.example.com" */
	char *certificate;         /* PEM chain, optional */
	char *key;                 /* PEM key, required with certificate */
	bool has_pins;
	struct pin_set pins;
	int line;
};

enum plain_action { PLAIN_ACTION_CLOSE, PLAIN_ACTION_REDIRECT };

struct guard_plain_listener {
	struct conf_addr addr;
	enum plain_action action;
	uint16_t redirect_port; /* https port in the Location; 443 by default */
};

struct identity_headers {
	bool client_cert;       /* RFC 9440 Client-Cert, on by default */
	bool client_cert_chain; /* RFC 9440 Client-Cert-Chain, off by default */
	/* Header names; NULL turns that header off. Defaults in guard_conf.c. */
	char *verified;         /* "X-Client-Verified": SUCCESS */
	char *subject;          /* "X-Client-Subject": RFC 2253 subject */
	char *san;              /* "X-Client-SAN": comma-separated DNS/IP/URI/email */
	char *fingerprint;      /* "X-Client-Fingerprint": hex SHA-256 of the leaf */
	char *not_after;        /* "X-Client-Not-After": ISO 8601 UTC */
};

struct guard_timeouts {
	uint32_t handshake_ms;   /* default 10000 */
	uint32_t header_ms;      /* default 15000 */
	uint32_t idle_ms;        /* default 60000: keep-alive between requests */
	uint32_t body_ms;        /* default 30000: no progress on a body */
	uint32_t grace_ms;       /* default 10000: drain on SIGTERM */
};

struct guard_backend {
	struct conf_addr addr;
	uint32_t connect_timeout_ms;  /* default 5000 */
	uint32_t response_timeout_ms; /* default 60000: request sent -> response head */
	uint32_t idle_timeout_ms;     /* default 30000: pooled connection lifetime idle */
	uint32_t pool_size;           /* default 64 idle connections per worker */
};

struct guard_conf {
	char *file;                  /* the configuration file's path */
	int workers;                 /* 0 = one per core */
	struct conf_addr *listen;    /* TLS listeners, at least one */
	size_t listen_count;
	struct guard_plain_listener *plain;
	size_t plain_count;

	char *certificate;           /* the default server certificate chain */
	char *key;
	struct guard_host *hosts;
	size_t host_count;

	struct str_list ca_files;    /* trust anchors from files */
	struct str_list presets;     /* named presets: "cloudflare" */
	struct str_list crl_files;
	bool has_pins;
	struct pin_set pins;         /* global pins */

	struct guard_backend backend;
	struct identity_headers headers;
	struct http_limits_conf limits;
	struct guard_timeouts timeouts;
	char *log_level;             /* "info" by default */
	bool watch_files;
	struct access_log_conf access_log;
	bool has_admin;
	struct conf_addr admin;       /* metrics and health (loopback advised); off unless given */            /* reload when CA/CRL/cert files change; default true */
};

/* Loads the `guard:` section of path. On failure returns NULL with every
 * problem found appended to errs as "file:line: message". */
struct guard_conf *guard_conf_load(const char *path, struct conf_errors *errs);
void guard_conf_free(struct guard_conf *conf);

#endif
