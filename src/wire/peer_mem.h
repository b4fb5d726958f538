/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing another process's memory (process_vm_readv/writev),
 * for the ways in that serve a program from its own memory with no code in
 * it: the seccomp path and the FUSE devices. Each call may block on the
 * peer's pages (FUSE-backed, userfaultfd): callers run them on copy workers.
 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "wire/binder_stream.h"

/* @len bytes of @pid's memory at @src into @dst: 0, or -EFAULT. */
static inline int peer_mem_read(pid_t pid, void *dst, uint64_t src, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)src, len };

	if (len == 0)
		return 0;
	return process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* @len bytes of @src into @pid's memory at @dst: 0, or -EFAULT. */
static inline int peer_mem_write(pid_t pid, uint64_t dst, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)dst, len };

	if (len == 0)
		return 0;
	return process_vm_writev(pid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static inline int peer_mem_read_fn(void *pid, void *dst, uint64_t src, size_t len)
{
	return peer_mem_read((pid_t)(intptr_t)pid, dst, src, len);
}

/* As much of [addr, addr + len) of @pid as is readable, page by page: the bytes copied. */
static inline size_t peer_mem_read_prefix(pid_t pid, uint8_t *dst, uint64_t addr, size_t len)
{
	return binder_read_prefix(peer_mem_read_fn, (void *)(intptr_t)pid, dst, addr, len);
}
