/*
 * guard_server: start-up, the workers, and the control thread — signals
 * (SIGHUP reload, SIGTERM/SIGINT drain and stop, SIGUSR1 reserved) and file
 * watching. A reload builds a whole new TLS set from the files and hands it
 * to every worker; a set that fails to build is reported and the old one
 * keeps serving.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/net.h"
#include "guard/guard.h"
#include "guard/guard_watch.h"

#define LISTEN_BACKLOG 1024

struct control {
	struct guard_server *srv;
	struct loop *loop;
	int sigfd;
	struct io_watch sig_watch;
	struct guard_watch watch;
	struct timer grace_timer;
	bool stopping;
	int exit_status;
};

static void worker_set_tls(struct worker *w, void *arg)
{
	struct guard_worker *gw = w->data;
	struct guard_tls *old = gw->tls;
	gw->tls = arg;
	guard_tls_unref(old);
}

static void guard_reload(struct control *c, const char *why)
{
	struct guard_server *srv = c->srv;
	char err[512] = "";
	struct guard_tls *set = guard_tls_build(srv->conf, err, sizeof err);
	if (!set) {
		log_error("reload (%s) refused, keeping the current certificates: %s", why, err);
		return;
	}
	for (int i = 0; i < srv->worker_count; i++) {
		guard_tls_ref(set);
		if (worker_post(&srv->workers[i].worker, worker_set_tls, set) < 0)
			guard_tls_unref(set);
	}
	guard_tls_unref(srv->tls);
	srv->tls = set;
	log_info("reloaded certificates, CAs and CRLs (%s)", why);
}

/* --- worker side --- */

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
	struct guard_worker *gw = (struct guard_worker *)((char *)pw - offsetof(struct guard_worker, pw));
	worker_maybe_exit(gw);
}

