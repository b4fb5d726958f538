/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

enum log_level log_threshold = LOG_LEVEL_NOTICE;

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };

int log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
		if (strcmp(name, level_names[i]) == 0)
			return i;
	}
	if (name[0] >= '0' && name[0] <= '4' && name[1] == '\0')
		return name[0] - '0';
	return -1;
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line keeps lines whole when several processes share stderr. */
	fprintf(stderr, "ubinderd: %s: %s\n", level_names[level], line);
}

bool log_limit_allow(struct log_limit *limit)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (limit->used == 0 || now - limit->window_start >= limit->window_ms) {
		if (limit->dropped)
			log_write(LOG_LEVEL_WARNING, "%lu similar lines dropped (rate limit)",
				  limit->dropped);
		limit->window_start = now;
		limit->used = 0;
		limit->dropped = 0;
	}
	if (limit->used >= limit->burst) {
		limit->dropped++;
		return false;
	}
	limit->used++;
	return true;
}
