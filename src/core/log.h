/*
 * log: leveled diagnostics to stderr, one line each, safe from any thread.
 * Only boundaries (main, the loop, role setup) log; lower layers return errors.
 */
#ifndef PULLGATE_CORE_LOG_H
#define PULLGATE_CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Ignored once the level is locked (a --log-level beats the file's). */
void log_set_level(enum log_level level);
void log_lock_level(void);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns -1 when unknown. */
int log_level_parse(const char *name);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_get_level() <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
