/*
 * edge_server: the edge's workers under the daemon, and its reload. Each
 * worker accepts visitors on its own SO_REUSEPORT sockets (TLS and plain).
 * A reload builds a whole new snapshot — configuration, TLS set, routes —
 * or reports why it cannot and keeps the running one; each worker then starts
 * a new generation (with fresh origin pools, so the next pull uses the new
 * certificates) while connections finish on the one they started in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/daemon.h"
#include "core/log.h"
#include "core/net.h"
#include "edge/edge.h"

#define LISTEN_BACKLOG 1024
static struct edge_worker *edge_worker_of(struct worker *w)
{
	return w->data;
}

static unsigned gen_sessions(const struct edge_gen *gen)
{
	return gen->pw.active + gen->pw_plain.active;
}

static unsigned worker_sessions(const struct edge_worker *ew)
{
	unsigned n = ew->current ? gen_sessions(ew->current) : 0;
	for (const struct edge_gen *g = ew->retired; g; g = g->next)
		n += gen_sessions(g);
	return n;
}

static void worker_maybe_exit(struct edge_worker *ew)
{
	if (ew->stopping && worker_sessions(ew) == 0)
		loop_stop(ew->worker.loop);
}

static void gen_free(struct edge_gen *gen)
{
	for (size_t i = 0; gen->pools && i < gen->snap->spec_count; i++)
		upstream_pool_reset(&gen->pools[i]);
	free(gen->pools);
	free(gen->pool_args);
	edge_snapshot_unref(gen->snap);
	free(gen);
}

static void gen_free_task(struct task *t)
{
	gen_free(t->data);
}

static void gen_on_idle(struct proxy_worker *pw)
{
	struct edge_gen *gen = pw->data;
	struct edge_worker *ew = gen->ew;
	if (pw->retired && gen_sessions(gen) == 0) {
		bool listed = false;
		for (struct edge_gen **pp = &ew->retired; *pp; pp = &(*pp)->next) {
			if (*pp == gen) {
				*pp = gen->next;
				listed = true;
				break;
			}
		}
		/* Its last session is still closing: free after this round. */
		if (listed)
			task_defer(ew->worker.loop, &gen->free_task);
	}
	worker_maybe_exit(ew);
}

static struct edge_gen *gen_new(struct edge_worker *ew, struct edge_snapshot *snap)
{
	struct edge_gen *gen = calloc(1, sizeof *gen);
	size_t n = snap->spec_count ? snap->spec_count : 1;
	if (!gen)
		return NULL;
	gen->pools = calloc(n, sizeof *gen->pools);
	gen->pool_args = calloc(n, sizeof *gen->pool_args);
	if (!gen->pools || !gen->pool_args) {
		free(gen->pools);
		free(gen->pool_args);
		free(gen);
		return NULL;
	}
	const struct edge_conf *conf = snap->conf;
	gen->ew = ew;
	edge_snapshot_ref(snap);
	gen->snap = snap;
	task_init(&gen->free_task, gen_free_task, gen);
	for (size_t i = 0; i < snap->spec_count; i++) {
		const struct edge_pool_spec *spec = &snap->specs[i];
		struct upstream_pool *pool = &gen->pools[i];
		upstream_pool_init(pool, ew->worker.loop, &spec->addr, spec->addr_len, spec->name);
		pool->connect_timeout_ms = conf->timeouts.origin_connect_ms;
		pool->idle_timeout_ms = conf->pool.idle_timeout_ms;
		pool->max_idle = conf->pool.size;
		if (spec->rec->ssl == SSL_MODE_FULL || spec->rec->ssl == SSL_MODE_STRICT) {
			gen->pool_args[i] = (struct edge_pool_arg){ gen, spec->rec };
			pool->tls = &edge_origin_tls_ops;
			pool->tls_arg = &gen->pool_args[i];
		}
	}
	struct proxy_worker base = {
		.loop = ew->worker.loop,
		.role = &edge_role,
		.limits = &snap->limits,
		.via = "1.1 pullgate",
		.on_idle = gen_on_idle,
		.data = gen,
		.stats = &ew->stats,
		.draining = ew->stopping,
		.access_log = ew->srv->svc.access_log,
		.role_name = "edge",
	};
	gen->pw = base;
	gen->pw.forwarded_proto = "https";
	gen->pw_plain = base;
	gen->pw_plain.forwarded_proto = "http";
	return gen;
}

