/* SPDX-License-Identifier: MIT */
/*
 * memcpy that survives a fault: the copying thread gets -EFAULT instead of
 * dying of SIGBUS or SIGSEGV.
 *
 * The daemon copies out of shared memory that a peer can write to: a client
 * may punch a hole into a memfd the daemon maps (its outbox), and reading a
 * hole under memory pressure raises SIGBUS, as display servers know from
 * client shared-memory buffers. The /dev/binder emulation copies the
 * program's own memory at the addresses the program passed, as the kernel's
 * copy_from_user and copy_to_user do, and a bad address must give the
 * ioctl's EFAULT.
 *
 * Only a fault at an address inside the copy in progress on the faulting
 * thread is recovered; every other fault is the handler's to pass on.
 */
#pragma once

#include <signal.h>
#include <stddef.h>

/* Installs a SIGBUS handler (once per process) that recovers guarded copies
 * and lets every other SIGBUS kill the process. The daemon's. */
int guarded_copy_init(void);

/* memcpy that returns -EFAULT instead of dying of a fault; 0 on success.
 * Async-signal-safe, and may nest (a signal handler's copy inside another). */
int guarded_memcpy(void *dst, const void *src, size_t n);

/*
 * For a SIGBUS or SIGSEGV handler: if @info is a fault at an address of the
 * guarded copy in progress on this thread, ends that copy with -EFAULT and
 * does not return. Otherwise returns: the fault is someone else's.
 */
void guarded_copy_recover(int sig, const siginfo_t *info);
