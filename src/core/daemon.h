/*
 * daemon: the control side of a running role — worker threads, signals
 * (SIGHUP reload, SIGTERM/SIGINT drain then stop, SIGUSR1 reopen logs), the
 * grace period, and
 * file watching. The role supplies its workers and what draining and
 * reloading mean for it.
 */
#ifndef PULLGATE_CORE_DAEMON_H
#define PULLGATE_CORE_DAEMON_H

#include <stdint.h>

#include "core/file_watch.h"
#include "core/worker.h"

struct daemon;

struct daemon_role {
	const char *name; /* "guard", "edge" */
	/* Creates worker index's state and listeners (control thread, before
	 * any worker runs) and returns its worker, or NULL with err set. */
	struct worker *(*setup_worker)(struct daemon *d, int index, char *err, size_t errlen);
	/* On the worker's thread: stop accepting, let sessions finish, and
	 * stop the loop once nothing is left. */
	void (*drain_worker)(struct worker *w);
	/* On the worker's thread: the grace period is over; close everything. */
	void (*force_stop_worker)(struct worker *w);
	/* Control thread, after the worker's thread ended. */
	void (*teardown_worker)(struct daemon *d, struct worker *w);
	/* SIGHUP or a watched file changed. */
	void (*reload)(struct daemon *d, const char *why);
	/* Optional: services on the control loop (the admin listener), started
	 * before the workers (0, or -1 after logging why) and stopped last. */
	int (*control_start)(struct daemon *d, struct loop *control_loop);
	void (*control_stop)(struct daemon *d);
	/* Optional: draining has begun (health checks start failing). */
	void (*on_drain)(struct daemon *d);
	/* Optional: SIGUSR1, reopen log files (after logrotate). */
	void (*reopen_logs)(struct daemon *d);
};

struct daemon {
	const struct daemon_role *role;
	void *data;                   /* the role's server state */
	int worker_count;
	struct worker **workers;
	uint32_t grace_ms;
	const char *const *watch;     /* files whose change triggers a reload */
	size_t watch_count;
	void *control;                /* the control thread's state, while running */
	void *services;               /* the role's control-thread services (opaque here) */
};

/* From the control thread (a reload): watch these files instead (copied). */
void daemon_watch_files(struct daemon *d, const char *const *paths, size_t count);

/* Sets up the workers, runs until SIGTERM/SIGINT and the drain that follows,
 * and tears down. Returns 0, or 1 when start-up failed (logged). */
int daemon_run(struct daemon *d);

#endif
