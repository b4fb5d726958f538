/* SPDX-License-Identifier: MIT */
/* Binder processes: one per open of a device (entities.h). */
#pragma once

#include "driver/entities.h"

/* Queues @w on the process's todo, for any of its looper threads. */
void proc_enqueue_work(struct proc *proc, struct work *w);

/* Hands proc work to a waiting looper thread, or makes the process readable. */
void proc_wakeup(struct proc *proc);

/* Wakes @thread for its own work, or the process's pollers when NULL. */
void proc_wakeup_thread(struct proc *proc, struct thread *thread);

/* Pops the thread that should take proc work now (newest waiter), or NULL. */
struct thread *proc_select_thread(struct proc *proc);

/*
 * Drops every work item on @list as the kernel's binder_release_work does:
 * synchronous transactions get BR_DEAD_REPLY, the rest is freed.
 */
void proc_release_work(struct proc *proc, struct work_list *list);

/* The process's readiness may have changed: re-evaluated at the next flush. */
void proc_poll_dirty(struct proc *proc);
/* Reports a readiness change through ops->poll_changed. */
void proc_poll_update(struct proc *proc);

/*
 * A bad command the kernel only logs: count it (kind < 0: log only) and log
 * it, at a bounded rate per process.
 */
void proc_note_ignored(struct proc *proc, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void proc_inc_tmpref(struct proc *proc);
/* Frees a released process once nothing holds it. */
void proc_dec_tmpref(struct proc *proc);

/* Whether transactions can be delivered into the process's region. */
static inline bool proc_has_region(const struct proc *proc)
{
	return buffer_space_ready(&proc->space);
}
