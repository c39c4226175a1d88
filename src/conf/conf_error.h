/*
 * conf_errors: the list of configuration problems one load found, each
 * already formatted as "file:line: message", so a run reports all of them.
 */
#ifndef PULLGATE_CONF_CONF_ERROR_H
#define PULLGATE_CONF_CONF_ERROR_H

#include <stddef.h>

struct conf_errors {
	char **msgs;
	size_t count;
};

void conf_errors_add(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void conf_errors_free(struct conf_errors *errs);

#endif