static void gen_retire(struct edge_worker *ew, struct edge_gen *old)
{
	old->pw.retired = old->pw_plain.retired = true;
	for (size_t i = 0; i < old->snap->spec_count; i++)
		upstream_pool_drain(&old->pools[i]);
	if (gen_sessions(old) == 0) {
		gen_free(old);
		return;
	}
	old->next = ew->retired;
	ew->retired = old;
}

static void worker_apply_snapshot(struct worker *w, void *arg)
{
	struct edge_worker *ew = edge_worker_of(w);
	struct edge_snapshot *snap = arg;
	struct edge_gen *gen = gen_new(ew, snap);
	edge_snapshot_unref(snap); /* the posted reference */
	if (!gen) {
		log_error("worker %d: out of memory applying a reload; it keeps the previous configuration",
			  w->id);
		return;
	}
	struct edge_gen *old = ew->current;
	ew->current = gen;
	if (old)
		gen_retire(ew, old);
}

/* What only a restart changes: the sockets, the threads and the cache. */
static bool needs_restart(const struct edge_conf *a, const struct edge_conf *b)
{
	if (a->listen_count != b->listen_count || a->plain_count != b->plain_count || a->workers != b->workers ||
	    a->has_admin != b->has_admin || (a->has_admin && strcmp(a->admin.text, b->admin.text) != 0) ||
	    a->cache.size != b->cache.size || a->access_log.enabled != b->access_log.enabled ||
	    (a->access_log.enabled && (strcmp(a->access_log.path, b->access_log.path) != 0 ||
				       a->access_log.json != b->access_log.json)))
		return true;
	for (size_t i = 0; i < a->listen_count; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return true;
	for (size_t i = 0; i < a->plain_count; i++)
		if (strcmp(a->plain[i].text, b->plain[i].text) != 0)
			return true;
	return false;
}

static size_t edge_watched_files(const struct edge_conf *conf, const char **out, size_t cap);

/* Reloads now; the reasons of a refusal are logged and, when msg is given,
 * written there too (for `pullgate reload`). */
static int edge_reload_into(struct daemon *d, const char *why, char *msg, size_t cap)
{
	struct edge_server *srv = d->data;
	struct conf_errors errs = { 0 };
	char err[512] = "";
	struct edge_snapshot *snap = edge_snapshot_load(srv->path, &errs, err, sizeof err);
	if (!snap) {
		srv->reloads_failed++;
		return role_reload_refused(why, &errs, err, msg, cap);
	}
	conf_errors_free(&errs);
	if (!edge_zone_slots_assign(srv, snap)) {
		edge_snapshot_unref(snap);
		srv->reloads_failed++;
		return role_reload_refused(why, &errs, "out of memory", msg, cap);
	}
	if (needs_restart(srv->boot->conf, snap->conf))
		log_warn("reload (%s): listen, plain_listen, admin, access_log, workers and cache.size changes take a restart "
			 "(start a new process beside this one: the sockets are shared); the rest applies", why);
	srv->reloads_ok++;
	for (int i = 0; i < srv->worker_count; i++) {
		edge_snapshot_ref(snap);
		if (worker_post(&srv->workers[i].worker, worker_apply_snapshot, snap) < 0)
			edge_snapshot_unref(snap);
	}
	/* The control thread reads the current snapshot (metrics) itself. */
	struct edge_snapshot *old = srv->current;
	__atomic_store_n(&srv->current, snap, __ATOMIC_RELEASE);
	edge_snapshot_unref(old);
	size_t nfiles = 8;
	for (size_t z = 0; z < snap->conf->zone_count; z++)
		nfiles += 5 + 4 * snap->conf->zones[z].record_count;
	const char **files = calloc(nfiles, sizeof *files);
	if (files) {
		daemon_watch_files(d, files, edge_watched_files(snap->conf, files, nfiles));
		free(files);
	}
	log_info("reloaded %s (%s)", srv->path, why);
	return 0;
}

static void edge_reload(struct daemon *d, const char *why)
{
	edge_reload_into(d, why, NULL, 0);
}

static int edge_admin_reload(void *arg, char *msg, size_t cap)
{
	struct edge_server *srv = arg;
	return edge_reload_into(srv->daemon, "pullgate reload", msg, cap);
}

static void edge_accept(struct listener *l, int fd, const struct sockaddr_storage *peer, bool tls)
{
	struct edge_worker *ew = l->data;
	struct edge_gen *gen = ew->current;
	struct edge_conn *ec = calloc(1, sizeof *ec);
	struct transport t;
	if (!ec) {
		close(fd);
		return;
	}
	if (tls) {
		SSL *ssl = SSL_new(edge_tls_visitor_ctx(gen->snap->tls));
		if (!ssl) {
			free(ec);
			close(fd);
			return;
		}
		edge_tls_ref(gen->snap->tls);
		ec->tls = gen->snap->tls;
		ec->tls_visitor = true;
		transport_init_tls(&t, fd, ssl, true);
	} else {
		transport_init_plain(&t, fd);
	}
	struct proxy_session *s = proxy_session_start(tls ? &gen->pw : &gen->pw_plain, &t, peer);
	if (!s) {
		if (ec->tls)
			edge_tls_unref(ec->tls);
		free(ec);
		return;
	}
	s->role_data = ec;
}

static void edge_tls_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	edge_accept(l, fd, peer, true);
}

