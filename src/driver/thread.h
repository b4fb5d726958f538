/* SPDX-License-Identifier: MIT */
/* Binder threads: looper state, todo lists, waiting and reading (entities.h). */
#pragma once

#include "driver/entities.h"

struct thread *thread_new(struct proc *proc, pid_t tid, void *conn);

/* Queues @w for the thread and marks that it must return to user space. */
void thread_enqueue_work(struct thread *thread, struct work *w);
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

/* BINDER_THREAD_EXIT or connection closed: the kernel's binder_thread_release. */
void thread_release(struct thread *thread);

void thread_inc_tmpref(struct thread *thread);
void thread_dec_tmpref(struct thread *thread);

/* The first transaction on the stack whose sender is in @proc (recursion). */
struct thread *thread_find_recursion_target(struct thread *thread, struct proc *target_proc);
