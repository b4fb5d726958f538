/* SPDX-License-Identifier: MIT */
/* Bad commands the kernel ignores with a log line (ignored.c; kinds in stats.h). */
#pragma once

#include "driver/entities.h"

/*
 * A bad command the kernel only logs: count it (kind < 0: log only) and log
 * it, at a bounded rate per process.
 */
void proc_note_ignored(struct proc *proc, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