static void edge_plain_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	edge_accept(l, fd, peer, false);
}

static void edge_stop_listeners(struct edge_worker *ew, bool drain)
{
	void (*stop)(struct listener *l) = drain ? listener_drain_and_stop : listener_stop;
	const struct edge_conf *conf = ew->srv->boot->conf;
	for (size_t i = 0; ew->tls_listeners && i < conf->listen_count; i++)
		stop(&ew->tls_listeners[i]);
	for (size_t i = 0; ew->plain_listeners && i < conf->plain_count; i++)
		stop(&ew->plain_listeners[i]);
}

static void drain_sessions(struct proxy_worker *pw, bool force)
{
	pw->draining = true;
	struct proxy_session *s = pw->sessions;
	while (s) {
		struct proxy_session *next = s->next;
		if (force)
			proxy_session_close(s, "grace period over");
		else
			proxy_session_drain(s);
		s = next;
	}
}

/* Drains (or closes) every generation of the worker. */
static void drain_all(struct edge_worker *ew, bool force)
{
	edge_cache_refresh_abort_all(ew);
	struct edge_gen *gens[2] = { ew->current, NULL };
	for (int k = 0; k < 2; k++) {
		struct edge_gen *g = k == 0 ? gens[0] : ew->retired;
		while (g) {
			struct edge_gen *next = k == 0 ? NULL : g->next; /* g may be freed */
			for (size_t i = 0; i < g->snap->spec_count; i++)
				upstream_pool_drain(&g->pools[i]);
			drain_sessions(&g->pw, force);
			drain_sessions(&g->pw_plain, force);
			g = next;
		}
	}
}

static void edge_drain_worker(struct worker *w)
{
	struct edge_worker *ew = edge_worker_of(w);
	ew->stopping = true;
	edge_stop_listeners(ew, true);
	drain_all(ew, false);
	worker_maybe_exit(ew);
}

static void edge_force_stop_worker(struct worker *w)
{
	struct edge_worker *ew = edge_worker_of(w);
	ew->stopping = true;
	edge_stop_listeners(ew, false);
	drain_all(ew, true);
	loop_stop(w->loop);
}

