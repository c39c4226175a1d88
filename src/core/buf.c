/* buf: the byte buffer every connection uses; see buf.h for invariants. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

bool buf_ensure(struct buf *b, size_t cap)
{
	if (b->data)
		return true;
	b->data = malloc(cap);
	if (!b->data)
		return false;
	b->cap = cap;
	b->start = b->end = 0;
	return true;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = b->start = b->end = 0;
}

void buf_compact(struct buf *b)
{
	if (b->start == 0)
		return;
	size_t n = buf_len(b);
	if (n)
		memmove(b->data, b->data + b->start, n);
	b->start = 0;
	b->end = n;
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_tail(b) < n) {
		if (buf_space(b) < n)
			return false;
		buf_compact(b);
	}
	memcpy(b->data + b->end, p, n);
	b->end += n;
	return true;
}

bool buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return false;
	return buf_append(b, tmp, (size_t)n);
}
