/* SPDX-License-Identifier: MIT */
/* Todo lists, choosing and waking threads, poll readiness (todo.c). */
#pragma once

#include "driver/entities.h"

/* The first step of every driver operation: ops->take_lazy_reads. */
static inline void driver_take_lazy_reads(struct driver *drv)
{
	if (drv->ops->take_lazy_reads)
		drv->ops->take_lazy_reads(drv->daemon);
}

/* Queues @w on the process's todo, for any of its looper threads. */
void proc_enqueue_work(struct proc *proc, struct work *w);

/* Hands proc work to a waiting looper thread, or makes the process readable. */
void proc_wakeup(struct proc *proc);

/* Wakes @thread for its own work, or the process's pollers when NULL. */
void proc_wakeup_thread(struct proc *proc, struct thread *thread);

/* Pops the thread that should take proc work now (newest waiter), or NULL. */
struct thread *proc_select_thread(struct proc *proc);

/* The process's readiness may have changed: re-evaluated at the next flush. */
void proc_poll_dirty(struct proc *proc);

/* Reports a readiness change through ops->poll_changed. */
void proc_poll_update(struct proc *proc);

/* Queues @w for the thread and marks that it must return to user space. */
void thread_enqueue_work(struct thread *thread, struct work *w);

/* The thread's own work is all taken (or dropped): process_todo clears. */
void thread_todo_taken(struct thread *thread);
/* Off proc->todo_threads (a released thread), process_todo left as it is. */
void thread_leave_todo_threads(struct thread *thread);

/* Queues @w without waking the thread: it is read with the next work that does. */
void thread_enqueue_deferred_work(struct thread *thread, struct work *w);

/* A BR_ error for the thread to read next (binder_thread's return_error). */
void thread_set_return_error(struct thread *thread, uint32_t cmd);

/* No transaction stack and no own work: may take proc work. */
bool thread_available_for_proc_work(const struct thread *thread);

/* Work that would end a wait: own work, a forced return, or proc work. */
bool thread_has_work(const struct thread *thread, bool do_proc_work);

/* Wakes the thread if it waits in a read: its read is filled at the next flush. */
void thread_wakeup(struct thread *thread);
