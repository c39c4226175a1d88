/*
 * edge_server: the edge's workers under the daemon. Each worker accepts
 * visitors on its own SO_REUSEPORT sockets (TLS and plain), and owns one
 * upstream pool per pool spec. A reload builds a new TLS set; workers swap to
 * it and empty their pools, so the next pull uses the new certificates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

static void worker_set_tls(struct worker *w, void *arg)
{
	struct edge_worker *ew = edge_worker_of(w);
	struct edge_tls *old = ew->tls;
	ew->tls = arg;
	for (size_t i = 0; i < ew->srv->spec_count; i++)
		upstream_pool_reset(&ew->pools[i]);
	edge_tls_unref(old);
}

static void edge_reload(struct daemon *d, const char *why)
{
	struct edge_server *srv = d->data;
	char err[512] = "";
	struct edge_tls *set = edge_tls_build(srv->conf, err, sizeof err);
	if (!set) {
		srv->reloads_failed++;
		log_error("reload (%s) refused, keeping the current certificates: %s", why, err);
		return;
	}
	srv->reloads_ok++;
	for (int i = 0; i < srv->worker_count; i++) {
		edge_tls_ref(set);
		if (worker_post(&srv->workers[i].worker, worker_set_tls, set) < 0)
			edge_tls_unref(set);
	}
	edge_tls_unref(srv->tls);
	srv->tls = set;
	log_info("reloaded certificates (%s)", why);
}

static void edge_accept(struct listener *l, int fd, const struct sockaddr_storage *peer, bool tls)
{
	struct edge_worker *ew = l->data;
	struct edge_conn *ec = calloc(1, sizeof *ec);
	struct transport t;
	if (!ec) {
		close(fd);
		return;
	}
	if (tls) {
		SSL *ssl = SSL_new(edge_tls_visitor_ctx(ew->tls));
		if (!ssl) {
			free(ec);
			close(fd);
			return;
		}
		edge_tls_ref(ew->tls);
		ec->tls = ew->tls;
		ec->tls_visitor = true;
		transport_init_tls(&t, fd, ssl, true);
	} else {
		transport_init_plain(&t, fd);
	}
	struct proxy_session *s = proxy_session_start(tls ? &ew->pw : &ew->pw_plain, &t, peer);
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

static void worker_maybe_exit(struct edge_worker *ew)
{
	if (ew->stopping && ew->pw.active == 0 && ew->pw_plain.active == 0)
		loop_stop(ew->worker.loop);
}

static void worker_on_idle(struct proxy_worker *pw)
{
	struct edge_worker *ew = pw->data;
	worker_maybe_exit(ew);
}

static void edge_stop_listeners(struct edge_worker *ew)
{
	const struct edge_conf *conf = ew->srv->conf;
	for (size_t i = 0; ew->tls_listeners && i < conf->listen_count; i++)
		listener_stop(&ew->tls_listeners[i]);
	for (size_t i = 0; ew->plain_listeners && i < conf->plain_count; i++)
		listener_stop(&ew->plain_listeners[i]);
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

static void edge_drain_pools(struct edge_worker *ew)
{
	for (size_t i = 0; ew->pools && i < ew->srv->spec_count; i++)
		upstream_pool_reset(&ew->pools[i]);
}

static void edge_drain_worker(struct worker *w)
{
	struct edge_worker *ew = edge_worker_of(w);
	ew->stopping = true;
	edge_cache_refresh_abort_all(ew);
	edge_stop_listeners(ew);
	drain_sessions(&ew->pw, false);
	drain_sessions(&ew->pw_plain, false);
	edge_drain_pools(ew);
	worker_maybe_exit(ew);
}

static void edge_force_stop_worker(struct worker *w)
{
	struct edge_worker *ew = edge_worker_of(w);
	ew->stopping = true;
	edge_cache_refresh_abort_all(ew);
	edge_stop_listeners(ew);
	drain_sessions(&ew->pw, true);
	drain_sessions(&ew->pw_plain, true);
	edge_drain_pools(ew);
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
	edge_stop_listeners(ew);
	edge_cache_refresh_abort_all(ew);
	edge_drain_pools(ew);
	free(ew->tls_listeners);
	free(ew->plain_listeners);
	ew->tls_listeners = ew->plain_listeners = NULL;
	if (ew->worker.loop)
		loop_run_pending(ew->worker.loop); /* frees queued by the last closes */
	free(ew->pools);
	free(ew->pool_args);
	ew->pools = NULL;
	worker_destroy(&ew->worker);
	edge_tls_unref(ew->tls);
	ew->tls = NULL;
}

