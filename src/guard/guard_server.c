/*
 * guard_server: the guard's workers under the daemon, and its reload. A
 * reload loads the file and builds a whole new snapshot (TLS set included);
 * a snapshot that fails is reported with its file:line reasons and the old
 * one keeps serving. Each worker then starts a new generation on the new
 * snapshot; the old generation lives until its last session closes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/daemon.h"
#include "core/log.h"
#include "core/net.h"
#include "guard/guard.h"
#include "guard/guard_expiry.h"

#define LISTEN_BACKLOG 1024

static struct guard_worker *guard_worker_of(struct worker *w)
{
	return w->data;
}

unsigned guard_worker_sessions(const struct guard_worker *gw)
{
	unsigned n = gw->current ? gw->current->pw.active : 0;
	for (const struct guard_gen *g = gw->retired; g; g = g->next)
		n += g->pw.active;
	return n;
}

static void worker_maybe_exit(struct guard_worker *gw)
{
	if (gw->stopping && guard_worker_sessions(gw) == 0 && gw->plain_active == 0)
		loop_stop(gw->worker.loop);
}

static void gen_free(struct guard_gen *gen)
{
	upstream_pool_drain(&gen->pool);
	guard_snapshot_unref(gen->snap);
	free(gen);
}

static void gen_free_task(struct task *t)
{
	gen_free(t->data);
}

static void gen_on_idle(struct proxy_worker *pw)
{
	struct guard_gen *gen = pw->data;
	struct guard_worker *gw = gen->gw;
	if (pw->retired) {
		for (struct guard_gen **pp = &gw->retired; *pp; pp = &(*pp)->next) {
			if (*pp == gen) {
				*pp = gen->next;
				break;
			}
		}
		/* Its last session is still closing: free after this round. */
		task_defer(gw->worker.loop, &gen->free_task);
	}
	worker_maybe_exit(gw);
}

static struct guard_gen *gen_new(struct guard_worker *gw, struct guard_snapshot *snap)
{
	struct guard_gen *gen = calloc(1, sizeof *gen);
	if (!gen)
		return NULL;
	const struct guard_conf *conf = snap->conf;
	gen->gw = gw;
	guard_snapshot_ref(snap);
	gen->snap = snap;
	task_init(&gen->free_task, gen_free_task, gen);
	upstream_pool_init(&gen->pool, gw->worker.loop, &snap->backend_addr, snap->backend_len,
			   conf->backend.addr.text);
	gen->pool.connect_timeout_ms = conf->backend.connect_timeout_ms;
	gen->pool.idle_timeout_ms = conf->backend.idle_timeout_ms;
	gen->pool.max_idle = conf->backend.pool_size;
	gen->pw = (struct proxy_worker){
		.loop = gw->worker.loop,
		.role = &guard_role,
		.limits = &snap->limits,
		.pool = &gen->pool,
		.via = "1.1 pullgate",
		.forwarded_proto = "https",
		.on_idle = gen_on_idle,
		.data = gen,
		.stats = &gw->stats,
		.draining = gw->stopping,
		.access_log = gw->srv->svc.access_log,
		.role_name = "guard",
	};
	return gen;
}

/* Retires the worker's current generation in favour of gen. */
static void worker_switch_gen(struct guard_worker *gw, struct guard_gen *gen)
{
	struct guard_gen *old = gw->current;
	gw->current = gen;
	if (!old)
		return;
	old->pw.retired = true;
	upstream_pool_drain(&old->pool);
	if (old->pw.active == 0) {
		gen_free(old);
		return;
	}
	old->next = gw->retired;
	gw->retired = old;
}

static void worker_apply_snapshot(struct worker *w, void *arg)
{
	struct guard_worker *gw = guard_worker_of(w);
	struct guard_snapshot *snap = arg;
	struct guard_gen *gen = gen_new(gw, snap);
	guard_snapshot_unref(snap); /* the posted reference */
	if (!gen) {
		log_error("worker %d: out of memory applying a reload; it keeps the previous configuration",
			  w->id);
		return;
	}
	worker_switch_gen(gw, gen);
}

