/* SPDX-License-Identifier: MIT */
/* BR_DEAD_REPLY by cause: counted per process and driver, logged at debug level. */
#include "common/log.h"
#include "driver/dead_reply.h"

const char *const dead_reply_cause_names[DEAD_REPLY_CAUSES] = {
	[DEAD_NODE_RELEASED] = "node_released",
	[DEAD_NO_MANAGER] = "no_manager",
	[DEAD_CALLER_GONE] = "caller_gone",
	[DEAD_TARGET_RELEASED] = "target_released",
	[DEAD_TARGET_NO_REGION] = "target_no_region",
	[DEAD_TARGET_THREAD_GONE] = "target_thread_gone",
	[DEAD_SENDER_GONE] = "sender_gone",
	[DEAD_CALLER_GONE_COPY] = "caller_gone_during_copy",
	[DEAD_SERVER_THREAD_EXIT] = "server_thread_exit",
	[DEAD_SERVER_EXIT] = "server_exit",
	[DEAD_THREAD_TODO] = "thread_todo_released",
	[DEAD_PROC_TODO] = "proc_todo_released",
};

void dead_reply_note(struct driver *drv, struct proc *reader, pid_t peer_pid, uint64_t debug_id,
		     enum dead_reply_cause cause)
{
	drv->stats.dead_replies[cause]++;
	if (reader)
		reader->stats.dead_replies[cause]++;
	log_debug("%s: transaction %llu: BR_DEAD_REPLY to proc %d (peer %d): %s",
		  reader ? reader->context->name : "binder", (unsigned long long)debug_id,
		  reader ? reader->id.pid : 0, peer_pid, dead_reply_cause_names[cause]);
}
