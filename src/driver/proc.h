/* SPDX-License-Identifier: MIT */
/* Binder processes: one per open of a device (entities.h): open, release,
 * lifetime. Queueing work for a process and waking it is todo.h's. */
#pragma once

#include "driver/entities.h"

void proc_inc_tmpref(struct proc *proc);
/* Frees a released process once nothing holds it. */
void proc_dec_tmpref(struct proc *proc);
