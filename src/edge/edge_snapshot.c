/* edge_snapshot: one loaded configuration and everything built from it —
 * the TLS set, the routes and the pool specs; see edge.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "edge/edge.h"

struct edge_snapshot *edge_snapshot_load(const char *path, struct conf_errors *errs, char *err, size_t errlen)
{
	struct edge_conf *conf = edge_conf_load(path, errs);
	if (!conf)
		return NULL;
	struct edge_snapshot *snap = calloc(1, sizeof *snap);
	if (!snap) {
		snprintf(err, errlen, "out of memory");
		edge_conf_free(conf);
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
		.response_ms = conf->timeouts.origin_response_ms,
		.wait_ms = conf->cache.collapse_wait_ms,
	};
	if (edge_routes_build(snap, err, errlen) < 0) {
		edge_snapshot_unref(snap);
		return NULL;
	}
	char tls_err[512] = "";
	snap->tls = edge_tls_build(conf, tls_err, sizeof tls_err);
	if (!snap->tls) {
		snprintf(err, errlen, "%s: %s", path, tls_err);
		edge_snapshot_unref(snap);
		return NULL;
	}
	int level = log_level_parse(conf->log_level ? conf->log_level : "info");
	if (level >= 0)
		log_set_level((enum log_level)level);
	return snap;
}

void edge_snapshot_ref(struct edge_snapshot *snap)
{
	__atomic_fetch_add(&snap->refs, 1, __ATOMIC_RELAXED);
}

void edge_snapshot_unref(struct edge_snapshot *snap)
{
	if (!snap || __atomic_sub_fetch(&snap->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	edge_tls_unref(snap->tls);
	free(snap->zone_ids);
	edge_routes_free(snap);
	edge_conf_free(snap->conf);
	free(snap);
}

bool edge_zone_slots_assign(struct edge_server *srv, struct edge_snapshot *snap)
{
	const struct edge_conf *conf = snap->conf;
	snap->zone_ids = calloc(conf->zone_count ? conf->zone_count : 1, sizeof *snap->zone_ids);
	if (!snap->zone_ids)
		return false;
	for (size_t z = 0; z < conf->zone_count; z++) {
		size_t slot = 0;
		while (slot < srv->zone_name_count && strcmp(srv->zone_names[slot], conf->zones[z].name) != 0)
			slot++;
		if (slot == srv->zone_name_count) {
			if (slot == EDGE_ZONE_STATS_MAX - 1 || !(srv->zone_names[slot] = strdup(conf->zones[z].name)))
				slot = EDGE_ZONE_STATS_MAX - 1; /* "other" */
			else
				srv->zone_name_count++;
		}
		snap->zone_ids[z] = (uint16_t)slot;
	}
	return true;
}
