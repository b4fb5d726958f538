/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "driver/node.h"
#include "driver/outbox.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/todo.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"
#include "driver/work_ops.h"

void proc_inc_tmpref(struct proc *proc)
{
	proc->tmp_ref++;
}

static void proc_free(struct proc *proc)
{
	struct driver *drv = proc->driver;

	txn_buffer_release_all(proc);
	buffer_space_deinit(&proc->space);
	if (proc->outbox) {
		munmap((void *)proc->outbox, proc->outbox_size);
		close(proc->outbox_fd);
	}
	outbox_forget(proc);
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
	TAILQ_INIT(&proc->todo_threads);
	work_list_init(&proc->todo);
	work_list_init(&proc->delivered_death);
	RB_INIT(&proc->nodes);
	RB_INIT(&proc->refs_by_desc);
	RB_INIT(&proc->refs_by_node);
	buffer_space_init(&proc->space, &drv->pool);
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
	driver_take_lazy_reads(proc->driver);
	proc->id.wants_poll = wants_poll;
	proc_poll_update(proc);
}

void driver_proc_flush(struct proc *proc)
{
	struct thread *thread;

	driver_take_lazy_reads(proc->driver);
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

	driver_take_lazy_reads(proc->driver);
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
		work_release_all(proc, &node->async_todo);
		node_release(node);
	}
	while ((ref = RB_MIN(ref_desc_tree, &proc->refs_by_desc)) != NULL)
		ref_cleanup_and_free(ref);

	work_release_all(proc, &proc->todo);
	work_release_all(proc, &proc->delivered_death);
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
