/* SPDX-License-Identifier: MIT */
/*
 * Logging for the daemon and its modules: one line per event on stderr,
 * prefixed with the level. The level threshold is process-wide and set once
 * at start (--log-level).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING = 1,
	LOG_LEVEL_NOTICE = 2, /* peer misbehaviour the driver ignores, lifecycle */
	LOG_LEVEL_INFO = 3,
	LOG_LEVEL_DEBUG = 4,
};

extern enum log_level log_threshold;

/* Parses "error", "warning", "notice", "info", "debug" or 0-4. -1 if invalid. */
int log_level_parse(const char *name);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)	 log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)                                           \
	do {                                                      \
		if (log_threshold >= LOG_LEVEL_NOTICE)            \
			log_write(LOG_LEVEL_NOTICE, __VA_ARGS__); \
	} while (0)
#define log_info(...)                                           \
	do {                                                    \
		if (log_threshold >= LOG_LEVEL_INFO)            \
			log_write(LOG_LEVEL_INFO, __VA_ARGS__); \
	} while (0)
#define log_debug(...)                                           \
	do {                                                     \
		if (log_threshold >= LOG_LEVEL_DEBUG)            \
			log_write(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

/*
 * A rate limit for one kind of line: at most @burst lines per @window_ms;
 * the first line after a window in which some were dropped says how many.
 * Not thread-safe: for the event loop's thread.
 */
struct log_limit {
	unsigned int window_ms;
	unsigned int burst;
	uint64_t window_start;
	unsigned int used;
	unsigned long dropped;
};

#define LOG_LIMIT_INIT(window_ms, burst)      \
	{                                     \
		(window_ms), (burst), 0, 0, 0 \
	}

/* Whether a line may be written now (and, if so, reports what was dropped). */
bool log_limit_allow(struct log_limit *limit);

/* log_write at most 10 times a second from this call site. */
#define log_limited(level, ...)                                                \
	do {                                                                   \
		static struct log_limit log_limit_ = LOG_LIMIT_INIT(1000, 10); \
		if (log_threshold >= (level) && log_limit_allow(&log_limit_))  \
			log_write((level), __VA_ARGS__);                       \
	} while (0)
