/*
 * access_log: one line per request, JSON or a combined-style text, to a file
 * or stderr. Workers write whole lines with one write(2) on an O_APPEND
 * descriptor, so lines from different threads never interleave and no lock
 * is taken. Reopening (SIGUSR1, after logrotate moved the file) replaces the
 * file behind the same descriptor with dup2, atomically for the writers.
 */
#ifndef PULLGATE_PROXY_ACCESS_LOG_H
#define PULLGATE_PROXY_ACCESS_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/conf_types.h"
#include "core/slice.h"

struct access_log;

/* One request, as the session saw it. Slices and strings are borrowed for
 * the call. */
struct access_entry {
	const char *role;          /* "guard", "edge" */
	int64_t start_us;          /* wall clock, microseconds since the epoch */
	double duration_ms;
	double origin_ms;          /* request sent upstream -> response head; < 0 when none */
	const char *client;        /* the peer's IP */
	struct slice method, host, path, user_agent, referer;
	int status;
	uint64_t bytes;            /* response body bytes */
	const char *tls;           /* "TLSv1.3", or NULL for plain */
	const char *zone;          /* edge: the zone, or NULL */
	const char *cache;         /* edge: hit, uri-miss, stale, ..., or NULL */
	const char *client_cert;   /* guard: the certificate's SHA-256, or NULL */
	const char *reason;        /* why it failed, or NULL */
};

/* Opens conf's file (created 0640 if missing). NULL with err set. */
struct access_log *access_log_open(const struct access_log_conf *conf, char *err, size_t errlen);
/* Reopens the same path behind the same descriptor. -1 with err set. */
int access_log_reopen(struct access_log *log, char *err, size_t errlen);
void access_log_close(struct access_log *log);
void access_log_write(struct access_log *log, const struct access_entry *e);

#endif
