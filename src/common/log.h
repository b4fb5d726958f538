/* SPDX-License-Identifier: MIT */
/*
 * Logging for the daemon and its modules: one line per event on stderr,
 * prefixed with the level. The level threshold is process-wide and set once
 * at start (--log-level).
 */
#pragma once

#include <stdarg.h>

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
