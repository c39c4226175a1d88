/*
 * conf_errors: collects configuration problems as finished lines, so a loader
 * can go on after the first one and the caller prints them all at once.
 */
#include "conf/conf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Formats "file:line: message", or "file: message" when the problem has no
 * line (a file that cannot be opened). A message that cannot be stored for
 * lack of memory is dropped; the loader still fails, because it counts the
 * problems it reports itself. */
void conf_errors_add(struct conf_errors *errs, const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	char *text = NULL;
	int n;
	if (file && line > 0)
		n = asprintf(&text, "%s:%d: %s", file, line, msg);
	else if (file)
		n = asprintf(&text, "%s: %s", file, msg);
	else
		n = asprintf(&text, "%s", msg);
	if (n < 0)
		return;

	char **grown = realloc(errs->msgs, (errs->count + 1) * sizeof *grown);
	if (!grown) {
		free(text);
		return;
	}
	errs->msgs = grown;
	errs->msgs[errs->count++] = text;
}

void conf_errors_free(struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->count = 0;
}
