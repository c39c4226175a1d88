/* poller_epoll: the one file that calls epoll. Every descriptor is
 * registered edge-triggered once; readiness is tracked by its owner. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/loop.h"

#define POLLER_BATCH 256

struct poller {
	int epfd;
	struct epoll_event events[POLLER_BATCH];
};

struct poller *poller_new(void)
{
	struct poller *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		free(p);
		return NULL;
	}
	return p;
}

void poller_free(struct poller *p)
{
	if (!p)
		return;
	close(p->epfd);
	free(p);
}

int poller_add(struct poller *p, int fd, bool want_write, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = ptr };
	if (want_write)
		ev.events |= EPOLLOUT;
	return epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void poller_del(struct poller *p, int fd)
{
	epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int poller_wait(struct poller *p, int timeout_ms, void (*fn)(void *ptr, unsigned events))
{
	int n = epoll_wait(p->epfd, p->events, POLLER_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		uint32_t e = p->events[i].events;
		unsigned ev = 0;
		if (e & EPOLLIN)
			ev |= IO_READ;
		if (e & EPOLLOUT)
			ev |= IO_WRITE;
		if (e & (EPOLLHUP | EPOLLRDHUP))
			ev |= IO_HUP | IO_READ;
		if (e & EPOLLERR)
			ev |= IO_ERR | IO_READ | IO_WRITE;
		fn(p->events[i].data.ptr, ev);
	}
	return n;
}
