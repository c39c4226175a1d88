/* listener: accepts connections on a non-blocking listening socket owned by
 * one worker, and hands each new descriptor to its callback. */
#ifndef PULLGATE_CORE_LISTENER_H
#define PULLGATE_CORE_LISTENER_H

#include <sys/socket.h>

#include "core/loop.h"

struct listener;
typedef void (*listener_cb)(struct listener *l, int fd, const struct sockaddr_storage *peer);

struct listener {
	int fd;
	struct io_watch watch;
	listener_cb on_accept;
	void *data;
	const void *cookie; /* the owner's per-listener settings */
	struct loop *loop;
};

/* Takes fd. */
int listener_start(struct listener *l, struct loop *loop, int fd, listener_cb cb, void *data);
/* Stops accepting and closes the socket. */
void listener_stop(struct listener *l);
/* Accepts what is already queued, then closes: connections the kernel had
 * queued on this socket would otherwise be reset when it closes (with
 * SO_REUSEPORT, a replacement process is listening beside it). */
void listener_drain_and_stop(struct listener *l);

#endif
