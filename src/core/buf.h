/*
 * buf: one contiguous byte buffer with a read cursor and a write cursor.
 * Invariants: 0 <= start <= end <= cap; bytes [start, end) are unread data;
 * [end, cap) is free space. The buffer owns data; buf_free releases it.
 * Pointers into the buffer stay valid until the next buf_compact or buf_free.
 */
#ifndef PULLGATE_CORE_BUF_H
#define PULLGATE_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *data;
	size_t cap;
	size_t start;
	size_t end;
};

/* Allocates cap bytes when the buffer has none; returns false on ENOMEM. */
bool buf_ensure(struct buf *b, size_t cap);
/* Releases the memory (an idle connection keeps none), into a per-thread
 * cache of buffers of the same size when there is room. */
void buf_free(struct buf *b);
/* Frees the calling thread's cache (before the thread ends). */
void buf_cache_drain(void);
/* Moves unread data to the front so all free space is at the end. */
void buf_compact(struct buf *b);
/* Appends n bytes when they fit (after compacting); false otherwise. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_append_str(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Numbers in decimal, and header lines ("name: value\r\n") in one step:
 * the per-request heads use these rather than buf_printf, whose formatting
 * showed in profiles. */
bool buf_append_u64(struct buf *b, uint64_t v);
bool buf_append_i64(struct buf *b, int64_t v);
bool buf_append_field(struct buf *b, const char *name, size_t name_len, const char *value,
		      size_t value_len);
bool buf_append_field_str(struct buf *b, const char *name, const char *value);
bool buf_append_field_u64(struct buf *b, const char *name, uint64_t v);

static inline size_t buf_len(const struct buf *b) { return b->end - b->start; }
static inline char *buf_rd(const struct buf *b) { return b->data + b->start; }
static inline char *buf_wr(const struct buf *b) { return b->data + b->end; }
/* Free space at the end, without compacting. */
static inline size_t buf_tail(const struct buf *b) { return b->cap - b->end; }
/* Free space in all, counting what compacting would reclaim. */
static inline size_t buf_space(const struct buf *b) { return b->cap - buf_len(b); }
static inline void buf_commit(struct buf *b, size_t n) { b->end += n; }
static inline void buf_consume(struct buf *b, size_t n)
{
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}
static inline void buf_reset(struct buf *b) { b->start = b->end = 0; }

#endif
