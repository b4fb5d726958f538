/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "common/log.h"
#include "driver/bwr_state.h"
#include "driver/dead_reply.h"
#include "driver/driver.h"
#include "driver/proc.h"
#include "driver/thread.h"
#include "driver/todo.h"
#include "driver/transaction.h"
#include "driver/work_ops.h"

struct thread *thread_new(struct proc *proc, pid_t tid, void *conn)
{
	struct thread *thread = calloc(1, sizeof(*thread));

	if (!thread)
		return NULL;
	thread->proc = proc;
	thread->tid = tid;
	thread->conn = conn;
	/* A new thread returns from its first read at once, as in the kernel. */
	thread->looper_need_return = true;
	work_list_init(&thread->todo);
	thread->return_error.work.type = WORK_RETURN_ERROR;
	thread->return_error.cmd = BR_OK;
	thread->reply_error.work.type = WORK_RETURN_ERROR;
	thread->reply_error.cmd = BR_OK;
	thread->ee.command = BR_OK;
	TAILQ_INSERT_TAIL(&proc->threads, thread, proc_entry);
	proc->nthreads++;
	proc->driver->stats.threads_created++;
	return thread;
}

struct thread *thread_find_recursion_target(struct thread *thread, struct proc *target_proc)
{
	for (struct transaction *t = thread->transaction_stack; t; t = t->from_parent) {
		if (t->from && t->from->proc == target_proc)
			return t->from;
	}
	return NULL;
}

static void thread_free(struct thread *thread)
{
	struct driver *drv = thread->proc->driver;
	struct proc *proc = thread->proc;

	bwr_discard(thread);
	drv->stats.threads_deleted++;
	free(thread);
	proc_dec_tmpref(proc);
}

void thread_inc_tmpref(struct thread *thread)
{
	thread->tmp_ref++;
}

void thread_dec_tmpref(struct thread *thread)
{
	if (--thread->tmp_ref == 0 && thread->is_dead)
		thread_free(thread);
}

void thread_release(struct thread *thread)
{
	struct proc *proc = thread->proc;
	struct driver *drv = proc->driver;
	struct transaction *send_reply = NULL;
	struct transaction *t;

	proc->tmp_ref++; /* dropped by thread_free */
	driver_promise_cancel(thread);
	if (thread->bwr.phase == BWR_IOCTL)
		drv->pending_freezes--; /* its BINDER_FREEZE ends with it */
	TAILQ_REMOVE(&proc->threads, thread, proc_entry);
	proc->nthreads--;
	if (thread->on_waiting_list) {
		TAILQ_REMOVE(&proc->waiting_threads, thread, waiting_entry);
		thread->on_waiting_list = false;
	}
	if (thread->on_wake_list) {
		TAILQ_REMOVE(&drv->wake_list, thread, wake_entry);
		thread->on_wake_list = false;
	}

	t = thread->transaction_stack;
	if (t && t->to_thread == thread)
		send_reply = t;
	thread->is_dead = true;
	thread_leave_todo_threads(thread); /* a dead thread makes no poller readable */
	/* Unlink the thread from every transaction on its stack. */
	while (t) {
		if (t->to_thread == thread) {
			proc->outstanding_txns--;
			t->to_proc = NULL;
			t->to_thread = NULL;
			if (t->buffer) {
				t->buffer->transaction = NULL;
				t->buffer = NULL;
			}
			t = t->to_parent;
		} else {
			/* t->from == thread */
			t->from = NULL;
			t = t->from_parent;
		}
	}
	thread->transaction_stack = NULL;
	if (send_reply) {
		dead_reply_note(drv, send_reply->from ? send_reply->from->proc : NULL, proc->id.pid,
				send_reply->debug_id,
				proc->is_dead ? DEAD_SERVER_EXIT : DEAD_SERVER_THREAD_EXIT);
		transaction_send_failed_reply(send_reply, BR_DEAD_REPLY);
	}
	work_release_all(proc, &thread->todo);
	proc_poll_dirty(proc);
	thread_inc_tmpref(thread);
	thread_dec_tmpref(thread);
}
