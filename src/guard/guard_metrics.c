/* guard_metrics: what the guard's admin listener reports at /metrics. */
#include <stdlib.h>

#include "guard/guard.h"
#include "proxy/proxy_metrics.h"
#include "tls/cert_inventory.h"

/* Expiry of everything the current TLS set uses. */
static void cert_metrics(struct guard_server *srv, struct metrics_text *m)
{
	struct guard_snapshot *snap = __atomic_load_n(&srv->current, __ATOMIC_ACQUIRE);
	struct cert_info_list list = { 0 };
	if (snap)
		guard_tls_inventory(snap->tls, cert_info_list_add, &list);
	cert_inventory_metrics(m, "guard", &list);
	cert_info_list_free(&list);
	unsigned long long hits = 0, lookups = 0;
	if (snap)
		guard_tls_verify_counts(snap->tls, &hits, &lookups);
	metrics_family(m, "pullgate_guard_verified_chain_lookups_total", "counter",
		       "Client chains looked up among those verified before, since the last reload.");
	metrics_sample(m, "pullgate_guard_verified_chain_lookups_total", (double)lookups, NULL);
	metrics_family(m, "pullgate_guard_verified_chain_hits_total", "counter",
		       "Client chains found verified before (chain building and the CA signature "
		       "skipped), since the last reload.");
	metrics_sample(m, "pullgate_guard_verified_chain_hits_total", (double)hits, NULL);
}

void guard_metrics_write(void *arg, struct metrics_text *m)
{
	struct guard_server *srv = arg;
	size_t n = (size_t)srv->worker_count;
	struct proxy_stats **stats = calloc(n ? n : 1, sizeof *stats);
	struct upstream_pool **pools = calloc(n ? n : 1, sizeof *pools);
	if (!stats || !pools) {
		m->failed = 1;
		free(stats);
		free(pools);
		return;
	}
	/* Pools of the current generations; a worker switches generation on
	 * its own thread, so its pointer is read once, atomically. */
	for (size_t i = 0; i < n; i++) {
		stats[i] = &srv->workers[i].stats;
		pools[i] = &__atomic_load_n(&srv->workers[i].current, __ATOMIC_ACQUIRE)->pool;
	}
	proxy_metrics_sessions(m, "guard", stats, n);
	metrics_family(m, "pullgate_tls_refused_total", "counter",
		       "Client handshakes the guard refused, by reason.");
	for (int c = 0; c < GUARD_REFUSAL_CLASSES; c++) {
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v += METRIC_GET(srv->workers[i].refused[c]);
		metrics_sample(m, "pullgate_tls_refused_total", (double)v, "role=\"guard\",reason=\"%s\"",
			       guard_refusal_classes[c]);
	}
	metrics_family(m, "pullgate_guard_handshakes_total", "counter",
		       "Client handshakes the guard completed, by the code that did them: pullgate's "
		       "own TLS 1.3 handshake, or OpenSSL's (TLS 1.2, resumptions, other hellos).");
	static const char *const engines[2] = { "openssl", "pullgate" };
	for (int e = 0; e < 2; e++) {
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v += METRIC_GET(srv->workers[i].established[e]);
		metrics_sample(m, "pullgate_guard_handshakes_total", (double)v, "engine=\"%s\"",
			       engines[e]);
	}
	proxy_metrics_pools(m, "guard", pools, n, 1);
	proxy_metrics_reloads(m, "guard", srv->reloads_ok, srv->reloads_failed);
	cert_metrics(srv, m);
	free(stats);
	free(pools);
}