/* What only a restart changes: the sockets and the threads. */
static bool needs_restart(const struct guard_conf *a, const struct guard_conf *b)
{
	if (a->access_log.enabled != b->access_log.enabled ||
	    (a->access_log.enabled && (strcmp(a->access_log.path, b->access_log.path) != 0 ||
				       a->access_log.json != b->access_log.json)))
		return true;
	if (a->listen_count != b->listen_count || a->plain_count != b->plain_count || a->workers != b->workers ||
	    a->has_admin != b->has_admin || (a->has_admin && strcmp(a->admin.text, b->admin.text) != 0))
		return true;
	for (size_t i = 0; i < a->listen_count; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return true;
	for (size_t i = 0; i < a->plain_count; i++)
		if (strcmp(a->plain[i].addr.text, b->plain[i].addr.text) != 0 ||
		    a->plain[i].action != b->plain[i].action || a->plain[i].redirect_port != b->plain[i].redirect_port)
			return true;
	return false;
}

static size_t guard_watched_files(const struct guard_conf *conf, const char **out, size_t cap);

/* Reloads now; the reasons of a refusal are logged and, when msg is given,
 * written there too (for `pullgate reload`). */
static int guard_reload_into(struct daemon *d, const char *why, char *msg, size_t cap)
{
	struct guard_server *srv = d->data;
	struct conf_errors errs = { 0 };
	char err[512] = "";
	struct guard_snapshot *snap = guard_snapshot_load(srv->path, &errs, err, sizeof err);
	if (!snap) {
		srv->reloads_failed++;
		return role_reload_refused(why, &errs, err, msg, cap);
	}
	conf_errors_free(&errs);
	if (needs_restart(srv->boot->conf, snap->conf))
		log_warn("reload (%s): listen, plain_listen, admin, access_log and workers changes take a restart "
			 "(start a new process beside this one: the sockets are shared); the rest applies", why);
	srv->reloads_ok++;
	for (int i = 0; i < srv->worker_count; i++) {
		guard_snapshot_ref(snap);
		if (worker_post(&srv->workers[i].worker, worker_apply_snapshot, snap) < 0)
			guard_snapshot_unref(snap);
	}
	guard_snapshot_unref(srv->current);
	srv->current = snap;
	const char *files[64];
	daemon_watch_files(d, files, guard_watched_files(snap->conf, files, 64));
	log_info("reloaded %s (%s)", srv->path, why);
	return 0;
}

static void guard_reload(struct daemon *d, const char *why)
{
	guard_reload_into(d, why, NULL, 0);
}

static int guard_admin_reload(void *arg, char *msg, size_t cap)
{
	struct guard_server *srv = arg;
	return guard_reload_into(srv->daemon, "pullgate reload", msg, cap);
}

static void guard_tls_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct guard_worker *gw = l->data;
	struct guard_gen *gen = gw->current;
	struct guard_conn *gc = calloc(1, sizeof *gc);
	SSL *ssl = gc ? SSL_new(guard_tls_ctx(gen->snap->tls)) : NULL;
	if (!ssl) {
		free(gc);
		close(fd);
		log_error("cannot start a TLS connection: out of memory");
		return;
	}
	/* The set's callbacks run during the handshake: the connection holds
	 * a reference to the set until it closes. */
	guard_tls_ref(gen->snap->tls);
	gc->tls = gen->snap->tls;
	struct transport t;
	transport_init_tls(&t, fd, ssl, true);
	struct proxy_session *s = proxy_session_start(&gen->pw, &t, peer);
	if (!s) {
		guard_tls_unref(gc->tls);
		free(gc);
		return;
	}
	s->role_data = gc;
}

static void guard_stop_listeners(struct guard_worker *gw, bool drain)
{
	void (*stop)(struct listener *l) = drain ? listener_drain_and_stop : listener_stop;
	const struct guard_conf *conf = gw->srv->boot->conf;
	for (size_t i = 0; gw->tls_listeners && i < conf->listen_count; i++)
		stop(&gw->tls_listeners[i]);
	for (size_t i = 0; gw->plain_listeners && i < conf->plain_count; i++)
		stop(&gw->plain_listeners[i]);
}

/* Every generation of the worker, current first. */
static void for_each_gen(struct guard_worker *gw, void (*fn)(struct guard_gen *gen, bool force), bool force)
{
	if (gw->current)
		fn(gw->current, force);
	struct guard_gen *g = gw->retired;
	while (g) {
		struct guard_gen *next = g->next; /* fn may free g */
		fn(g, force);
		g = next;
	}
}

static void gen_drain(struct guard_gen *gen, bool force)
{
	gen->pw.draining = true;
	upstream_pool_drain(&gen->pool);
	struct proxy_session *s = gen->pw.sessions;
	while (s) {
		struct proxy_session *next = s->next;
		if (force)
			proxy_session_close(s, "grace period over");
		else
			proxy_session_drain(s);
		s = next;
	}
}

static void guard_drain_worker(struct worker *w)
{
	struct guard_worker *gw = guard_worker_of(w);
	gw->stopping = true;
	guard_stop_listeners(gw, true);
	for_each_gen(gw, gen_drain, false);
	guard_plain_drain(gw);
	worker_maybe_exit(gw);
}

static void guard_force_stop_worker(struct worker *w)
{
	struct guard_worker *gw = guard_worker_of(w);
	gw->stopping = true;
	guard_stop_listeners(gw, false);
	for_each_gen(gw, gen_drain, true);
	guard_plain_drain(gw);
	loop_stop(w->loop);
}

static int guard_listen_all(struct guard_worker *gw, char *err, size_t errlen)
{
	const struct guard_conf *conf = gw->srv->boot->conf;
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
		/* The boot snapshot lives as long as the server: settings of
		 * listeners are only changed by a restart. */
		l->cookie = tls ? NULL : (const void *)&conf->plain[i - conf->listen_count];
	}
	return 0;
}

static void gen_close_all(struct guard_gen *gen, bool force)
{
	while (gen->pw.sessions)
		proxy_session_close(gen->pw.sessions, "stopped");
}

