/*
 * daemon: the control thread of a running role. Workers block every signal
 * the daemon handles; only this thread's signalfd sees them. Draining runs on
 * the workers; a helper thread joins them so this loop keeps answering
 * signals (a second SIGTERM, a reload) while they drain.
 */
#include "core/daemon.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/log.h"

struct control {
	struct daemon *d;
	struct loop *loop;
	int sigfd;
	struct io_watch sig_watch;
	struct file_watch watch;
	bool watching;
	struct timer grace_timer;
	bool stopping;
	int done_fd;
	struct io_watch done_watch;
};

static void post_drain(struct worker *w, void *arg)
{
	((struct daemon *)arg)->role->drain_worker(w);
}

static void post_force_stop(struct worker *w, void *arg)
{
	((struct daemon *)arg)->role->force_stop_worker(w);
}

static void control_begin_stop(struct control *c, const char *why)
{
	if (c->stopping)
		return;
	c->stopping = true;
	log_info("%s: draining connections (grace %u ms)", why, c->d->grace_ms);
	if (c->d->role->on_drain)
		c->d->role->on_drain(c->d);
	for (int i = 0; i < c->d->worker_count; i++)
		worker_post(c->d->workers[i], post_drain, c->d);
	timer_arm(c->loop, &c->grace_timer, c->d->grace_ms);
}

static void control_signal(struct io_watch *w, unsigned events)
{
	struct control *c = w->data;
	struct signalfd_siginfo si;
	while (read(c->sigfd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGHUP)
			c->d->role->reload(c->d, "SIGHUP");
		else if (si.ssi_signo == SIGTERM)
			control_begin_stop(c, "SIGTERM");
		else if (si.ssi_signo == SIGINT)
			control_begin_stop(c, "SIGINT");
		else if (si.ssi_signo == SIGUSR1 && c->d->role->reopen_logs)
			c->d->role->reopen_logs(c->d);
	}
}

static void control_grace_over(struct timer *t)
{
	struct control *c = t->data;
	log_warn("grace period over: closing the remaining connections");
	for (int i = 0; i < c->d->worker_count; i++)
		worker_post(c->d->workers[i], post_force_stop, c->d);
}

static void control_files_changed(struct file_watch *w)
{
	struct control *c = w->data;
	c->d->role->reload(c->d, "files changed");
}

static void control_workers_done(struct io_watch *w, unsigned events)
{
	struct control *c = w->data;
	loop_stop(c->loop);
}

static void *join_workers(void *arg)
{
	struct control *c = arg;
	for (int i = 0; i < c->d->worker_count; i++)
		worker_join(c->d->workers[i]);
	uint64_t one = 1;
	ssize_t r = write(c->done_fd, &one, sizeof one);
	(void)r;
	return NULL;
}

static int control_setup(struct control *c, const sigset_t *mask)
{
	c->loop = loop_new();
	c->sigfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
	c->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!c->loop || c->sigfd < 0 || c->done_fd < 0 ||
	    loop_watch_read(c->loop, &c->sig_watch, c->sigfd, control_signal, c) < 0 ||
	    loop_watch_read(c->loop, &c->done_watch, c->done_fd, control_workers_done, c) < 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		return -1;
	}
	timer_init(&c->grace_timer, control_grace_over, c);
	if (c->d->watch_count) {
		if (file_watch_start(&c->watch, c->loop, c->d->watch, c->d->watch_count, control_files_changed,
				     c) < 0)
			log_warn("file watching unavailable: %s; reload with SIGHUP", strerror(errno));
		else
			c->watching = true;
	}
	return 0;
}

void daemon_watch_files(struct daemon *d, const char *const *paths, size_t count)
{
	struct control *c = d->control;
	if (!c)
		return;
	if (c->watching)
		file_watch_stop(&c->watch);
	c->watching = count && file_watch_start(&c->watch, c->loop, paths, count, control_files_changed, c) == 0;
}

static void control_teardown(struct control *c)
{
	if (c->watching)
		file_watch_stop(&c->watch);
	if (c->loop) {
		loop_unwatch(c->loop, &c->sig_watch);
		loop_unwatch(c->loop, &c->done_watch);
		timer_disarm(c->loop, &c->grace_timer);
		loop_free(c->loop);
	}
	if (c->sigfd >= 0)
		close(c->sigfd);
	if (c->done_fd >= 0)
		close(c->done_fd);
}

int daemon_run(struct daemon *d)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);

	struct control c = { .d = d, .sigfd = -1, .done_fd = -1 };
	int status = 1, set_up = 0, started = 0;
	d->workers = calloc((size_t)d->worker_count, sizeof *d->workers);
	if (!d->workers)
		goto out;
	for (; set_up < d->worker_count; set_up++) {
		char err[512] = "";
		d->workers[set_up] = d->role->setup_worker(d, set_up, err, sizeof err);
		if (!d->workers[set_up]) {
			log_error("%s", err);
			goto out;
		}
	}
	d->control = &c;
	if (control_setup(&c, &mask) < 0)
		goto out;
	if (d->role->control_start && d->role->control_start(d, c.loop) < 0)
		goto out;
	for (; started < d->worker_count; started++) {
		if (worker_start(d->workers[started]) < 0) {
			log_error("cannot start worker %d", started);
			goto out;
		}
	}
	pthread_t joiner;
	if (pthread_create(&joiner, NULL, join_workers, &c) != 0) {
		log_error("cannot start the joiner thread");
		goto out;
	}
	loop_run(c.loop);
	pthread_join(joiner, NULL);
	started = 0;
	status = 0;
	log_info("stopped");
out:
	for (int i = 0; i < started; i++)
		worker_post(d->workers[i], post_force_stop, d);
	for (int i = 0; i < started; i++)
		worker_join(d->workers[i]);
	if (d->role->control_stop && c.loop)
		d->role->control_stop(d);
	control_teardown(&c);
	d->control = NULL;
	for (int i = 0; i < set_up; i++)
		d->role->teardown_worker(d, d->workers[i]);
	free(d->workers);
	d->workers = NULL;
	return status;
}
