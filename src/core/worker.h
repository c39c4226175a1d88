/*
 * worker: a thread that runs one event loop. Other threads reach it only
 * through its mailbox (a locked list and an eventfd): worker_post queues a
 * function that runs on the worker's own thread.
 */
#ifndef PULLGATE_CORE_WORKER_H
#define PULLGATE_CORE_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "core/loop.h"

struct worker;
typedef void (*worker_fn)(struct worker *w, void *arg);

struct worker_msg {
	worker_fn fn;
	void *arg;
	struct worker_msg *next;
};

struct worker {
	int id;
	pthread_t thread;
	struct loop *loop;
	int mailbox_fd;
	struct io_watch mailbox_watch;
	pthread_mutex_t lock;
	struct worker_msg *inbox;
	void *data;                   /* the role's per-worker state */
	void (*start)(struct worker *w); /* runs on the thread before the loop */
	void (*finish)(struct worker *w); /* runs on the thread after the loop */
};

int worker_init(struct worker *w, int id);
void worker_destroy(struct worker *w);
int worker_start(struct worker *w);
void worker_join(struct worker *w);
/* Thread-safe; fn(w, arg) runs on w's thread. Returns -1 on ENOMEM. */
int worker_post(struct worker *w, worker_fn fn, void *arg);

/* The number of cores this process may run on. */
int worker_default_count(void);

#endif
