/* edge_metrics: what the edge's admin listener reports at /metrics, and the
 * periodic warning about origin-pull certificates close to expiry. */
#include <stdlib.h>

#include "core/log.h"
#include "edge/edge.h"
#include "proxy/proxy_metrics.h"

#define EXPIRY_WARN_DAYS 30
#define EXPIRY_URGENT_DAYS 14

static int expiry_level(int days)
{
	return days <= EXPIRY_URGENT_DAYS ? 2 : days <= EXPIRY_WARN_DAYS ? 1 : 0;
}

static void cert_days_sample(void *arg, const char *file, int days)
{
	struct metrics_text *m = arg;
	char f[512];
	metrics_label_escape(file, f, sizeof f);
	metrics_sample(m, "pullgate_origin_pull_certificate_days_left", days, "file=\"%s\"", f);
}

static void cert_expiring_sample(void *arg, const char *file, int days)
{
	struct metrics_text *m = arg;
	char f[512];
	metrics_label_escape(file, f, sizeof f);
	metrics_sample(m, "pullgate_origin_pull_certificate_expiring", expiry_level(days), "file=\"%s\"", f);
}

void edge_metrics_write(void *arg, struct metrics_text *m)
{
	struct edge_server *srv = arg;
	size_t n = (size_t)srv->worker_count, np = srv->spec_count;
	struct proxy_worker **pws = calloc(2 * n + 1, sizeof *pws);
	struct upstream_pool **pools = calloc(n * np + 1, sizeof *pools);
	if (!pws || !pools) {
		m->failed = 1;
		free(pws);
		free(pools);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		pws[2 * i] = &srv->workers[i].pw;
		pws[2 * i + 1] = &srv->workers[i].pw_plain;
		for (size_t p = 0; p < np; p++)
			pools[i * np + p] = &srv->workers[i].pools[p];
	}
	proxy_metrics_sessions(m, "edge", pws, 2 * n);
	proxy_metrics_pools(m, "edge", pools, n, np);
	proxy_metrics_reloads(m, "edge", srv->reloads_ok, srv->reloads_failed);
	metrics_family(m, "pullgate_origin_pull_certificate_days_left", "gauge",
		       "Whole days until an origin-pull client certificate expires.");
	edge_tls_each_client_cert(srv->tls, cert_days_sample, m);
	metrics_family(m, "pullgate_origin_pull_certificate_expiring", "gauge",
		       "1 when an origin-pull certificate expires within 30 days, 2 within 14.");
	edge_tls_each_client_cert(srv->tls, cert_expiring_sample, m);
	free(pws);
	free(pools);
}

static void warn_expiry(void *arg, const char *file, int days)
{
	int level = expiry_level(days);
	if (level == 2)
		log_warn("URGENT: origin-pull certificate %s %s %d day%s", file, days < 0 ? "expired" : "expires in",
			 days < 0 ? -days : days, days == 1 || days == -1 ? "" : "s");
	else if (level == 1)
		log_warn("origin-pull certificate %s expires in %d days", file, days);
}

void edge_check_expiry(struct edge_server *srv)
{
	edge_tls_each_client_cert(srv->tls, warn_expiry, NULL);
}
