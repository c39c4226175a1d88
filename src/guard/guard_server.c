/*
 * guard_server: the guard's workers under the daemon — each accepts TLS (and
 * optional plain) connections on its own SO_REUSEPORT sockets — and its
 * reload: a whole new TLS set is built from the files and handed to every
 * worker; a set that fails to build is reported and the old one keeps
 * serving.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/daemon.h"
#include "core/log.h"
#include "core/net.h"
#include "guard/guard.h"

#define LISTEN_BACKLOG 1024

static struct guard_worker *guard_worker_of(struct worker *w)
{
	return w->data;
}

static void worker_set_tls(struct worker *w, void *arg)
{
	struct guard_worker *gw = guard_worker_of(w);
	struct guard_tls *old = gw->tls;
	gw->tls = arg;
	guard_tls_unref(old);
}

static void guard_reload(struct daemon *d, const char *why)
{
	struct guard_server *srv = d->data;
	char err[512] = "";
	struct guard_tls *set = guard_tls_build(srv->conf, err, sizeof err);
	if (!set) {
		srv->reloads_failed++;
		log_error("reload (%s) refused, keeping the current certificates: %s", why, err);
		return;
	}
	srv->reloads_ok++;
	for (int i = 0; i < srv->worker_count; i++) {
		guard_tls_ref(set);
		if (worker_post(&srv->workers[i].worker, worker_set_tls, set) < 0)
			guard_tls_unref(set);
	}
	guard_tls_unref(srv->tls);
	srv->tls = set;
	log_info("reloaded certificates, CAs and CRLs (%s)", why);
}

static void guard_tls_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct guard_worker *gw = l->data;
	struct guard_conn *gc = calloc(1, sizeof *gc);
	SSL *ssl = gc ? SSL_new(guard_tls_ctx(gw->tls)) : NULL;
	if (!ssl) {
		free(gc);
		close(fd);
		log_error("cannot start a TLS connection: out of memory");
		return;
	}
	/* The set's callbacks run during the handshake: the connection holds
	 * a reference to the set until it closes. */
	guard_tls_ref(gw->tls);
	gc->tls = gw->tls;
	struct transport t;
	transport_init_tls(&t, fd, ssl, true);
	struct proxy_session *s = proxy_session_start(&gw->pw, &t, peer);
	if (!s) {
		guard_tls_unref(gc->tls);
		free(gc);
		return;
	}
	s->role_data = gc;
}

static void worker_maybe_exit(struct guard_worker *gw)
{
	if (gw->stopping && gw->pw.active == 0 && gw->plain_active == 0)
		loop_stop(gw->worker.loop);
}

static void worker_on_idle(struct proxy_worker *pw)
{
	worker_maybe_exit(pw->data);
}

static void guard_stop_listeners(struct guard_worker *gw)
{
	const struct guard_conf *conf = gw->srv->conf;
	for (size_t i = 0; gw->tls_listeners && i < conf->listen_count; i++)
		listener_stop(&gw->tls_listeners[i]);
	for (size_t i = 0; gw->plain_listeners && i < conf->plain_count; i++)
		listener_stop(&gw->plain_listeners[i]);
}

static void guard_drain_worker(struct worker *w)
{
	struct guard_worker *gw = guard_worker_of(w);
	gw->stopping = true;
	gw->pw.draining = true;
	guard_stop_listeners(gw);
	struct proxy_session *s = gw->pw.sessions;
	while (s) {
		struct proxy_session *next = s->next;
		proxy_session_drain(s);
		s = next;
	}
	guard_plain_drain(gw);
	upstream_pool_drain(&gw->pool);
	worker_maybe_exit(gw);
}

static void guard_force_stop_worker(struct worker *w)
{
	struct guard_worker *gw = guard_worker_of(w);
	gw->stopping = true;
	guard_stop_listeners(gw);
	while (gw->pw.sessions)
		proxy_session_close(gw->pw.sessions, "grace period over");
	guard_plain_drain(gw);
	upstream_pool_drain(&gw->pool);
	loop_stop(w->loop);
}

