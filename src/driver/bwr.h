/* SPDX-License-Identifier: MIT */
/*
 * BINDER_WRITE_READ as a state machine (entities.h: struct bwr_state): the
 * write part runs the commands (command.c) and may suspend on a fetch job;
 * the read part fills the thread's read buffer with work, or waits for work
 * until a wakeup (thread_wakeup, then driver_flush) or a signal.
 */
#pragma once

#include "driver/entities.h"

/* Runs (or resumes) the write part, then the read part. */
void bwr_run(struct thread *thread);

/* Fills the read of a woken thread, or lets it wait again. */
void bwr_woken(struct thread *thread);
