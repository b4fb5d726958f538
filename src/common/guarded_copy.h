/* SPDX-License-Identifier: MIT */
/*
 * memcpy out of shared memory that a peer can write to: a client may punch a
 * hole into a memfd the daemon maps (its outbox), and reading a hole under
 * memory pressure raises SIGBUS. A guarded copy turns that SIGBUS into
 * -EFAULT for the copying thread instead of killing the daemon, as display
 * servers do for client shared-memory buffers.
 */
#pragma once

#include <stddef.h>

/* Installs the SIGBUS handler (once per process). Other SIGBUS stay fatal. */
int guarded_copy_init(void);

/* memcpy that returns -EFAULT instead of dying of SIGBUS; 0 on success. */
int guarded_memcpy(void *dst, const void *src, size_t n);
