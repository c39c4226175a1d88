/* file_watch: notices changes to a set of files with inotify on their
 * folders — editors and deploy tools replace files by rename — and reports
 * them once per burst of events. */
#ifndef PULLGATE_CORE_FILE_WATCH_H
#define PULLGATE_CORE_FILE_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"

struct file_watch;
typedef void (*file_watch_cb)(struct file_watch *w);

struct file_watch {
	int fd;
	struct io_watch io;
	struct timer settle; /* waits for a burst of writes to end */
	struct loop *loop;
	char **files;        /* copies of the watched paths */
	size_t file_count;
	file_watch_cb cb;
	void *data;
};

/* Watches paths[0..count) (NULL entries are skipped; the strings are
 * copied). Returns -1 with errno set. */
int file_watch_start(struct file_watch *w, struct loop *loop, const char *const *paths, size_t count,
		     file_watch_cb cb, void *data);
void file_watch_stop(struct file_watch *w);

#endif
