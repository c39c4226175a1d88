/*
 * loop: one event loop per worker thread — file descriptor watches
 * (edge-triggered), timers in a min-heap, and deferred tasks that run before
 * the loop next waits. Nothing here is thread-safe: a loop is used only by the
 * thread that runs it; other threads reach it through a mailbox (worker.h).
 */
#ifndef PULLGATE_CORE_LOOP_H
#define PULLGATE_CORE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

#define IO_READ 1u
#define IO_WRITE 2u
#define IO_HUP 4u
#define IO_ERR 8u

struct io_watch;
typedef void (*io_cb)(struct io_watch *w, unsigned events);

/* Embedded in the object that owns the descriptor. */
struct io_watch {
	int fd;
	io_cb cb;
	void *data;
	bool active;
};

struct timer;
typedef void (*timer_cb)(struct timer *t);

struct timer {
	uint64_t deadline_ms; /* the heap's key: never later than due_ms */
	uint64_t due_ms;      /* when the timer fires */
	size_t heap_index; /* 0 when not armed, else 1-based position */
	timer_cb cb;
	void *data;
};

struct task;
typedef void (*task_cb)(struct task *t);

struct task {
	task_cb cb;
	void *data;
	struct task *next;
	bool queued;
};

struct loop *loop_new(void);
void loop_free(struct loop *loop);
/* Runs until loop_stop; returns 0, or -1 when the poller fails. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);
/* Runs the deferred tasks already queued (after loop_run returned, so that
 * frees queued by the last closes happen). */
void loop_run_pending(struct loop *loop);
/* The loop's clock (CLOCK_MONOTONIC, ms), refreshed once per iteration. */
uint64_t loop_now(struct loop *loop);

/* Watches fd for readability and writability, edge-triggered. */
int loop_watch(struct loop *loop, struct io_watch *w, int fd, io_cb cb, void *data);
/* Watches fd for readability only (listeners, eventfd, signalfd). */
int loop_watch_read(struct loop *loop, struct io_watch *w, int fd, io_cb cb, void *data);
void loop_unwatch(struct loop *loop, struct io_watch *w);
/* Stops watching w's descriptor, which the caller closes next and holds
 * alone: closing it takes it out of the epoll set, so no call is made. */
void loop_unwatch_closing(struct io_watch *w);

void timer_init(struct timer *t, timer_cb cb, void *data);
/* (Re)arms t to fire after ms milliseconds. Moving an armed timer later
 * only notes its new time (the heap moves it when its old time comes):
 * connections push their timeouts back on every request. */
void timer_arm(struct loop *loop, struct timer *t, uint64_t ms);
void timer_disarm(struct loop *loop, struct timer *t);
static inline bool timer_armed(const struct timer *t) { return t->heap_index != 0; }

void task_init(struct task *t, task_cb cb, void *data);
/* Queues t to run before the loop next waits; queuing twice runs it once. */
void task_defer(struct loop *loop, struct task *t);
void task_cancel(struct loop *loop, struct task *t);

/* The poller, the only code that calls epoll: loop.c uses it. */
struct poller;
struct poller *poller_new(void);
void poller_free(struct poller *p);
int poller_add(struct poller *p, int fd, bool want_write, void *ptr);
void poller_del(struct poller *p, int fd);
/* Waits up to timeout_ms (-1: forever); calls fn(ptr, events) per event. */
int poller_wait(struct poller *p, int timeout_ms, void (*fn)(void *ptr, unsigned events));

#endif