static struct worker *edge_setup_worker(struct daemon *d, int index, char *err, size_t errlen)
{
	struct edge_server *srv = d->data;
	const struct edge_conf *conf = srv->conf;
	struct edge_worker *ew = &srv->workers[index];
	ew->srv = srv;
	if (worker_init(&ew->worker, index) < 0) {
		snprintf(err, errlen, "cannot create worker %d: %s", index, strerror(errno));
		worker_destroy(&ew->worker);
		return NULL;
	}
	ew->worker.data = ew;
	edge_tls_ref(srv->tls);
	ew->tls = srv->tls;
	struct proxy_worker base = {
		.loop = ew->worker.loop,
		.role = &edge_role,
		.limits = &srv->limits,
		.via = "1.1 pullgate",
		.on_idle = worker_on_idle,
		.data = ew,
	};
	ew->pw = base;
	ew->pw.forwarded_proto = "https";
	ew->pw_plain = base;
	ew->pw_plain.forwarded_proto = "http";
	ew->pools = calloc(srv->spec_count ? srv->spec_count : 1, sizeof *ew->pools);
	ew->pool_args = calloc(srv->spec_count ? srv->spec_count : 1, sizeof *ew->pool_args);
	ew->tls_listeners = calloc(conf->listen_count ? conf->listen_count : 1, sizeof *ew->tls_listeners);
	ew->plain_listeners = calloc(conf->plain_count ? conf->plain_count : 1, sizeof *ew->plain_listeners);
	if (!ew->pools || !ew->pool_args || !ew->tls_listeners || !ew->plain_listeners) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < conf->listen_count; i++)
		ew->tls_listeners[i].fd = -1;
	for (size_t i = 0; i < conf->plain_count; i++)
		ew->plain_listeners[i].fd = -1;
	for (size_t i = 0; i < srv->spec_count; i++) {
		const struct edge_pool_spec *spec = &srv->specs[i];
		struct upstream_pool *pool = &ew->pools[i];
		upstream_pool_init(pool, ew->worker.loop, &spec->addr, spec->addr_len, spec->name);
		pool->connect_timeout_ms = conf->timeouts.origin_connect_ms;
		pool->idle_timeout_ms = conf->pool.idle_timeout_ms;
		pool->max_idle = conf->pool.size;
		if (spec->rec->ssl == SSL_MODE_FULL || spec->rec->ssl == SSL_MODE_STRICT) {
			ew->pool_args[i] = (struct edge_pool_arg){ ew, spec->rec };
			pool->tls = &edge_origin_tls_ops;
			pool->tls_arg = &ew->pool_args[i];
		}
	}
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

#define EXPIRY_CHECK_MS (12u * 3600u * 1000u)

static void expiry_tick(struct timer *t)
{
	struct edge_server *srv = t->data;
	edge_check_expiry(srv);
	timer_arm(srv->control_loop, &srv->expiry_timer, EXPIRY_CHECK_MS);
}

