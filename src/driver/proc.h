/* SPDX-License-Identifier: MIT */
/* Binder processes: one per open of a device (entities.h): open, release,
 * lifetime. Queueing work for a process and waking it is todo.h's. */
#pragma once

#include "driver/entities.h"

/*
 * Drops every work item on @list as the kernel's binder_release_work does:
 * synchronous transactions get BR_DEAD_REPLY, the rest is freed.
 */
void proc_release_work(struct proc *proc, struct work_list *list);

void proc_inc_tmpref(struct proc *proc);
/* Frees a released process once nothing holds it. */
void proc_dec_tmpref(struct proc *proc);

/* Whether transactions can be delivered into the process's region. */
static inline bool proc_has_region(const struct proc *proc)
{
	return buffer_space_ready(&proc->space);
}
