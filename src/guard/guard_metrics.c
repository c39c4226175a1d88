/* guard_metrics: what the guard's admin listener reports at /metrics. */
#include <stdlib.h>

#include "guard/guard.h"
#include "proxy/proxy_metrics.h"

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
	proxy_metrics_pools(m, "guard", pools, n, 1);
	proxy_metrics_reloads(m, "guard", srv->reloads_ok, srv->reloads_failed);
	free(stats);
	free(pools);
}
