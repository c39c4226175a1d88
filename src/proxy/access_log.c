/* access_log: see access_log.h. */
#include "proxy/access_log.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ACCESS_LINE_MAX 4096 /* below PIPE_BUF-like limits: one write, one line */
#define FIELD_MAX 512        /* each request field is cut at this length */

struct access_log {
	int fd;
	bool own_fd;             /* false for stderr */
	bool json;
	char *path;
};

static int open_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

struct access_log *access_log_open(const struct access_log_conf *conf, char *err, size_t errlen)
{
	struct access_log *log = calloc(1, sizeof *log);
	if (!log) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	log->json = conf->json;
	if (strcmp(conf->path, "stderr") == 0) {
		log->fd = STDERR_FILENO;
		return log;
	}
	log->path = strdup(conf->path);
	log->fd = log->path ? open_file(conf->path, err, errlen) : -1;
	if (log->fd < 0) {
		free(log->path);
		free(log);
		return NULL;
	}
	log->own_fd = true;
	return log;
}

int access_log_reopen(struct access_log *log, char *err, size_t errlen)
{
	if (!log->own_fd)
		return 0;
	int fd = open_file(log->path, err, errlen);
	if (fd < 0)
		return -1;
	if (dup2(fd, log->fd) < 0) {
		snprintf(err, errlen, "%s: %s", log->path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void access_log_close(struct access_log *log)
{
	if (!log)
		return;
	if (log->own_fd)
		close(log->fd);
	free(log->path);
	free(log);
}

/* A bounded appender over a line buffer. */
struct line {
	char buf[ACCESS_LINE_MAX];
	size_t len;
};

static void put(struct line *l, const char *p, size_t n)
{
	if (n > sizeof l->buf - 2 - l->len)
		n = sizeof l->buf - 2 - l->len;
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static void putf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof l->buf - 2 - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof l->buf - 2 - l->len ? (size_t)n : sizeof l->buf - 2 - l->len;
}

/* A JSON string: quotes, backslashes and control bytes escaped; bytes that
 * are not printable ASCII written as \u00XX so the line stays valid JSON
 * whatever a client sent. */
static void put_json(struct line *l, struct slice s)
{
	put(l, "\"", 1);
	size_t n = s.len < FIELD_MAX ? s.len : FIELD_MAX;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(l, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			putf(l, "\\u%04x", c);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
	put(l, "\"", 1);
}

/* A combined-format field: quotes and non-printables escaped as \xXX. */
static void put_text(struct line *l, struct slice s)
{
	if (!s.len) {
		put(l, "-", 1);
		return;
	}
	size_t n = s.len < FIELD_MAX ? s.len : FIELD_MAX;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
			putf(l, "\\x%02x", c);
		else
			put(l, (const char *)&c, 1);
	}
}

static void put_json_field(struct line *l, const char *name, const char *value)
{
	if (!value)
		return;
	putf(l, ",\"%s\":", name);
	put_json(l, slice_from_cstr(value));
}

static void write_json(struct line *l, const struct access_entry *e)
{
	time_t secs = (time_t)(e->start_us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	putf(l, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"role\":\"%s\",\"client\":", tm.tm_year + 1900,
	     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(e->start_us % 1000000 / 1000),
	     e->role);
	put_json(l, slice_from_cstr(e->client));
	put(l, ",\"host\":", 8);
	put_json(l, e->host);
	put(l, ",\"method\":", 10);
	put_json(l, e->method);
	put(l, ",\"path\":", 8);
	put_json(l, e->path);
	putf(l, ",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.3f", e->status, (unsigned long long)e->bytes,
	     e->duration_ms);
	if (e->origin_ms >= 0)
		putf(l, ",\"origin_ms\":%.3f", e->origin_ms);
	put_json_field(l, "tls", e->tls);
	put_json_field(l, "zone", e->zone);
	put_json_field(l, "cache", e->cache);
	put_json_field(l, "client_cert", e->client_cert);
	put_json_field(l, "reason", e->reason);
	if (e->user_agent.len) {
		put(l, ",\"user_agent\":", 14);
		put_json(l, e->user_agent);
	}
	if (e->referer.len) {
		put(l, ",\"referer\":", 11);
		put_json(l, e->referer);
	}
	put(l, "}", 1);
}

static void write_combined(struct line *l, const struct access_entry *e)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t secs = (time_t)(e->start_us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	putf(l, "%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"", e->client, tm.tm_mday, months[tm.tm_mon],
	     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	put_text(l, e->method);
	put(l, " ", 1);
	put_text(l, e->path);
	putf(l, " HTTP/1.1\" %d %llu \"", e->status, (unsigned long long)e->bytes);
	put_text(l, e->referer);
	put(l, "\" \"", 3);
	put_text(l, e->user_agent);
	put(l, "\" host=", 7);
	put_text(l, e->host);
	putf(l, " duration_ms=%.3f", e->duration_ms);
	if (e->origin_ms >= 0)
		putf(l, " origin_ms=%.3f", e->origin_ms);
	const char *names[] = { "tls", "zone", "cache", "client_cert", "reason" };
	const char *values[] = { e->tls, e->zone, e->cache, e->client_cert, e->reason };
	for (size_t i = 0; i < 5; i++) {
		if (!values[i])
			continue;
		putf(l, " %s=\"", names[i]);
		put_text(l, slice_from_cstr(values[i]));
		put(l, "\"", 1);
	}
}

void access_log_write(struct access_log *log, const struct access_entry *e)
{
	struct line l;
	l.len = 0;
	if (log->json)
		write_json(&l, e);
	else
		write_combined(&l, e);
	l.buf[l.len++] = '\n';
	ssize_t w = write(log->fd, l.buf, l.len);
	(void)w; /* a full disk must not stop requests; the log says nothing more */
}
