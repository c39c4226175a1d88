/* buf: the byte buffer every connection uses; see buf.h for invariants. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A small per-thread cache of released buffers by size: connections drop
 * their buffers whenever they idle, and keep-alive traffic would otherwise
 * call malloc and free for every request. Bounded per size. */
#define BUF_CACHE_SIZES 8 /* a request in flight uses five sizes, six with the edge cache key */
#define BUF_CACHE_DEPTH 8 /* enough for request churn; more would only hold memory */

struct buf_cache {
	size_t cap;
	unsigned count;
	void *head; /* each block starts with the next pointer */
};

static __thread struct buf_cache buf_caches[BUF_CACHE_SIZES];

bool buf_ensure(struct buf *b, size_t cap)
{
	if (b->data)
		return true;
	for (int i = 0; i < BUF_CACHE_SIZES; i++) {
		struct buf_cache *c = &buf_caches[i];
		if (c->cap == cap && c->head) {
			b->data = c->head;
			memcpy(&c->head, b->data, sizeof c->head);
			c->count--;
			b->cap = cap;
			b->start = b->end = 0;
			return true;
		}
	}
	b->data = malloc(cap);
	if (!b->data)
		return false;
	b->cap = cap;
	b->start = b->end = 0;
	return true;
}

void buf_free(struct buf *b)
{
	if (b->data && b->cap >= sizeof(void *)) {
		struct buf_cache *slot = NULL;
		for (int i = 0; i < BUF_CACHE_SIZES && !slot; i++)
			if (buf_caches[i].cap == b->cap || (buf_caches[i].cap == 0 && !buf_caches[i].head))
				slot = &buf_caches[i];
		if (slot && slot->count < BUF_CACHE_DEPTH) {
			slot->cap = b->cap;
			memcpy(b->data, &slot->head, sizeof slot->head);
			slot->head = b->data;
			slot->count++;
			b->data = NULL;
		}
	}
	free(b->data);
	b->data = NULL;
	b->cap = b->start = b->end = 0;
}

void buf_cache_drain(void)
{
	for (int i = 0; i < BUF_CACHE_SIZES; i++) {
		struct buf_cache *c = &buf_caches[i];
		while (c->head) {
			void *next;
			memcpy(&next, c->head, sizeof next);
			free(c->head);
			c->head = next;
		}
		c->count = 0;
		c->cap = 0;
	}
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

bool buf_append_field(struct buf *b, const char *name, size_t name_len, const char *value,
		      size_t value_len)
{
	size_t n = name_len + value_len + 4;
	if (buf_tail(b) < n) {
		if (buf_space(b) < n)
			return false;
		buf_compact(b);
	}
	char *p = b->data + b->end;
	memcpy(p, name, name_len);
	p += name_len;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, value, value_len);
	p += value_len;
	*p++ = '\r';
	*p = '\n';
	b->end += n;
	return true;
}

bool buf_append_field_str(struct buf *b, const char *name, const char *value)
{
	return buf_append_field(b, name, strlen(name), value, strlen(value));
}

/* v's decimal digits, ending at end; returns where they start. */
static char *u64_digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

bool buf_append_field_u64(struct buf *b, const char *name, uint64_t v)
{
	char tmp[20];
	char *p = u64_digits(v, tmp + sizeof tmp);
	return buf_append_field(b, name, strlen(name), p, (size_t)(tmp + sizeof tmp - p));
}

bool buf_append_u64(struct buf *b, uint64_t v)
{
	char tmp[20];
	char *p = u64_digits(v, tmp + sizeof tmp);
	return buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

bool buf_append_i64(struct buf *b, int64_t v)
{
	if (v >= 0)
		return buf_append_u64(b, (uint64_t)v);
	return buf_append(b, "-", 1) && buf_append_u64(b, (uint64_t)0 - (uint64_t)v);
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
