/* proxy_metrics: the metrics both roles share — sessions and upstream pools —
 * summed over workers at scrape time. */
#ifndef PULLGATE_PROXY_PROXY_METRICS_H
#define PULLGATE_PROXY_PROXY_METRICS_H

#include "core/metrics.h"
#include "proxy/session.h"
#include "proxy/upstream.h"

/* stats: one per worker. */
void proxy_metrics_sessions(struct metrics_text *m, const char *role, struct proxy_stats *const *stats,
			    size_t n);
/* pools[w * pool_count + p]: pool p of worker w; pools with the same p are
 * summed under pool p's name. */
void proxy_metrics_pools(struct metrics_text *m, const char *role, struct upstream_pool *const *pools,
			 size_t worker_count, size_t pool_count);
/* Reloads by result, counted by the control thread. */
void proxy_metrics_reloads(struct metrics_text *m, const char *role, uint64_t ok, uint64_t failed);

#endif
