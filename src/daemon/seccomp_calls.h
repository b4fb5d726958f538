/* SPDX-License-Identifier: MIT */
/*
 * The trapped system calls of a seccomp-supervised target, served as the
 * kernel driver serves them:
 * - open, openat, openat2 of a Binder device path (resolved through
 *   /proc/TID/cwd and /proc/TID/fd for relative ones): a new Binder process,
 *   its descriptor injected with SECCOMP_IOCTL_NOTIF_ADDFD (and the answer,
 *   atomically); any other path goes on to the kernel;
 * - ioctl on a Binder descriptor: its argument and write buffer read from
 *   the target's memory, the driver call, the read buffer and the struct
 *   written back; a blocked BINDER_WRITE_READ stays parked (unanswered)
 *   until the driver completes it;
 * - mmap of a Binder descriptor: the region's descriptor is put at the
 *   descriptor's number for the kernel to map (the call continues), and the
 *   Binder descriptor is put back at that thread's next trapped call;
 * - close, exit_group: flushes; execve: noted, and at the process's next
 *   call its region is gone if the exec happened.
 * Every read and write of target memory runs on a copy worker, so a target
 * whose memory blocks delays only itself; answers that follow a write are
 * sent from the worker.
 *
 * Owns: what a call carries between its steps (struct call_state).
 * May call: seccomp_supervisor (answers), seccomp_target, copier, driver.
 */
#pragma once

#include "daemon/endpoint.h"
#include "daemon/seccomp_supervisor.h"

/* How a target's Binder thread answers the driver (sc_thread.endpoint). */
extern const struct endpoint_ops sc_thread_endpoint_ops;

/* A notification was received: serve it (after the same thread's earlier call). */
void sc_calls_start(struct sc_call *call);
/* Serve @call now (its thread's earlier call is done). */
void sc_calls_serve(struct sc_call *call);
/* A parked call's wait ended in the target (a signal): end the driver's read. */
void sc_calls_interrupt(struct sc_call *call);
void sc_calls_free_state(struct sc_call *call);