static int edge_listen(struct edge_worker *ew, const struct conf_addr *a, struct listener *l, bool tls,
		       char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (net_resolve(a->host, a->port, &ss, &len, err, errlen) < 0)
		return -1;
	int fd = net_listen(&ss, len, LISTEN_BACKLOG, err, errlen);
	if (fd < 0)
		return -1;
	if (listener_start(l, ew->worker.loop, fd, tls ? edge_tls_accept : edge_plain_accept, ew) < 0) {
		snprintf(err, errlen, "%s: cannot watch the listener", a->text);
		close(fd);
		return -1;
	}
	return 0;
}

static void edge_teardown_worker(struct daemon *d, struct worker *w)
{
	struct edge_worker *ew = edge_worker_of(w);
	edge_stop_listeners(ew, false);
	free(ew->tls_listeners);
	free(ew->plain_listeners);
	ew->tls_listeners = ew->plain_listeners = NULL;
	if (ew->worker.loop) {
		ew->stopping = false; /* no loop_stop from here on */
		drain_all(ew, true);
		loop_run_pending(ew->worker.loop); /* frees queued by the closes */
		while (ew->retired) {
			struct edge_gen *g = ew->retired;
			ew->retired = g->next;
			gen_free(g);
		}
		if (ew->current)
			gen_free(ew->current);
		ew->current = NULL;
		loop_run_pending(ew->worker.loop);
	}
	worker_destroy(&ew->worker);
	free(ew->zone_responses);
	ew->zone_responses = NULL;
}

static struct worker *edge_setup_worker(struct daemon *d, int index, char *err, size_t errlen)
{
	struct edge_server *srv = d->data;
	const struct edge_conf *conf = srv->boot->conf;
	struct edge_worker *ew = &srv->workers[index];
	ew->srv = srv;
	if (worker_init(&ew->worker, index) < 0) {
		snprintf(err, errlen, "cannot create worker %d: %s", index, strerror(errno));
		worker_destroy(&ew->worker);
		return NULL;
	}
	ew->worker.data = ew;
	ew->current = gen_new(ew, srv->current);
	ew->zone_responses = calloc(EDGE_ZONE_STATS_MAX, sizeof *ew->zone_responses);
	ew->tls_listeners = calloc(conf->listen_count ? conf->listen_count : 1, sizeof *ew->tls_listeners);
	ew->plain_listeners = calloc(conf->plain_count ? conf->plain_count : 1, sizeof *ew->plain_listeners);
	if (!ew->current || !ew->zone_responses || !ew->tls_listeners || !ew->plain_listeners) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < conf->listen_count; i++)
		ew->tls_listeners[i].fd = -1;
	for (size_t i = 0; i < conf->plain_count; i++)
		ew->plain_listeners[i].fd = -1;
	for (size_t i = 0; i < conf->listen_count; i++)
		if (edge_listen(ew, &conf->listen[i], &ew->tls_listeners[i], true, err, errlen) < 0)
			goto fail;
	for (size_t i = 0; i < conf->plain_count; i++)
		if (edge_listen(ew, &conf->plain[i], &ew->plain_listeners[i], false, err, errlen) < 0)
			goto fail;
	return &ew->worker;
fail:
	edge_teardown_worker(d, &ew->worker);
	return NULL;
}

static void edge_expiry_tick(void *arg)
{
	edge_check_expiry(arg);
}

static const struct daemon_role edge_daemon_role = {
	.reopen_logs = role_services_reopen_logs,
	.name = "edge",
	.setup_worker = edge_setup_worker,
	.drain_worker = edge_drain_worker,
	.force_stop_worker = edge_force_stop_worker,
	.teardown_worker = edge_teardown_worker,
	.reload = edge_reload,
	.control_start = role_services_control_start,
	.control_stop = role_services_control_stop,
	.on_drain = role_services_on_drain,
};

