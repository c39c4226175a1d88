/* guard_metrics: what the guard's admin listener reports at /metrics. */
#include <stdlib.h>

#include "guard/guard.h"
#include "proxy/proxy_metrics.h"

void guard_metrics_write(void *arg, struct metrics_text *m)
{
	struct guard_server *srv = arg;
	size_t n = (size_t)srv->worker_count;
	struct proxy_worker **pws = calloc(n ? n : 1, sizeof *pws);
	struct upstream_pool **pools = calloc(n ? n : 1, sizeof *pools);
	if (!pws || !pools) {
		m->failed = 1;
		free(pws);
		free(pools);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		pws[i] = &srv->workers[i].pw;
		pools[i] = &srv->workers[i].pool;
	}
	proxy_metrics_sessions(m, "guard", pws, n);
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
	free(pws);
	free(pools);
}