static void worker_stop(struct worker *w, void *arg)
{
	struct guard_worker *gw = w->data;
	const struct guard_conf *conf = gw->srv->conf;
	gw->stopping = true;
	gw->pw.draining = true;
	for (size_t i = 0; i < conf->listen_count; i++)
		listener_stop(&gw->tls_listeners[i]);
	for (size_t i = 0; i < conf->plain_count; i++)
		listener_stop(&gw->plain_listeners[i]);
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

static void worker_force_stop(struct worker *w, void *arg)
{
	struct guard_worker *gw = w->data;
	while (gw->pw.sessions)
		proxy_session_close(gw->pw.sessions, "grace period over");
	loop_stop(w->loop);
}

static void worker_finish(struct worker *w)
{
	struct guard_worker *gw = w->data;
	upstream_pool_drain(&gw->pool);
	while (gw->pw.sessions)
		proxy_session_close(gw->pw.sessions, "stopped");
	guard_plain_drain(gw);
	/* Run the deferred frees of what just closed. */
	loop_stop(w->loop);
}

static int guard_worker_setup(struct guard_server *srv, struct guard_worker *gw, int id, char *err,
			      size_t errlen)
{
	const struct guard_conf *conf = srv->conf;
	gw->srv = srv;
	if (worker_init(&gw->worker, id) < 0) {
		snprintf(err, errlen, "cannot create worker %d: %s", id, strerror(errno));
		return -1;
	}
	gw->worker.data = gw;
	gw->worker.finish = worker_finish;
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
	};
	guard_tls_ref(srv->tls);
	gw->tls = srv->tls;
	gw->tls_listeners = calloc(conf->listen_count, sizeof *gw->tls_listeners);
	gw->plain_listeners = calloc(conf->plain_count ? conf->plain_count : 1, sizeof *gw->plain_listeners);
	if (!gw->tls_listeners || !gw->plain_listeners) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
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

static void guard_worker_teardown(struct guard_worker *gw)
{
	const struct guard_conf *conf = gw->srv->conf;
	if (gw->tls_listeners)
		for (size_t i = 0; i < conf->listen_count; i++)
			if (gw->tls_listeners[i].loop)
				listener_stop(&gw->tls_listeners[i]);
	if (gw->plain_listeners)
		for (size_t i = 0; i < conf->plain_count; i++)
			if (gw->plain_listeners[i].loop)
				listener_stop(&gw->plain_listeners[i]);
	free(gw->tls_listeners);
	free(gw->plain_listeners);
	if (gw->worker.loop) {
		/* Frees queued by the last closes run here. */
		loop_run_pending(gw->worker.loop);
	}
	worker_destroy(&gw->worker);
	guard_tls_unref(gw->tls);
}

/* --- control thread --- */

static void control_begin_stop(struct control *c, const char *why)
{
	if (c->stopping)
		return;
	c->stopping = true;
	log_info("%s: draining connections (grace %u ms)", why, c->srv->conf->timeouts.grace_ms);
	for (int i = 0; i < c->srv->worker_count; i++)
		worker_post(&c->srv->workers[i].worker, worker_stop, NULL);
	timer_arm(c->loop, &c->grace_timer, c->srv->conf->timeouts.grace_ms);
}

static void control_signal(struct io_watch *w, unsigned events)
{
	struct control *c = w->data;
	struct signalfd_siginfo si;
	while (read(c->sigfd, &si, sizeof si) == sizeof si) {
		switch (si.ssi_signo) {
		case SIGHUP:
			guard_reload(c, "SIGHUP");
			break;
		case SIGTERM:
			control_begin_stop(c, "SIGTERM");
			break;
		case SIGINT:
			control_begin_stop(c, "SIGINT");
			break;
		default:
			break;
		}
	}
}

static void control_grace_over(struct timer *t)
{
	struct control *c = t->data;
	log_warn("grace period over: closing the remaining connections");
	for (int i = 0; i < c->srv->worker_count; i++)
		worker_post(&c->srv->workers[i].worker, worker_force_stop, NULL);
}

static void control_files_changed(struct guard_watch *w)
{
	guard_reload(w->data, "files changed");
}

/* Joins the workers from a helper thread so the control loop keeps
 * answering signals while they drain. */
struct joiner {
	struct guard_server *srv;
	struct control *c;
	int efd;
};

static void *join_workers(void *arg)
{
	struct joiner *j = arg;
	for (int i = 0; i < j->srv->worker_count; i++)
		worker_join(&j->srv->workers[i].worker);
	uint64_t one = 1;
	ssize_t r = write(j->efd, &one, sizeof one);
	(void)r;
	return NULL;
}

static void control_workers_done(struct io_watch *w, unsigned events)
{
	struct control *c = w->data;
	loop_stop(c->loop);
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

	/* Workers inherit a mask with every handled signal blocked; only the
	 * control thread's signalfd sees them. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	srv.worker_count = workers > 0 ? workers : conf->workers > 0 ? conf->workers : worker_default_count();
	srv.workers = calloc((size_t)srv.worker_count, sizeof *srv.workers);
	int status = 1;
	int started = 0;
	struct control c = { .srv = &srv, .sigfd = -1 };
	if (!srv.workers)
		goto out;
	for (int i = 0; i < srv.worker_count; i++) {
		if (guard_worker_setup(&srv, &srv.workers[i], i, err, sizeof err) < 0) {
			log_error("%s", err);
			goto out;
		}
	}
	c.loop = loop_new();
	c.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!c.loop || c.sigfd < 0 || loop_watch_read(c.loop, &c.sig_watch, c.sigfd, control_signal, &c) < 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		goto out;
	}
	timer_init(&c.grace_timer, control_grace_over, &c);
	if (conf->watch_files && guard_watch_start(&c.watch, c.loop, conf, control_files_changed, &c) < 0)
		log_warn("file watching unavailable: %s; reload with SIGHUP", strerror(errno));
	for (; started < srv.worker_count; started++) {
		if (worker_start(&srv.workers[started].worker) < 0) {
			log_error("cannot start worker %d", started);
			goto out;
		}
	}
	for (size_t i = 0; i < conf->listen_count; i++)
		log_info("guard listening on %s (tls), backend %s, %d worker%s", conf->listen[i].text, b->text,
			 srv.worker_count, srv.worker_count == 1 ? "" : "s");
	for (size_t i = 0; i < conf->plain_count; i++)
		log_info("guard listening on %s (plain, %s only)", conf->plain[i].addr.text,
			 conf->plain[i].action == PLAIN_ACTION_CLOSE ? "close" : "redirect");

	struct joiner j = { .srv = &srv, .c = &c, .efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
	struct io_watch done_watch;
	pthread_t joiner;
	loop_watch_read(c.loop, &done_watch, j.efd, control_workers_done, &c);
	pthread_create(&joiner, NULL, join_workers, &j);
	loop_run(c.loop);
	pthread_join(joiner, NULL);
	loop_unwatch(c.loop, &done_watch);
	close(j.efd);
	started = 0;
	status = 0;
	log_info("stopped");
out:
	if (started) {
		for (int i = 0; i < started; i++)
			worker_post(&srv.workers[i].worker, worker_force_stop, NULL);
		for (int i = 0; i < started; i++)
			worker_join(&srv.workers[i].worker);
	}
	if (conf->watch_files)
		guard_watch_stop(&c.watch);
	if (c.loop) {
		loop_unwatch(c.loop, &c.sig_watch);
		timer_disarm(c.loop, &c.grace_timer);
		loop_free(c.loop);
	}
	if (c.sigfd >= 0)
		close(c.sigfd);
	for (int i = 0; srv.workers && i < srv.worker_count; i++)
		if (srv.workers[i].srv)
			guard_worker_teardown(&srv.workers[i]);
	free(srv.workers);
	guard_tls_unref(srv.tls);
	return status;
}
