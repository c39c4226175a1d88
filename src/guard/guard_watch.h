/* guard_watch: notices changes to the files a TLS set is built from
 * (certificates, keys, CAs, CRLs) with inotify on their folders — editors and
 * deploy tools replace files by rename — and reports them once per burst. */
#ifndef PULLGATE_GUARD_GUARD_WATCH_H
#define PULLGATE_GUARD_GUARD_WATCH_H

#include "conf/guard_conf.h"
#include "core/loop.h"

struct guard_watch;
typedef void (*guard_watch_cb)(struct guard_watch *w);

struct guard_watch {
	int fd;
	struct io_watch io;
	struct timer settle;    /* waits for a burst of writes to end */
	struct loop *loop;
	struct str_list files;  /* absolute or config-relative resolved paths */
	guard_watch_cb cb;
	void *data;
};

int guard_watch_start(struct guard_watch *w, struct loop *loop, const struct guard_conf *conf,
		      guard_watch_cb cb, void *data);
void guard_watch_stop(struct guard_watch *w);

#endif
