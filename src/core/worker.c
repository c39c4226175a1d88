/* worker: a thread with its loop and mailbox; see worker.h. */
#include "core/worker.h"

#include "core/buf.h"

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void mailbox_drain(struct io_watch *watch, unsigned events)
{
	struct worker *w = watch->data;
	uint64_t v;
	while (read(w->mailbox_fd, &v, sizeof v) > 0)
		;
	pthread_mutex_lock(&w->lock);
	struct worker_msg *list = w->inbox;
	w->inbox = NULL;
	pthread_mutex_unlock(&w->lock);
	/* The inbox is a stack; run messages in the order they were posted. */
	struct worker_msg *rev = NULL;
	while (list) {
		struct worker_msg *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	while (rev) {
		struct worker_msg *m = rev;
		rev = m->next;
		m->fn(w, m->arg);
		free(m);
	}
}

int worker_init(struct worker *w, int id)
{
	w->id = id;
	w->inbox = NULL;
	w->loop = loop_new();
	w->mailbox_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!w->loop || w->mailbox_fd < 0)
		return -1;
	pthread_mutex_init(&w->lock, NULL);
	return loop_watch_read(w->loop, &w->mailbox_watch, w->mailbox_fd, mailbox_drain, w);
}

void worker_destroy(struct worker *w)
{
	if (w->loop) {
		loop_unwatch(w->loop, &w->mailbox_watch);
		loop_free(w->loop);
		w->loop = NULL;
	}
	if (w->mailbox_fd >= 0)
		close(w->mailbox_fd);
	w->mailbox_fd = -1;
	while (w->inbox) {
		struct worker_msg *m = w->inbox;
		w->inbox = m->next;
		free(m);
	}
	pthread_mutex_destroy(&w->lock);
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	if (w->start)
		w->start(w);
	loop_run(w->loop);
	if (w->finish)
		w->finish(w);
	buf_cache_drain();
	return NULL;
}

int worker_start(struct worker *w)
{
	return pthread_create(&w->thread, NULL, worker_thread, w) == 0 ? 0 : -1;
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

int worker_post(struct worker *w, worker_fn fn, void *arg)
{
	struct worker_msg *m = malloc(sizeof *m);
	if (!m)
		return -1;
	m->fn = fn;
	m->arg = arg;
	pthread_mutex_lock(&w->lock);
	m->next = w->inbox;
	w->inbox = m;
	pthread_mutex_unlock(&w->lock);
	uint64_t one = 1;
	ssize_t r = write(w->mailbox_fd, &one, sizeof one);
	(void)r;
	return 0;
}

int worker_default_count(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}
