/* proxy_metrics: see proxy_metrics.h. */
#include "proxy/proxy_metrics.h"

static const char *const status_classes[6] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };

void proxy_metrics_sessions(struct metrics_text *m, const char *role, struct proxy_stats *const *stats,
			    size_t n)
{
	uint64_t responses[6] = { 0 }, ok = 0, failed = 0, conns = 0, active = 0, idle = 0;
	for (size_t i = 0; i < n; i++) {
		const struct proxy_stats *st = stats[i];
		for (int c = 0; c < 6; c++)
			responses[c] += METRIC_GET(st->responses[c]);
		ok += METRIC_GET(st->handshakes_ok);
		failed += METRIC_GET(st->handshakes_failed);
		conns += METRIC_GET(st->connections);
		active += METRIC_GET(st->active);
		idle += METRIC_GET(st->idle);
	}
	metrics_family(m, "pullgate_responses_total", "counter", "Responses sent to clients, by status class.");
	for (int c = 1; c < 6; c++)
		metrics_sample(m, "pullgate_responses_total", (double)responses[c], "role=\"%s\",class=\"%s\"",
			       role, status_classes[c]);
	metrics_family(m, "pullgate_connections_total", "counter", "Client connections accepted.");
	metrics_sample(m, "pullgate_connections_total", (double)conns, "role=\"%s\"", role);
	metrics_family(m, "pullgate_connections_active", "gauge", "Client connections open now.");
	metrics_sample(m, "pullgate_connections_active", (double)active, "role=\"%s\"", role);
	metrics_family(m, "pullgate_connections_idle", "gauge", "Client connections open and waiting for a request.");
	metrics_sample(m, "pullgate_connections_idle", (double)idle, "role=\"%s\"", role);
	metrics_family(m, "pullgate_tls_handshakes_total", "counter", "Client TLS handshakes, by result.");
	metrics_sample(m, "pullgate_tls_handshakes_total", (double)ok, "role=\"%s\",result=\"ok\"", role);
	metrics_sample(m, "pullgate_tls_handshakes_total", (double)failed, "role=\"%s\",result=\"failed\"", role);
}

void proxy_metrics_pools(struct metrics_text *m, const char *role, struct upstream_pool *const *pools,
			 size_t worker_count, size_t pool_count)
{
	static const struct {
		const char *name, *type, *help;
	} families[] = {
		{ "pullgate_upstream_connections_opened_total", "counter", "Upstream connections opened." },
		{ "pullgate_upstream_connections_reused_total", "counter", "Requests sent on a pooled connection." },
		{ "pullgate_upstream_tls_resumed_total", "counter", "Upstream TLS handshakes that resumed a session." },
		{ "pullgate_upstream_idle_connections", "gauge", "Idle pooled upstream connections." },
	};
	for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
		metrics_family(m, families[f].name, families[f].type, families[f].help);
		for (size_t p = 0; p < pool_count; p++) {
			double v = 0;
			for (size_t w = 0; w < worker_count; w++) {
				struct upstream_pool *pool = pools[w * pool_count + p];
				v += f == 0   ? (double)METRIC_GET(pool->opened)
				     : f == 1 ? (double)METRIC_GET(pool->reused)
				     : f == 2 ? (double)METRIC_GET(pool->resumed)
						: (double)METRIC_GET(pool->idle_count);
			}
			char name[256];
			metrics_sample(m, families[f].name, v, "role=\"%s\",pool=\"%s\"", role,
				       metrics_label_escape(pools[p]->name, name, sizeof name));
		}
	}
	metrics_family(m, "pullgate_upstream_errors_total", "counter", "Failed pulls, by reason.");
	for (size_t p = 0; p < pool_count; p++) {
		char name[256];
		metrics_label_escape(pools[p]->name, name, sizeof name);
		for (int e = 0; e < UPSTREAM_ERR_COUNT; e++) {
			uint64_t v = 0;
			for (size_t w = 0; w < worker_count; w++)
				v += METRIC_GET(pools[w * pool_count + p]->errors[e]);
			metrics_sample(m, "pullgate_upstream_errors_total", (double)v,
				       "role=\"%s\",pool=\"%s\",reason=\"%s\"", role, name,
				       upstream_error_name((enum upstream_error)e));
		}
	}
}

void proxy_metrics_reloads(struct metrics_text *m, const char *role, uint64_t ok, uint64_t failed)
{
	metrics_family(m, "pullgate_reloads_total", "counter", "Certificate and configuration reloads, by result.");
	metrics_sample(m, "pullgate_reloads_total", (double)ok, "role=\"%s\",result=\"ok\"", role);
	metrics_sample(m, "pullgate_reloads_total", (double)failed, "role=\"%s\",result=\"failed\"", role);
}
