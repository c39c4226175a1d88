/*
 * loop: watches, a timer min-heap and deferred tasks around the poller.
 * Objects that close during an iteration must stay allocated until its end
 * (free them from a deferred task): the poller's batch may still name them.
 */
#include "core/loop.h"

#include <stdlib.h>
#include <time.h>

struct loop {
	struct poller *poller;
	bool stopping;
	uint64_t now_ms;
	struct timer **heap; /* 1-based */
	size_t heap_len;
	size_t heap_cap;
	struct task *tasks_head;
	struct task *tasks_tail;
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof *loop);
	if (!loop)
		return NULL;
	loop->poller = poller_new();
	loop->heap_cap = 256;
	loop->heap = calloc(loop->heap_cap + 1, sizeof *loop->heap);
	if (!loop->poller || !loop->heap) {
		poller_free(loop->poller);
		free(loop->heap);
		free(loop);
		return NULL;
	}
	loop->now_ms = monotonic_ms();
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	poller_free(loop->poller);
	free(loop->heap);
	free(loop);
}

uint64_t loop_now(struct loop *loop) { return loop->now_ms; }
void loop_stop(struct loop *loop) { loop->stopping = true; }

static int watch_add(struct loop *loop, struct io_watch *w, int fd, io_cb cb, void *data,
		     bool want_write)
{
	w->fd = fd;
	w->cb = cb;
	w->data = data;
	if (poller_add(loop->poller, fd, want_write, w) < 0)
		return -1;
	w->active = true;
	return 0;
}

int loop_watch(struct loop *loop, struct io_watch *w, int fd, io_cb cb, void *data)
{
	return watch_add(loop, w, fd, cb, data, true);
}

int loop_watch_read(struct loop *loop, struct io_watch *w, int fd, io_cb cb, void *data)
{
	return watch_add(loop, w, fd, cb, data, false);
}

void loop_unwatch(struct loop *loop, struct io_watch *w)
{
	if (!w->active)
		return;
	poller_del(loop->poller, w->fd);
	w->active = false;
}

void loop_unwatch_closing(struct io_watch *w)
{
	w->active = false;
}

/* --- timers: a binary min-heap on deadline_ms --- */

static void heap_set(struct loop *loop, size_t i, struct timer *t)
{
	loop->heap[i] = t;
	t->heap_index = i;
}

static void heap_up(struct loop *loop, size_t i)
{
	struct timer *t = loop->heap[i];
	while (i > 1 && loop->heap[i / 2]->deadline_ms > t->deadline_ms) {
		heap_set(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct loop *loop, size_t i)
{
	struct timer *t = loop->heap[i];
	for (;;) {
		size_t c = i * 2;
		if (c > loop->heap_len)
			break;
		if (c < loop->heap_len && loop->heap[c + 1]->deadline_ms < loop->heap[c]->deadline_ms)
			c++;
		if (loop->heap[c]->deadline_ms >= t->deadline_ms)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void timer_init(struct timer *t, timer_cb cb, void *data)
{
	t->deadline_ms = t->due_ms = 0;
	t->heap_index = 0;
	t->cb = cb;
	t->data = data;
}

void timer_disarm(struct loop *loop, struct timer *t)
{
	size_t i = t->heap_index;
	if (!i)
		return;
	struct timer *last = loop->heap[loop->heap_len--];
	t->heap_index = 0;
	if (last == t)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_index);
}

void timer_arm(struct loop *loop, struct timer *t, uint64_t ms)
{
	uint64_t due = loop->now_ms + ms;
	t->due_ms = due;
	if (t->heap_index) {
		if (due < t->deadline_ms) {
			t->deadline_ms = due;
			heap_up(loop, t->heap_index);
		}
		return;
	}
	if (loop->heap_len == loop->heap_cap) {
		size_t cap = loop->heap_cap * 2;
		struct timer **h = realloc(loop->heap, (cap + 1) * sizeof *h);
		if (!h)
			abort(); /* a timer that cannot be armed would hang a connection */
		loop->heap = h;
		loop->heap_cap = cap;
	}
	t->deadline_ms = due;
	loop->heap[++loop->heap_len] = t;
	t->heap_index = loop->heap_len;
	heap_up(loop, loop->heap_len);
}

static void timers_run(struct loop *loop)
{
	while (loop->heap_len && loop->heap[1]->deadline_ms <= loop->now_ms) {
		struct timer *t = loop->heap[1];
		if (t->due_ms > loop->now_ms) {
			/* Moved later since it was placed: place it again. */
			t->deadline_ms = t->due_ms;
			heap_down(loop, 1);
			continue;
		}
		timer_disarm(loop, t);
		t->cb(t);
	}
}

static int timers_next_wait(struct loop *loop)
{
	if (loop->tasks_head)
		return 0;
	if (!loop->heap_len)
		return 1000;
	uint64_t d = loop->heap[1]->deadline_ms;
	if (d <= loop->now_ms)
		return 0;
	uint64_t w = d - loop->now_ms;
	return w > 1000 ? 1000 : (int)w;
}

/* --- deferred tasks --- */

void task_init(struct task *t, task_cb cb, void *data)
{
	t->cb = cb;
	t->data = data;
	t->next = NULL;
	t->queued = false;
}

void task_defer(struct loop *loop, struct task *t)
{
	if (t->queued)
		return;
	t->queued = true;
	t->next = NULL;
	if (loop->tasks_tail)
		loop->tasks_tail->next = t;
	else
		loop->tasks_head = t;
	loop->tasks_tail = t;
}

void task_cancel(struct loop *loop, struct task *t)
{
	if (!t->queued)
		return;
	struct task **pp = &loop->tasks_head, *prev = NULL;
	while (*pp && *pp != t) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp) {
		*pp = t->next;
		if (loop->tasks_tail == t)
			loop->tasks_tail = prev;
	}
	t->queued = false;
	t->next = NULL;
}

static void tasks_run(struct loop *loop)
{
	/* Tasks queued while running wait for the next round, so a task that
	 * re-queues itself cannot starve the poller. */
	struct task *list = loop->tasks_head;
	loop->tasks_head = loop->tasks_tail = NULL;
	while (list) {
		struct task *t = list;
		list = t->next;
		t->next = NULL;
		t->queued = false;
		t->cb(t);
	}
}

static void dispatch(void *ptr, unsigned events)
{
	struct io_watch *w = ptr;
	if (w->active)
		w->cb(w, events);
}

void loop_run_pending(struct loop *loop)
{
	while (loop->tasks_head)
		tasks_run(loop);
}

int loop_run(struct loop *loop)
{
	while (!loop->stopping) {
		int wait = timers_next_wait(loop);
		if (poller_wait(loop->poller, wait, dispatch) < 0)
			return -1;
		loop->now_ms = monotonic_ms();
		timers_run(loop);
		tasks_run(loop);
	}
	return 0;
}
