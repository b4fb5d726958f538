/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"

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

void proc_poll_dirty(struct proc *proc)
{
	/* Evaluated lazily: cheap enough to do right away. */
	proc_poll_update(proc);
}

void proc_poll_update(struct proc *proc)
{
	bool readable;
	struct thread *thread;

	/* Readiness costs a scan of the threads: only for processes that poll. */
	if (!proc->id.wants_poll)
		return;
	readable = !work_list_empty(&proc->todo);
	if (!readable) {
		/*
		 * Own work of a looper thread that is not inside a read: a poller's.
		 * (The kernel looks at the polling thread only; a non-looper's
		 * queue never makes a poller readable.)
		 */
		TAILQ_FOREACH(thread, &proc->threads, proc_entry) {
			if (thread->process_todo && thread->bwr.phase == BWR_IDLE &&
			    (thread->looper & (LOOPER_ENTERED | LOOPER_REGISTERED))) {
				readable = true;
				break;
			}
		}
	}
	if (readable == proc->poll_readable || proc->is_dead)
		return;
	proc->poll_readable = readable;
	if (proc->driver->ops->poll_changed)
		proc->driver->ops->poll_changed(proc->session, readable);
}

void proc_enqueue_work(struct proc *proc, struct work *w)
{
	work_enqueue(&proc->todo, w);
	proc_poll_dirty(proc);
}

struct thread *proc_select_thread(struct proc *proc)
{
	struct thread *thread = TAILQ_FIRST(&proc->waiting_threads);

	if (thread) {
		TAILQ_REMOVE(&proc->waiting_threads, thread, waiting_entry);
		thread->on_waiting_list = false;
	}
	return thread;
}

void proc_wakeup_thread(struct proc *proc, struct thread *thread)
{
	if (thread)
		thread_wakeup(thread);
	else
		proc_poll_dirty(proc);
}

void proc_wakeup(struct proc *proc)
{
	proc_wakeup_thread(proc, proc_select_thread(proc));
}

void proc_release_work(struct proc *proc, struct work_list *list)
{
	struct driver *drv = proc->driver;
	struct work *w;

	while ((w = work_list_pop(list)) != NULL) {
		switch (w->type) {
		case WORK_TRANSACTION: {
			struct transaction *t =
				(struct transaction *)((char *)w -
						       offsetof(struct transaction, work));

			if (t->buffer && t->buffer->target_node && !(t->flags & TF_ONE_WAY)) {
				transaction_send_failed_reply(t, BR_DEAD_REPLY);
			} else {
				log_debug("undelivered transaction %llu",
					  (unsigned long long)t->debug_id);
				transaction_free(t);
			}
			break;
		}
		case WORK_RETURN_ERROR:
			break; /* embedded in its thread */
		case WORK_TRANSACTION_COMPLETE:
		case WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT:
			free(w);
			break;
		case WORK_DEAD_BINDER_AND_CLEAR:
		case WORK_CLEAR_DEATH_NOTIFICATION:
			ref_death_free(drv, (struct ref_death *)w);
			break;
		case WORK_NODE:
			break; /* embedded in its node */
		case WORK_DEAD_BINDER:
			/* Owned by its ref, which releases it. */
			break;
		}
	}
	proc_poll_dirty(proc);
}

void proc_inc_tmpref(struct proc *proc)
{
	proc->tmp_ref++;
}

static void proc_free(struct proc *proc)
{
	struct driver *drv = proc->driver;

	txn_buffer_release_all(proc);
	range_alloc_deinit(&proc->alloc);
	region_deinit(&proc->region);
	if (proc->outbox)
		munmap((void *)proc->outbox, proc->outbox_size);
	TAILQ_REMOVE(&drv->procs, proc, driver_entry);
	drv->stats.procs_deleted++;
	free(proc);
}

void proc_dec_tmpref(struct proc *proc)
{
	proc->tmp_ref--;
	if (proc->is_dead && proc->tmp_ref == 0 && proc->fetches_into == 0)
		proc_free(proc);
}

struct proc *driver_proc_open(struct driver *drv, struct context *ctx,
			      const struct proc_identity *id, void *session)
{
	struct proc *proc = calloc(1, sizeof(*proc));

	if (!proc)
		return NULL;
	proc->driver = drv;
	proc->context = ctx;
	proc->debug_id = driver_next_id(drv);
	proc->id = *id;
	proc->session = session;
	TAILQ_INIT(&proc->threads);
	TAILQ_INIT(&proc->waiting_threads);
	work_list_init(&proc->todo);
	work_list_init(&proc->delivered_death);
	RB_INIT(&proc->nodes);
	RB_INIT(&proc->refs_by_desc);
	RB_INIT(&proc->refs_by_node);
	proc->region.memfd = -1;
	proc->tmp_ref = 1; /* dropped at release */
	TAILQ_INSERT_TAIL(&ctx->procs, proc, context_entry);
	TAILQ_INSERT_TAIL(&drv->procs, proc, driver_entry);
	drv->stats.procs_created++;
	if (!id->can_read_memory)
		drv->stats.push_mode_procs++;
	log_info("%s: proc %d (%s, euid %u) opened", ctx->name, id->pid, id->comm,
		 (unsigned)id->euid);
	return proc;
}

void driver_proc_set_poll(struct proc *proc, bool wants_poll)
{
	proc->id.wants_poll = wants_poll;
	proc_poll_update(proc);
}

void driver_proc_flush(struct proc *proc)
{
	struct thread *thread;

	TAILQ_FOREACH(thread, &proc->threads, proc_entry) {
		thread->looper_need_return = true;
		thread_wakeup(thread);
	}
}

void driver_proc_release(struct proc *proc)
{
	struct context *ctx = proc->context;
	struct thread *thread;
	struct node *node;
	struct ref *ref;

	if (proc->is_dead)
		return;
	log_info("%s: proc %d released", ctx->name, proc->id.pid);
	TAILQ_REMOVE(&ctx->procs, proc, context_entry);
	if (ctx->mgr_node && ctx->mgr_node->proc == proc) {
		log_info("%s: context manager proc %d died", ctx->name, proc->id.pid);
		ctx->mgr_node = NULL;
	}
	proc->is_dead = true;
	proc->is_frozen = false;
	proc->sync_recv = false;
	proc->async_recv = false;

	while ((thread = TAILQ_FIRST(&proc->threads)) != NULL)
		thread_release(thread);

	while ((node = RB_MIN(node_tree, &proc->nodes)) != NULL) {
		node_inc_tmpref(node);
		node_release(node);
	}
	while ((ref = RB_MIN(ref_desc_tree, &proc->refs_by_desc)) != NULL)
		ref_cleanup_and_free(ref);

	proc_release_work(proc, &proc->todo);
	proc_release_work(proc, &proc->delivered_death);
	proc_dec_tmpref(proc);
}

pid_t proc_pid(const struct proc *proc)
{
	return proc->id.pid;
}

const struct proc_identity *proc_identity(const struct proc *proc)
{
	return &proc->id;
}

struct context *proc_context(const struct proc *proc)
{
	return proc->context;
}
