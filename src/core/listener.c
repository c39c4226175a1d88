/* listener: the accept loop; see listener.h. */
#include "core/listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static void listener_ready(struct io_watch *w, unsigned events)
{
	struct listener *l = w->data;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept: %s", strerror(errno));
			/* EMFILE and friends: the next connection's edge retries. */
			return;
		}
		l->on_accept(l, fd, &peer);
	}
}

int listener_start(struct listener *l, struct loop *loop, int fd, listener_cb cb, void *data)
{
	/* Accepted TCP sockets inherit TCP_NODELAY from their listener (Linux):
	 * set once here rather than once per connection. */
	struct sockaddr_storage addr;
	socklen_t len = sizeof addr;
	if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0 &&
	    (addr.ss_family == AF_INET || addr.ss_family == AF_INET6)) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	l->fd = fd;
	l->on_accept = cb;
	l->data = data;
	l->loop = loop;
	return loop_watch_read(loop, &l->watch, fd, listener_ready, l);
}

void listener_stop(struct listener *l)
{
	if (l->fd < 0)
		return;
	loop_unwatch(l->loop, &l->watch);
	close(l->fd);
	l->fd = -1;
}

void listener_drain_and_stop(struct listener *l)
{
	if (l->fd < 0)
		return;
	listener_ready(&l->watch, IO_READ);
	listener_stop(l);
}