static void guard_teardown_worker(struct daemon *d, struct worker *w)
{
	struct guard_worker *gw = guard_worker_of(w);
	guard_stop_listeners(gw, false);
	free(gw->tls_listeners);
	free(gw->plain_listeners);
	gw->tls_listeners = gw->plain_listeners = NULL;
	if (gw->worker.loop) {
		gw->stopping = false; /* no loop_stop from here on */
		for_each_gen(gw, gen_close_all, true);
		guard_plain_drain(gw);
		loop_run_pending(gw->worker.loop); /* frees queued by the closes */
		while (gw->retired) {
			struct guard_gen *g = gw->retired;
			gw->retired = g->next;
			gen_free(g);
		}
		if (gw->current)
			gen_free(gw->current);
		gw->current = NULL;
		loop_run_pending(gw->worker.loop);
	}
	worker_destroy(&gw->worker);
}

static struct worker *guard_setup_worker(struct daemon *d, int index, char *err, size_t errlen)
{
	struct guard_server *srv = d->data;
	const struct guard_conf *conf = srv->boot->conf;
	struct guard_worker *gw = &srv->workers[index];
	gw->srv = srv;
	if (worker_init(&gw->worker, index) < 0) {
		snprintf(err, errlen, "cannot create worker %d: %s", index, strerror(errno));
		worker_destroy(&gw->worker);
		return NULL;
	}
	gw->worker.data = gw;
	gw->current = gen_new(gw, srv->current);
	gw->tls_listeners = calloc(conf->listen_count, sizeof *gw->tls_listeners);
	gw->plain_listeners = calloc(conf->plain_count ? conf->plain_count : 1, sizeof *gw->plain_listeners);
	for (size_t i = 0; gw->tls_listeners && i < conf->listen_count; i++)
		gw->tls_listeners[i].fd = -1;
	for (size_t i = 0; gw->plain_listeners && i < conf->plain_count; i++)
		gw->plain_listeners[i].fd = -1;
	if (!gw->current || !gw->tls_listeners || !gw->plain_listeners)
		snprintf(err, errlen, "out of memory");
	else if (guard_listen_all(gw, err, errlen) == 0)
		return &gw->worker;
	guard_teardown_worker(d, &gw->worker);
	return NULL;
}

static void guard_expiry_tick(void *arg)
{
	guard_check_expiry_all(arg);
}

static const struct daemon_role guard_daemon_role = {
	.reopen_logs = role_services_reopen_logs,
	.name = "guard",
	.setup_worker = guard_setup_worker,
	.drain_worker = guard_drain_worker,
	.force_stop_worker = guard_force_stop_worker,
	.teardown_worker = guard_teardown_worker,
	.reload = guard_reload,
	.control_start = role_services_control_start,
	.control_stop = role_services_control_stop,
	.on_drain = role_services_on_drain,
};

/* Every file a TLS set is built from: their changes trigger a reload (the
 * configuration file itself reloads on SIGHUP or `pullgate reload`). */
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
	return conf->watch_files ? n : 0;
}

int guard_server_run(const char *path, struct guard_snapshot *snap, int workers)
{
	const struct guard_conf *conf = snap->conf;
	struct guard_server srv = { .path = path, .boot = snap, .current = snap };
	guard_snapshot_ref(snap); /* boot and current */
	srv.worker_count = workers > 0 ? workers : conf->workers > 0 ? conf->workers : worker_default_count();
	srv.workers = calloc((size_t)srv.worker_count, sizeof *srv.workers);
	const char *watch[64];
	struct daemon d = {
		.role = &guard_daemon_role,
		.data = &srv,
		.worker_count = srv.worker_count,
		.grace_ms = conf->timeouts.grace_ms,
		.watch = watch,
		.watch_count = guard_watched_files(conf, watch, 64),
	};
	srv.daemon = &d;
	srv.svc = (struct role_services){
		.role = "guard",
		.admin_addr = conf->has_admin ? &conf->admin : NULL,
		.admin = { .metrics = guard_metrics_write, .reload = guard_admin_reload, .arg = &srv },
		.expiry_check = guard_expiry_tick,
		.expiry_arg = &srv,
	};
	d.services = &srv.svc;
	int status = 1;
	if (role_services_open_log(&srv.svc, &conf->access_log) == 0 && srv.workers) {
		for (size_t i = 0; i < conf->listen_count; i++)
			log_info("guard listening on %s (tls), backend %s, %d worker%s", conf->listen[i].text,
				 conf->backend.addr.text, srv.worker_count, srv.worker_count == 1 ? "" : "s");
		for (size_t i = 0; i < conf->plain_count; i++)
			log_info("guard listening on %s (plain, %s only)", conf->plain[i].addr.text,
				 conf->plain[i].action == PLAIN_ACTION_CLOSE ? "close" : "redirect");
		status = daemon_run(&d);
	}
	free(srv.workers);
	role_services_close(&srv.svc);
	guard_snapshot_unref(srv.current);
	guard_snapshot_unref(srv.boot);
	return status;
}
