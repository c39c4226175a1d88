/* guard_snapshot: one loaded configuration and everything built from it;
 * see guard.h. */
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/net.h"
#include "guard/guard.h"

struct guard_snapshot *guard_snapshot_load(const char *path, struct conf_errors *errs, char *err,
					   size_t errlen)
{
	struct guard_conf *conf = guard_conf_load(path, errs);
	if (!conf)
		return NULL;
	struct guard_snapshot *snap = calloc(1, sizeof *snap);
	if (!snap) {
		snprintf(err, errlen, "out of memory");
		guard_conf_free(conf);
		return NULL;
	}
	snap->refs = 1;
	snap->conf = conf;
	snap->limits = (struct proxy_limits){
		.http = { .request_line_max = conf->limits.request_line,
			  .header_bytes_max = conf->limits.header_bytes,
			  .header_count_max = conf->limits.header_count },
		.body_max = conf->limits.body_bytes,
		.handshake_ms = conf->timeouts.handshake_ms,
		.header_ms = conf->timeouts.header_ms,
		.idle_ms = conf->timeouts.idle_ms,
		.body_ms = conf->timeouts.body_ms,
		.response_ms = conf->backend.response_timeout_ms,
	};
	const struct conf_addr *b = &conf->backend.addr;
	char rerr[256] = "";
	if (b->is_unix ? net_unix_addr(b->path, &snap->backend_addr, &snap->backend_len) < 0
		       : net_resolve(b->host, b->port, &snap->backend_addr, &snap->backend_len, rerr, sizeof rerr) < 0) {
		snprintf(err, errlen, "%s:%d: guard.backend.address: %s", path, b->line,
			 rerr[0] ? rerr : "unix socket path too long");
		guard_snapshot_unref(snap);
		return NULL;
	}
	char tls_err[512] = "";
	snap->tls = guard_tls_build(conf, tls_err, sizeof tls_err);
	if (!snap->tls) {
		snprintf(err, errlen, "%s: %s", path, tls_err);
		guard_snapshot_unref(snap);
		return NULL;
	}
	int level = log_level_parse(conf->log_level ? conf->log_level : "info");
	if (level >= 0)
		log_set_level((enum log_level)level);
	return snap;
}

void guard_snapshot_ref(struct guard_snapshot *snap)
{
	__atomic_fetch_add(&snap->refs, 1, __ATOMIC_RELAXED);
}

void guard_snapshot_unref(struct guard_snapshot *snap)
{
	if (!snap || __atomic_sub_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	guard_tls_unref(snap->tls);
	guard_conf_free(snap->conf);
	free(snap);
}
