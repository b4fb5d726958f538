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
 * Called by the supervision through sc_calls_ops only, so that it sits
 * above seccomp_supervisor.
 */
#pragma once

#include "daemon/endpoint.h"
#include "daemon/seccomp_supervisor.h"

/* The supervision's way into this module (supervisors_init). */
extern const struct sc_call_ops sc_calls_ops;