static int guard_listen_all(struct guard_worker *gw, char *err, size_t errlen)
{
	const struct guard_conf *conf = gw->srv->conf;
	for (size_t i = 0; i < conf->listen_count + conf->plain_count; i++) {
		bool tls = i < conf->listen_count;
		const struct conf_addr *a = tls ? &conf->listen[i] : &conf->plain[i - conf->listen_count].addr;
		struct sockaddr_storage ss;
		socklen_t len;
		if (net_resolve(a->host, a->port, &ss, &len, err, errlen) < 0)
			return -1;
		int fd = net_listen(&ss, len, LISTEN_BACKLOG, err, errlen);
		if (fd < 0)
			return -1;
		struct listener *l = tls ? &gw->tls_listeners[i] : &gw->plain_listeners[i - conf->listen_count];
		if (listener_start(l, gw->worker.loop, fd, tls ? guard_tls_accept : guard_plain_accept, gw) < 0) {
			snprintf(err, errlen, "%s: cannot watch the listener", a->text);
			close(fd);
			return -1;
		}
		l->cookie = tls ? NULL : (const void *)&conf->plain[i - conf->listen_count];
	}
	return 0;
}

static void guard_teardown_worker(struct daemon *d, struct worker *w)
{
	struct guard_worker *gw = guard_worker_of(w);
	guard_stop_listeners(gw);
	free(gw->tls_listeners);
	free(gw->plain_listeners);
	gw->tls_listeners = gw->plain_listeners = NULL;
	if (gw->worker.loop) {
		upstream_pool_drain(&gw->pool); /* connections released while draining */
		loop_run_pending(gw->worker.loop); /* frees queued by the last closes */
	}
	worker_destroy(&gw->worker);
	guard_tls_unref(gw->tls);
	gw->tls = NULL;
}

static struct worker *guard_setup_worker(struct daemon *d, int index, char *err, size_t errlen)
{
	struct guard_server *srv = d->data;
	const struct guard_conf *conf = srv->conf;
	struct guard_worker *gw = &srv->workers[index];
	gw->srv = srv;
	if (worker_init(&gw->worker, index) < 0) {
		snprintf(err, errlen, "cannot create worker %d: %s", index, strerror(errno));
		worker_destroy(&gw->worker);
		return NULL;
	}
	gw->worker.data = gw;
	upstream_pool_init(&gw->pool, gw->worker.loop, &srv->backend_addr, srv->backend_len,
			   conf->backend.addr.text);
	gw->pool.connect_timeout_ms = conf->backend.connect_timeout_ms;
	gw->pool.idle_timeout_ms = conf->backend.idle_timeout_ms;
	gw->pool.max_idle = conf->backend.pool_size;
	gw->pw = (struct proxy_worker){
		.loop = gw->worker.loop,
		.role = &guard_role,
		.limits = &srv->limits,
		.pool = &gw->pool,
		.via = "1.1 pullgate",
		.forwarded_proto = "https",
		.on_idle = worker_on_idle,
		.data = gw,
	};
	guard_tls_ref(srv->tls);
	gw->tls = srv->tls;
	gw->tls_listeners = calloc(conf->listen_count, sizeof *gw->tls_listeners);
	gw->plain_listeners = calloc(conf->plain_count ? conf->plain_count : 1, sizeof *gw->plain_listeners);
	for (size_t i = 0; gw->tls_listeners && i < conf->listen_count; i++)
		gw->tls_listeners[i].fd = -1;
	for (size_t i = 0; gw->plain_listeners && i < conf->plain_count; i++)
		gw->plain_listeners[i].fd = -1;
	if (!gw->tls_listeners || !gw->plain_listeners) {
		snprintf(err, errlen, "out of memory");
	} else if (guard_listen_all(gw, err, errlen) == 0) {
		return &gw->worker;
	}
	guard_teardown_worker(d, &gw->worker);
	return NULL;
}

