/* SPDX-License-Identifier: MIT */
/* Binder threads: creation, release, lifetime, the transaction stack (entities.h).
 * Queueing work for a thread and waking it is todo.h's. */
#pragma once

#include "driver/entities.h"

struct thread *thread_new(struct proc *proc, pid_t tid, void *conn);

/* BINDER_THREAD_EXIT or connection closed: the kernel's binder_thread_release. */
void thread_release(struct thread *thread);

void thread_inc_tmpref(struct thread *thread);
void thread_dec_tmpref(struct thread *thread);

/* The first transaction on the stack whose sender is in @proc (recursion). */
struct thread *thread_find_recursion_target(struct thread *thread, struct proc *target_proc);
