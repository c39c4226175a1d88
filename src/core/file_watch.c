/* file_watch: see file_watch.h. */
#include "core/file_watch.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define WATCH_SETTLE_MS 300

static void add_file(struct file_watch *w, const char *path)
{
	if (!path)
		return;
	char **items = realloc(w->files, (w->file_count + 1) * sizeof *items);
	if (!items)
		return;
	w->files = items;
	items[w->file_count] = strdup(path);
	if (!items[w->file_count])
		return;
	w->file_count++;
	char *copy = strdup(path);
	if (!copy)
		return;
	inotify_add_watch(w->fd, dirname(copy),
			  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB);
	free(copy);
}

static bool names_our_file(struct file_watch *w, const char *name)
{
	for (size_t i = 0; i < w->file_count; i++) {
		const char *base = strrchr(w->files[i], '/');
		base = base ? base + 1 : w->files[i];
		if (strcmp(base, name) == 0)
			return true;
	}
	return false;
}

static void watch_readable(struct io_watch *io, unsigned events)
{
	struct file_watch *w = io->data;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->len && names_our_file(w, ev->name))
				hit = true;
			p += sizeof *ev + ev->len;
		}
	}
	if (hit)
		timer_arm(w->loop, &w->settle, WATCH_SETTLE_MS);
}

static void watch_settled(struct timer *t)
{
	struct file_watch *w = t->data;
	w->cb(w);
}

int file_watch_start(struct file_watch *w, struct loop *loop, const char *const *paths, size_t count,
		     file_watch_cb cb, void *data)
{
	memset(w, 0, sizeof *w);
	w->loop = loop;
	w->cb = cb;
	w->data = data;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -1;
	timer_init(&w->settle, watch_settled, w);
	for (size_t i = 0; i < count; i++)
		add_file(w, paths[i]);
	if (loop_watch_read(loop, &w->io, w->fd, watch_readable, w) < 0) {
		int e = errno;
		file_watch_stop(w);
		errno = e;
		return -1;
	}
	return 0;
}

void file_watch_stop(struct file_watch *w)
{
	if (w->loop) {
		loop_unwatch(w->loop, &w->io);
		timer_disarm(w->loop, &w->settle);
	}
	if (w->fd > 0)
		close(w->fd);
	w->fd = -1;
	for (size_t i = 0; i < w->file_count; i++)
		free(w->files[i]);
	free(w->files);
	w->files = NULL;
	w->file_count = 0;
}