static int guard_control_start(struct daemon *d, struct loop *loop)
{
	struct guard_server *srv = d->data;
	const struct guard_conf *conf = srv->conf;
	if (!conf->has_admin)
		return 0;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	srv->admin.metrics = guard_metrics_write;
	srv->admin.arg = srv;
	if (conf->admin.is_unix || net_resolve(conf->admin.host, conf->admin.port, &ss, &len, err, sizeof err) < 0 ||
	    admin_start(&srv->admin, loop, &ss, len, err, sizeof err) < 0) {
		log_error("admin listener %s: %s", conf->admin.text, conf->admin.is_unix ? "must be host:port" : err);
		return -1;
	}
	log_info("admin listening on %s (/metrics, /health)", conf->admin.text);
	return 0;
}

static void guard_control_stop(struct daemon *d)
{
	admin_stop(&((struct guard_server *)d->data)->admin);
}

static void guard_on_drain(struct daemon *d)
{
	((struct guard_server *)d->data)->admin.draining = true;
}

static const struct daemon_role guard_daemon_role = {
	.control_start = guard_control_start,
	.control_stop = guard_control_stop,
	.on_drain = guard_on_drain,
	.name = "guard",
	.setup_worker = guard_setup_worker,
	.drain_worker = guard_drain_worker,
	.force_stop_worker = guard_force_stop_worker,
	.teardown_worker = guard_teardown_worker,
	.reload = guard_reload,
};

/* Every file a TLS set is built from: their changes trigger a reload. */
static size_t guard_watched_files(const struct guard_conf *conf, const char **out, size_t cap)
{
	size_t n = 0;
#define WATCH(p) do { if ((p) && n < cap) out[n++] = (p); } while (0)
	WATCH(conf->certificate);
	WATCH(conf->key);
	for (size_t i = 0; i < conf->host_count; i++) {
		WATCH(conf->hosts[i].certificate);
		WATCH(conf->hosts[i].key);
	}
	for (size_t i = 0; i < conf->ca_files.count; i++)
		WATCH(conf->ca_files.items[i]);
	for (size_t i = 0; i < conf->crl_files.count; i++)
		WATCH(conf->crl_files.items[i]);
#undef WATCH
	return n;
}

int guard_server_run(const struct guard_conf *conf, int workers)
{
	struct guard_server srv = { .conf = conf };
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
		.response_ms = conf->backend.response_timeout_ms,
	};
	const struct conf_addr *b = &conf->backend.addr;
	if (b->is_unix ? net_unix_addr(b->path, &srv.backend_addr, &srv.backend_len) < 0
		       : net_resolve(b->host, b->port, &srv.backend_addr, &srv.backend_len, err, sizeof err) < 0) {
		log_error("%s: backend %s: %s", conf->file, b->text, err[0] ? err : "path too long");
		return 1;
	}
	srv.tls = guard_tls_build(conf, err, sizeof err);
	if (!srv.tls) {
		log_error("%s", err);
		return 1;
	}
	srv.worker_count = workers > 0 ? workers : conf->workers > 0 ? conf->workers : worker_default_count();
	srv.workers = calloc((size_t)srv.worker_count, sizeof *srv.workers);
	size_t cap = 4 + 2 * conf->host_count + conf->ca_files.count + conf->crl_files.count;
	const char **watch = calloc(cap, sizeof *watch);
	if (!srv.workers || !watch) {
		free(srv.workers);
		free(watch);
		guard_tls_unref(srv.tls);
		return 1;
	}
	struct daemon d = {
		.role = &guard_daemon_role,
		.data = &srv,
		.worker_count = srv.worker_count,
		.grace_ms = conf->timeouts.grace_ms,
		.watch = watch,
		.watch_count = conf->watch_files ? guard_watched_files(conf, watch, cap) : 0,
	};
	for (size_t i = 0; i < conf->listen_count; i++)
		log_info("guard listening on %s (tls), backend %s, %d worker%s", conf->listen[i].text, b->text,
			 srv.worker_count, srv.worker_count == 1 ? "" : "s");
	for (size_t i = 0; i < conf->plain_count; i++)
		log_info("guard listening on %s (plain, %s only)", conf->plain[i].addr.text,
			 conf->plain[i].action == PLAIN_ACTION_CLOSE ? "close" : "redirect");
	int status = daemon_run(&d);
	free(watch);
	free(srv.workers);
	guard_tls_unref(srv.tls);
	return status;
}
