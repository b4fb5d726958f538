/* SPDX-License-Identifier: MIT */
/* The BC_* commands of a BINDER_WRITE_READ's write part (command.c). */
#pragma once

#include "driver/entities.h"

/*
 * Runs the commands of @thread's write buffer from bwr.write_pos on. Returns
 * 0, or the ioctl's error (-EINVAL, -EFAULT) with write_pos at the failing
 * command. *suspended: a transaction waits for its fetch job; the write part
 * resumes when it is done.
 */
int command_run(struct thread *thread, bool *suspended);
