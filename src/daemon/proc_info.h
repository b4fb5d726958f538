/* SPDX-License-Identifier: MIT */
/*
 * What the daemon reads about a client process from /proc, never from the
 * client: its files as text, its command name, and whether the daemon may
 * read its memory.
 *
 * Owns: nothing. May call: the system.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * /proc/PID/@name (e.g. "status", "fdinfo/3") into @buf as text, at most
 * @size - 1 bytes and NUL-terminated: its length, or -1 if it cannot be read
 * (@buf is "" then).
 */
ssize_t proc_info_read(pid_t pid, const char *name, char *buf, size_t size);

/* /proc/PID/comm into @buf ("" if unreadable). */
void proc_info_comm(pid_t pid, char *buf, size_t size);

/*
 * Whether process_vm_readv on @pid will be allowed, found without touching
 * its memory (which could block on a page it never serves): both opening
 * /proc/PID/mem and process_vm_readv need ptrace access in attach mode
 * (mm_access), so the open answers for the read. @pidfd (-1: none), polled
 * after the open, makes sure the pid still named the process.
 */
bool proc_info_memory_readable(pid_t pid, int pidfd);
