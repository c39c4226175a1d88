/* metrics: the Prometheus text exposition format; see metrics.h. */
#include "core/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(struct metrics_text *m, const char *s, size_t n)
{
	if (m->failed)
		return;
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4096;
		while (cap < m->len + n + 1)
			cap *= 2;
		char *d = realloc(m->data, cap);
		if (!d) {
			m->failed = 1;
			return;
		}
		m->data = d;
		m->cap = cap;
	}
	memcpy(m->data + m->len, s, n);
	m->len += n;
	m->data[m->len] = '\0';
}

static void appendf(struct metrics_text *m, const char *fmt, va_list ap)
{
	char tmp[1024];
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	if (n > 0)
		append(m, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void appendfv(struct metrics_text *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	appendf(m, fmt, ap);
	va_end(ap);
}

void metrics_family(struct metrics_text *m, const char *name, const char *type, const char *help)
{
	appendfv(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(struct metrics_text *m, const char *name, double value, const char *labels, ...)
{
	append(m, name, strlen(name));
	if (labels) {
		append(m, "{", 1);
		va_list ap;
		va_start(ap, labels);
		appendf(m, labels, ap);
		va_end(ap);
		append(m, "}", 1);
	}
	appendfv(m, " %.17g\n", value);
}

const char *metrics_label_escape(const char *value, char *out, size_t outlen)
{
	size_t o = 0;
	for (const char *p = value ? value : ""; *p && o + 2 < outlen; p++) {
		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = *p;
		} else if (*p == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return out;
}

void metrics_text_free(struct metrics_text *m)
{
	free(m->data);
	m->data = NULL;
	m->len = m->cap = 0;
}
