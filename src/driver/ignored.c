/* SPDX-License-Identifier: MIT */
/* Bad commands the kernel only logs: counted per process and driver, logged at a bounded rate. */
#include <stdarg.h>
#include <stdio.h>

#include "common/log.h"
#include "driver/ignored.h"

const char *const ignored_kind_names[IGNORED_COUNT] = {
	[IGNORED_FREE_BUFFER_UNKNOWN] = "free_buffer_unknown",
	[IGNORED_FREE_BUFFER_NOT_DELIVERED] = "free_buffer_not_delivered",
	[IGNORED_REFCOUNT_BAD_HANDLE] = "refcount_bad_handle",
	[IGNORED_REFCOUNT_UNDERFLOW] = "refcount_underflow",
	[IGNORED_DONE_UNKNOWN_NODE] = "done_unknown_node",
	[IGNORED_DONE_COOKIE_MISMATCH] = "done_cookie_mismatch",
	[IGNORED_DONE_NOT_PENDING] = "done_not_pending",
	[IGNORED_DEATH_BAD_HANDLE] = "death_bad_handle",
	[IGNORED_DEATH_ALREADY_SET] = "death_already_set",
	[IGNORED_DEATH_NOT_ACTIVE] = "death_not_active",
	[IGNORED_DEATH_COOKIE_MISMATCH] = "death_cookie_mismatch",
	[IGNORED_DEAD_BINDER_DONE_UNKNOWN] = "dead_binder_done_unknown",
	[IGNORED_LOOPER_MISUSE] = "looper_misuse",
};

/* Log lines per process about ignored commands before we go quiet. */
#define IGNORED_LOG_BURST 20u

void proc_note_ignored(struct proc *proc, int kind, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (kind >= 0) {
		proc->stats.ignored[kind]++;
		proc->driver->stats.ignored[kind]++;
	}
	if (proc->stats.ignored_logged++ >= IGNORED_LOG_BURST)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_notice("%s: proc %d: %s%s", proc->context->name, proc->id.pid, text,
		   proc->stats.ignored_logged == IGNORED_LOG_BURST
			   ? " (further ignored commands of this process are not logged)"
			   : "");
}
