/* edge_metrics: what the edge's admin listener reports at /metrics, and the
 * periodic warning about certificates close to expiry. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "edge/edge.h"
#include "proxy/proxy_metrics.h"
#include "tls/cert_inventory.h"

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
	size_t n = (size_t)srv->worker_count, np = __atomic_load_n(&srv->current, __ATOMIC_ACQUIRE)->spec_count;
	struct edge_snapshot *snap = __atomic_load_n(&srv->current, __ATOMIC_ACQUIRE);
	struct proxy_stats **stats = calloc(n + 1, sizeof *stats);
	struct upstream_pool **pools = calloc(n * np + 1, sizeof *pools);
	if (!stats || !pools) {
		m->failed = 1;
		free(stats);
		free(pools);
		return;
	}
	/* A worker switches generation on its own thread; until it has, its
	 * pools belong to the snapshot before: show only what matches. */
	size_t nw = 0;
	for (size_t i = 0; i < n; i++) {
		stats[i] = &srv->workers[i].stats;
		struct edge_gen *gen = __atomic_load_n(&srv->workers[i].current, __ATOMIC_ACQUIRE);
		if (gen && gen->snap == snap) {
			for (size_t p = 0; p < np; p++)
				pools[nw * np + p] = &gen->pools[p];
			nw++;
		}
	}
	proxy_metrics_sessions(m, "edge", stats, n);
	metrics_family(m, "pullgate_tls_refused_total", "counter", "Visitor handshakes the edge refused, by reason.");
	for (int c = 0; c < EDGE_REFUSAL_CLASSES; c++) {
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v += METRIC_GET(srv->workers[i].refused[c]);
		metrics_sample(m, "pullgate_tls_refused_total", (double)v, "role=\"edge\",reason=\"%s\"",
			       edge_refusal_classes[c]);
	}
	proxy_metrics_pools(m, "edge", pools, nw, np);
	static const char *const classes[6] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
	metrics_family(m, "pullgate_zone_responses_total", "counter", "Responses to visitors, by zone and status class.");
	for (size_t z = 0; z <= srv->zone_name_count && z < EDGE_ZONE_STATS_MAX; z++) {
		bool other = z == srv->zone_name_count;
		if (other)
			z = EDGE_ZONE_STATS_MAX - 1;
		char zone[300];
		metrics_label_escape(other ? "other" : srv->zone_names[z], zone, sizeof zone);
		for (int c = 1; c < 6; c++) {
			uint64_t v = 0;
			for (size_t i = 0; i < n; i++)
				if (srv->workers[i].zone_responses)
					v += METRIC_GET(srv->workers[i].zone_responses[z][c]);
			if (!other || v)
				metrics_sample(m, "pullgate_zone_responses_total", (double)v, "zone=\"%s\",class=\"%s\"",
					       zone, classes[c]);
		}
	}
	proxy_metrics_reloads(m, "edge", srv->reloads_ok, srv->reloads_failed);
	if (srv->cache.store) {
		static const struct {
			const char *name, *help;
			size_t off;
		} counters[] = {
			{ "pullgate_cache_hits_total", "Requests answered from the cache.", offsetof(struct edge_cache_stats, hits) },
			{ "pullgate_cache_misses_total", "Cacheable requests that went to the origin.", offsetof(struct edge_cache_stats, misses) },
			{ "pullgate_cache_stale_served_total", "Stale responses served (stale-while-revalidate, stale-if-error).", offsetof(struct edge_cache_stats, stale_served) },
			{ "pullgate_cache_revalidated_total", "Stored responses a 304 kept.", offsetof(struct edge_cache_stats, revalidated) },
			{ "pullgate_cache_stored_total", "Responses stored.", offsetof(struct edge_cache_stats, stored) },
			{ "pullgate_cache_collapsed_total", "Misses that waited for another pull of the same key.", offsetof(struct edge_cache_stats, collapsed) },
			{ "pullgate_cache_served_bytes_total", "Body bytes served from the cache.", offsetof(struct edge_cache_stats, bytes_served) },
		};
		for (size_t c = 0; c < sizeof counters / sizeof counters[0]; c++) {
			uint64_t v = 0;
			for (size_t i = 0; i < n; i++)
				v += METRIC_GET(*(uint64_t *)((char *)&srv->workers[i].cstats + counters[c].off));
			metrics_family(m, counters[c].name, "counter", counters[c].help);
			metrics_sample(m, counters[c].name, (double)v, NULL);
		}
		struct cache_store_stats st;
		cache_store_stats(srv->cache.store, &st);
		metrics_family(m, "pullgate_cache_objects", "gauge", "Objects in the cache.");
		metrics_sample(m, "pullgate_cache_objects", (double)st.objects, NULL);
		metrics_family(m, "pullgate_cache_bytes", "gauge", "Bytes the cache holds, of pullgate_cache_max_bytes.");
		metrics_sample(m, "pullgate_cache_bytes", (double)st.bytes, NULL);
		metrics_family(m, "pullgate_cache_max_bytes", "gauge", "The cache's size.");
		metrics_sample(m, "pullgate_cache_max_bytes", (double)st.max_bytes, NULL);
		metrics_family(m, "pullgate_cache_evictions_total", "counter", "Objects evicted to stay within the size.");
		metrics_sample(m, "pullgate_cache_evictions_total", (double)st.evictions, NULL);
		metrics_family(m, "pullgate_cache_purged_total", "counter", "Objects removed by purges and invalidation.");
		metrics_sample(m, "pullgate_cache_purged_total", (double)st.purged, NULL);
	}
	metrics_family(m, "pullgate_origin_pull_certificate_days_left", "gauge",
		       "Whole days until an origin-pull client certificate expires.");
	edge_tls_each_client_cert(snap->tls, cert_days_sample, m);
	metrics_family(m, "pullgate_origin_pull_certificate_expiring", "gauge",
		       "1 when an origin-pull certificate expires within 30 days, 2 within 14.");
	edge_tls_each_client_cert(snap->tls, cert_expiring_sample, m);
	struct cert_info_list certs = { 0 };
	edge_tls_inventory(snap->tls, cert_info_list_add, &certs);
	cert_inventory_metrics(m, "edge", &certs);
	cert_info_list_free(&certs);
	free(stats);
	free(pools);
}

static void warn_expiry(void *arg, const struct cert_info *ci)
{
	cert_inventory_warn("edge", ci);
}

/* Every certificate the current set uses: visitor, origin-pull and the
 * strict-mode CA bundles. */
void edge_check_expiry(struct edge_server *srv)
{
	struct edge_snapshot *snap = __atomic_load_n(&srv->current, __ATOMIC_ACQUIRE);
	if (snap)
		edge_tls_inventory(snap->tls, warn_expiry, NULL);
}

long edge_admin_purge(void *arg, const char *param, const char *value)
{
	struct edge_server *srv = arg;
	size_t n;
	if (strcmp(param, "url") == 0 && value[0])
		n = edge_cache_purge_url(&srv->cache, value);
	else if (strcmp(param, "host") == 0 && value[0])
		n = edge_cache_purge_host(&srv->cache, value);
	else if (strcmp(param, "all") == 0)
		n = edge_cache_purge_all(&srv->cache);
	else
		return -1;
	log_info("purge %s%s%s: %zu object%s", param, value[0] ? " " : "", value, n, n == 1 ? "" : "s");
	return (long)n;
}
