/*
 * conf_types: the value types both roles' configurations are made of
 * (addresses, string lists, pin sets, HTTP limits), apart from either role's
 * struct so that the YAML readers and the edge need not see the guard's.
 * Strings are owned by the struct that holds them; the free functions are in
 * conf/yaml_doc.h.
 */
#ifndef PULLGATE_CONF_CONF_TYPES_H
#define PULLGATE_CONF_CONF_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A list of owned strings. */
struct str_list {
	char **items;
	size_t count;
};

/* host:port, [v6]:port, or unix:/path. */
struct conf_addr {
	char *text;     /* as written, for messages */
	bool is_unix;
	char *host;     /* numeric address or hostname; NULL for unix */
	uint16_t port;
	char *path;     /* unix socket path */
	int line;       /* where it was written */
};

/* Pins restrict which verified client certificates are accepted. A pin set is
 * empty when it has no fingerprints and no subject patterns. When non-empty:
 * the leaf must match one of (cert_sha256 ∪ spki_sha256) if either list is
 * non-empty, AND its CN or a DNS SAN must match one of subjects if that list
 * is non-empty. */
struct pin_set {
	uint8_t (*cert_sha256)[32]; /* SHA-256 of the leaf certificate DER */
	size_t cert_sha256_count;
	uint8_t (*spki_sha256)[32]; /* SHA-256 of the leaf SubjectPublicKeyInfo DER */
	size_t spki_sha256_count;
	struct str_list subjects;   /* patterns: exact, or "*.example.com" (one label) */
};

/* The access log: one line per request. */
struct access_log_conf {
	bool enabled;
	char *path;            /* a file (appended to), or "stderr" */
	bool json;             /* json (default) or combined */
};

struct http_limits_conf {
	size_t request_line;   /* default 8192 */
	size_t header_bytes;   /* default 32768 (request line + headers) */
	size_t header_count;   /* default 100, at most 128 */
	uint64_t body_bytes;   /* 0 = unlimited (the default) */
};

#endif
