/*
 * The listener: a TCP connection it accepts has TCP_NODELAY, which the
 * listener sets once on its listening socket for every accepted one to
 * inherit (src/core/listener.c).
 */
#include "unit.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "core/listener.h"
#include "core/net.h"

struct accepted {
	struct loop *loop;
	int count;
	int nodelay; /* of the last accepted socket; -1 until one is */
};

static void on_accept(struct listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct accepted *a = l->data;
	int v = -1;
	socklen_t len = sizeof v;
	if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0)
		a->nodelay = v;
	a->count++;
	close(fd);
	loop_stop(a->loop);
}

static void deadline_fired(struct timer *t)
{
	loop_stop(t->data);
}

TEST(listener_accepted_tcp_sockets_have_nodelay)
{
	struct sockaddr_storage addr, bound;
	socklen_t len, bound_len = sizeof bound;
	char err[128];
	REQUIRE(net_resolve("127.0.0.1", 0, &addr, &len, err, sizeof err) == 0);
	int fd = net_listen(&addr, len, 16, err, sizeof err);
	REQUIRE(fd >= 0);
	REQUIRE(getsockname(fd, (struct sockaddr *)&bound, &bound_len) == 0);
	struct loop *loop = loop_new();
	REQUIRE(loop);
	struct accepted a = {.loop = loop, .nodelay = -1};
	struct listener l = {0};
	REQUIRE(listener_start(&l, loop, fd, on_accept, &a) == 0);

	int c = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(c >= 0);
	CHECK(connect(c, (struct sockaddr *)&bound, bound_len) == 0);
	struct timer deadline;
	timer_init(&deadline, deadline_fired, loop);
	timer_arm(loop, &deadline, 5000); /* the test fails rather than hangs */
	CHECK(loop_run(loop) == 0);
	timer_disarm(loop, &deadline);

	CHECK_EQ_INT(a.count, 1);
	CHECK_EQ_INT(a.nodelay, 1);
	close(c);
	listener_stop(&l);
	loop_free(loop);
}
