/* SPDX-License-Identifier: MIT */
/*
 * The libc functions under the interposed ones (resolved with dlsym
 * RTLD_NEXT), the transport's system-call table made of them, and the debug
 * log. The bottom of the library: calls nothing of it.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "transport/transport.h"

/* The libc functions we interpose, resolved with RTLD_NEXT. */
struct real_libc {
	int (*open)(const char *, int, ...);
	int (*open64)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*openat64)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
	int (*creat)(const char *, mode_t);
	int (*creat64)(const char *, mode_t);
	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);
	void (*closefrom)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	void *(*mmap64)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	void *(*fopen)(const char *, const char *);
	void *(*fopen64)(const char *, const char *);
	void (*exit_)(int);
	int (*fclose)(void *);
	/* intercept-stat.c */
	int (*access)(const char *, int);
	int (*euidaccess)(const char *, int);
	int (*eaccess)(const char *, int);
	int (*faccessat)(int, const char *, int, int);
	int (*stat)(const char *, struct stat *);
	int (*stat64)(const char *, struct stat64 *);
	int (*lstat)(const char *, struct stat *);
	int (*lstat64)(const char *, struct stat64 *);
	int (*fstat)(int, struct stat *);
	int (*fstat64)(int, struct stat64 *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*fstatat64)(int, const char *, struct stat64 *, int);
	int (*statx)(int, const char *, int, unsigned, struct statx *);
	int (*xstat)(int, const char *, struct stat *);
	int (*xstat64)(int, const char *, struct stat64 *);
	int (*lxstat)(int, const char *, struct stat *);
	int (*lxstat64)(int, const char *, struct stat64 *);
	int (*fxstat)(int, int, struct stat *);
	int (*fxstat64)(int, int, struct stat64 *);
	int (*fxstatat)(int, int, const char *, struct stat *, int);
	int (*fxstatat64)(int, int, const char *, struct stat64 *, int);
	/* intercept-signal.c */
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	void (*(*signal)(int, void (*)(int)))(int);
	void (*(*sysv_signal)(int, void (*)(int)))(int);
};

extern struct real_libc real;
/* The same for the transport's system calls (every session's table). */
extern struct ubt_sys real_sys;

/* Resolves the real functions; safe to call any number of times from any thread. */
void real_init(void);

/* The flag F_GETFL shows on a device file beside its access mode (the
 * kernel's O_LARGEFILE for a 64-bit process). */
int kernel_largefile_flag(void);

/* One line on stderr when UBINDER_PRELOAD_DEBUG is set. */
void plog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool plog_enabled(void);