/* Every certificate, key and bundle file: their changes trigger a reload. */
static size_t edge_watched_files(const struct edge_conf *conf, const char **out, size_t cap)
{
	size_t n = 0;
#define WATCH(p) do { if ((p) && n < cap) out[n++] = (p); } while (0)
	WATCH(conf->global_client_cert.certificate);
	WATCH(conf->global_client_cert.key);
	WATCH(conf->origin_ca);
	for (size_t z = 0; z < conf->zone_count; z++) {
		const struct edge_zone *zone = &conf->zones[z];
		WATCH(zone->client_cert.certificate);
		WATCH(zone->client_cert.key);
		WATCH(zone->visitor_cert.certificate);
		WATCH(zone->visitor_cert.key);
		WATCH(zone->origin_ca);
		for (size_t r = 0; r < zone->record_count; r++) {
			WATCH(zone->records[r].own_client_cert.certificate);
			WATCH(zone->records[r].own_client_cert.key);
			WATCH(zone->records[r].own_visitor_cert.certificate);
			WATCH(zone->records[r].own_visitor_cert.key);
		}
	}
#undef WATCH
	return conf->watch_files ? n : 0;
}

int edge_server_run(const char *path, struct edge_snapshot *snap, int workers)
{
	const struct edge_conf *conf = snap->conf;
	struct edge_server srv = { .path = path, .boot = snap, .current = snap, .https_port = 443 };
	edge_snapshot_ref(snap); /* boot and current */
	if (conf->listen_count)
		srv.https_port = conf->listen[0].port;
	int status = 1;
	srv.svc = (struct role_services){
		.role = "edge",
		.admin_addr = conf->has_admin ? &conf->admin : NULL,
		.admin = { .metrics = edge_metrics_write, .purge = edge_admin_purge, .reload = edge_admin_reload,
			   .arg = &srv },
		.expiry_check = edge_expiry_tick,
		.expiry_arg = &srv,
	};
	if (!edge_zone_slots_assign(&srv, snap)) {
		log_error("out of memory");
		goto out;
	}
	if (edge_cache_init(&srv.cache, &conf->cache) < 0) {
		log_error("cannot allocate the cache");
		goto out;
	}
	if (role_services_open_log(&srv.svc, &conf->access_log) < 0)
		goto out;
	srv.worker_count = workers > 0 ? workers : conf->workers > 0 ? conf->workers : worker_default_count();
	srv.workers = calloc((size_t)srv.worker_count, sizeof *srv.workers);
	size_t cap = 8;
	for (size_t z = 0; z < conf->zone_count; z++)
		cap += 5 + 4 * conf->zones[z].record_count;
	const char **watch = calloc(cap, sizeof *watch);
	if (srv.workers && watch) {
		struct daemon d = {
			.role = &edge_daemon_role,
			.data = &srv,
			.worker_count = srv.worker_count,
			.grace_ms = conf->timeouts.grace_ms,
			.watch = watch,
			.watch_count = edge_watched_files(conf, watch, cap),
		};
		srv.daemon = &d;
		d.services = &srv.svc;
		for (size_t i = 0; i < conf->listen_count; i++)
			log_info("edge listening on %s (https), %zu zone%s, %zu origin pool%s, %d worker%s",
				 conf->listen[i].text, conf->zone_count, conf->zone_count == 1 ? "" : "s",
				 snap->spec_count, snap->spec_count == 1 ? "" : "s", srv.worker_count,
				 srv.worker_count == 1 ? "" : "s");
		for (size_t i = 0; i < conf->plain_count; i++)
			log_info("edge listening on %s (http)", conf->plain[i].text);
		status = daemon_run(&d);
	}
	free(watch);
	free(srv.workers);
out:
	for (size_t i = 0; i < srv.zone_name_count; i++)
		free(srv.zone_names[i]);
	role_services_close(&srv.svc);
	edge_cache_destroy(&srv.cache);
	edge_snapshot_unref(srv.current);
	edge_snapshot_unref(srv.boot);
	return status;
}
