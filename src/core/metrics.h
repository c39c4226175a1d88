/*
 * metrics: counters that workers bump on their own slots with relaxed
 * atomics (no lock, no shared cache line between workers), summed when the
 * admin listener is scraped; and the Prometheus text format writer.
 */
#ifndef PULLGATE_CORE_METRICS_H
#define PULLGATE_CORE_METRICS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define METRIC_INC(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)
#define METRIC_ADD(x, n) __atomic_fetch_add(&(x), (n), __ATOMIC_RELAXED)
#define METRIC_GET(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* A growing text buffer for one scrape; owns its memory. */
struct metrics_text {
	char *data;
	size_t len;
	size_t cap;
	int failed; /* an allocation failed; the scrape answers 500 */
};

/* "# HELP" and "# TYPE" lines; type is "counter" or "gauge". */
void metrics_family(struct metrics_text *m, const char *name, const char *type, const char *help);
/* One sample: name{labels} value. labels is a printf format for the text
 * between the braces (may be NULL); values in it are escaped by the caller
 * with metrics_label_escape. */
void metrics_sample(struct metrics_text *m, const char *name, double value, const char *labels, ...)
	__attribute__((format(printf, 4, 5)));
/* Escapes a label value (backslash, quote, newline) into out. */
const char *metrics_label_escape(const char *value, char *out, size_t outlen);
void metrics_text_free(struct metrics_text *m);

#endif
