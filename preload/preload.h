/* SPDX-License-Identifier: MIT */
/*
 * libubinder-preload: the /dev/binder emulation (docs/emulation.md).
 *
 * An open() of a Binder device path becomes a session with ubinderd (one
 * Binder process); the descriptor handed to the program is an epoll instance
 * watching the session's poll descriptor, so the program can poll, select and
 * epoll it as it would the device. ioctl, mmap, munmap, close and the dup
 * family are interposed on those descriptors; each program thread gets its
 * own connection (its own Binder thread) on first use.
 *
 * Modules (one concept each, each NAME.c with its NAME.h), bottom up; each
 * calls only modules below it (scripts/module-graph.py preload):
 *   real        the libc functions underneath (dlsym RTLD_NEXT), the debug log
 *   devices     which paths are Binder devices, and their sockets
 *   fdtable     descriptor number -> open Binder file, our hidden fds, g_lock
 *   fault       SIGSEGV and SIGBUS: faults of the program's memory as EFAULT
 *   bfile       open Binder files, per-thread connections, flush, fork; what
 *               must survive exec it reports up through struct bfile_hooks
 *   devnode     what stat and access see at a device path or descriptor
 *   handoff     Binder descriptors that survive exec
 *   emulate     open, ioctl and mmap semantics of the kernel driver
 *   init        the constructor: wires bfile to handoff, takes over the files
 *               an exec'd image left
 *   intercept, intercept-stat, intercept-signal
 *               the exported libc entry points: open and use of devices; the
 *               access and stat family; the sigaction and signal family
 * Below the intercept modules, a libc function we interpose is called
 * through `real` (real.h), never by its name, which would reach our own
 * wrapper. (seccomp-launch.c and ubinder-run.c are ubinder-run's, another
 * program: their calls of libc only look like arrows into intercept.)
 * This header: what every module shares (EXPORT, ret_errno, EMU_PASS).
 *
 * Locking: g_lock (fdtable.h) guards the fd table's writers, every bfile's
 * thread list, nfds and region fields, and the handoff state. It is never
 * held across a round trip to the daemon. Lookups of the fd table are
 * lock-free; a bfile is pinned by its reference count while an operation
 * uses it.
 */
#pragma once

#include <errno.h>

/* The entry points the library exports (everything else is hidden). */
#define EXPORT __attribute__((visibility("default")))

/* A libc-style result: @r >= 0 as it is, -errno as -1 with errno set. */
static inline int ret_errno(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* What a module answers for a path or descriptor that is not an emulated
 * device: pass the call on to libc. */
#define EMU_PASS (-ENODEV)