static int edge_control_start(struct daemon *d, struct loop *loop)
{
	struct edge_server *srv = d->data;
	const struct edge_conf *conf = srv->conf;
	srv->control_loop = loop;
	/* The build warned once; long-running edges are reminded twice a day. */
	timer_init(&srv->expiry_timer, expiry_tick, srv);
	timer_arm(loop, &srv->expiry_timer, EXPIRY_CHECK_MS);
	if (!conf->has_admin)
		return 0;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	srv->admin.metrics = edge_metrics_write;
	srv->admin.purge = edge_admin_purge;
	srv->admin.arg = srv;
	if (conf->admin.is_unix || net_resolve(conf->admin.host, conf->admin.port, &ss, &len, err, sizeof err) < 0 ||
	    admin_start(&srv->admin, loop, &ss, len, err, sizeof err) < 0) {
		log_error("admin listener %s: %s", conf->admin.text, conf->admin.is_unix ? "must be host:port" : err);
		return -1;
	}
	log_info("admin listening on %s (/metrics, /health)", conf->admin.text);
	return 0;
}

static void edge_control_stop(struct daemon *d)
{
	struct edge_server *srv = d->data;
	if (srv->control_loop)
		timer_disarm(srv->control_loop, &srv->expiry_timer);
	admin_stop(&srv->admin);
}

static void edge_on_drain(struct daemon *d)
{
	((struct edge_server *)d->data)->admin.draining = true;
}

static const struct daemon_role edge_daemon_role = {
	.control_start = edge_control_start,
	.control_stop = edge_control_stop,
	.on_drain = edge_on_drain,
	.name = "edge",
	.setup_worker = edge_setup_worker,
	.drain_worker = edge_drain_worker,
	.force_stop_worker = edge_force_stop_worker,
	.teardown_worker = edge_teardown_worker,
	.reload = edge_reload,
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
	return n;
}

int edge_server_run(const struct edge_conf *conf, int workers)
{
	struct edge_server srv = { .conf = conf, .https_port = 443 };
	char err[512] = "";
	srv.limits = (struct proxy_limits){
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
	if (edge_cache_init(&srv.cache, &conf->cache) < 0) {
		log_error("cannot allocate the cache");
		edge_cache_destroy(&srv.cache);
		return 1;
	}
	if (conf->listen_count)
		srv.https_port = conf->listen[0].port;
	if (edge_routes_build(&srv, err, sizeof err) < 0) {
		log_error("%s", err);
		edge_routes_free(&srv);
		edge_cache_destroy(&srv.cache);
		return 1;
	}
	srv.tls = edge_tls_build(conf, err, sizeof err);
	if (!srv.tls) {
		log_error("%s", err);
		edge_routes_free(&srv);
		edge_cache_destroy(&srv.cache);
		return 1;
	}
	srv.worker_count = workers > 0 ? workers : conf->workers > 0 ? conf->workers : worker_default_count();
	srv.workers = calloc((size_t)srv.worker_count, sizeof *srv.workers);
	size_t cap = 8;
	for (size_t z = 0; z < conf->zone_count; z++)
		cap += 5 + 4 * conf->zones[z].record_count;
	const char **watch = calloc(cap, sizeof *watch);
	int status = 1;
	if (srv.workers && watch) {
		struct daemon d = {
			.role = &edge_daemon_role,
			.data = &srv,
			.worker_count = srv.worker_count,
			.grace_ms = conf->timeouts.grace_ms,
			.watch = watch,
			.watch_count = conf->watch_files ? edge_watched_files(conf, watch, cap) : 0,
		};
		for (size_t i = 0; i < conf->listen_count; i++)
			log_info("edge listening on %s (https), %zu zone%s, %zu origin pool%s, %d worker%s",
				 conf->listen[i].text, conf->zone_count, conf->zone_count == 1 ? "" : "s",
				 srv.spec_count, srv.spec_count == 1 ? "" : "s", srv.worker_count,
				 srv.worker_count == 1 ? "" : "s");
		for (size_t i = 0; i < conf->plain_count; i++)
			log_info("edge listening on %s (http)", conf->plain[i].text);
		status = daemon_run(&d);
	}
	free(watch);
	free(srv.workers);
	edge_tls_unref(srv.tls);
	edge_routes_free(&srv);
	edge_cache_destroy(&srv.cache);
	return status;
}
