/* SPDX-License-Identifier: MIT */
/* The libc functions underneath the interposed ones, and the debug log. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

struct real_libc real;
struct ubt_sys real_sys;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static int log_on = -1;

/* Where each function goes, and the one standing in where libc lacks it. */
#define SLOT(field, name, fallback)                  \
	{                                            \
		(void **)&real.field, name, fallback \
	}
static const struct {
	void **slot;
	const char *name;
	const char *fallback;
} functions[] = {
	SLOT(open, "open", NULL),
	SLOT(open64, "open64", "open"),
	SLOT(openat, "openat", NULL),
	SLOT(openat64, "openat64", "openat"),
	SLOT(open_2, "__open_2", NULL),
	SLOT(open64_2, "__open64_2", "__open_2"),
	SLOT(openat_2, "__openat_2", NULL),
	SLOT(openat64_2, "__openat64_2", "__openat_2"),
	SLOT(creat, "creat", NULL),
	SLOT(creat64, "creat64", "creat"),
	SLOT(close, "close", NULL),
	SLOT(close_range, "close_range", NULL),
	SLOT(closefrom, "closefrom", NULL),
	SLOT(dup, "dup", NULL),
	SLOT(dup2, "dup2", NULL),
	SLOT(dup3, "dup3", NULL),
	SLOT(fcntl, "fcntl", NULL),
	SLOT(fcntl64, "fcntl64", "fcntl"),
	SLOT(ioctl, "ioctl", NULL),
	SLOT(mmap, "mmap", NULL),
	SLOT(mmap64, "mmap64", "mmap"),
	SLOT(munmap, "munmap", NULL),
	SLOT(fopen, "fopen", NULL),
	SLOT(fopen64, "fopen64", "fopen"),
	SLOT(fclose, "fclose", NULL),
	SLOT(exit_, "_exit", NULL),
	SLOT(access, "access", NULL),
	SLOT(euidaccess, "euidaccess", NULL),
	SLOT(eaccess, "eaccess", "euidaccess"),
	SLOT(faccessat, "faccessat", NULL),
	SLOT(stat, "stat", NULL),
	SLOT(stat64, "stat64", "stat"),
	SLOT(lstat, "lstat", NULL),
	SLOT(lstat64, "lstat64", "lstat"),
	SLOT(fstat, "fstat", NULL),
	SLOT(fstat64, "fstat64", "fstat"),
	SLOT(fstatat, "fstatat", NULL),
	SLOT(fstatat64, "fstatat64", "fstatat"),
	SLOT(statx, "statx", NULL),
	SLOT(xstat, "__xstat", NULL),
	SLOT(xstat64, "__xstat64", "__xstat"),
	SLOT(lxstat, "__lxstat", NULL),
	SLOT(lxstat64, "__lxstat64", "__lxstat"),
	SLOT(fxstat, "__fxstat", NULL),
	SLOT(fxstat64, "__fxstat64", "__fxstat"),
	SLOT(fxstatat, "__fxstatat", NULL),
	SLOT(fxstatat64, "__fxstatat64", "__fxstatat"),
};
#undef SLOT

static void resolve(void)
{
	const char *debug = getenv("UBINDER_PRELOAD_DEBUG");

	/* Each pointer is written once, before any use (pthread_once). */
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
		void *fn = dlsym(RTLD_NEXT, functions[i].name);

		if (!fn && functions[i].fallback)
			fn = dlsym(RTLD_NEXT, functions[i].fallback);
		*functions[i].slot = fn;
	}
	real_sys = (struct ubt_sys){ .open = real.open,
				     .close = real.close,
				     .fcntl = real.fcntl,
				     .mmap = real.mmap,
				     .munmap = real.munmap };
	log_on = debug && *debug && strcmp(debug, "0") != 0;
}

void real_init(void)
{
	pthread_once(&real_once, resolve);
}

int kernel_largefile_flag(void)
{
	static int flag = -1;

	if (flag < 0) {
		/* What F_GETFL adds to a file opened by a 64-bit process
		 * (force_o_largefile); the headers define O_LARGEFILE as 0 there. */
		int fd = real.open("/dev/null", O_RDONLY | O_CLOEXEC);
		int fl = fd >= 0 ? real.fcntl(fd, F_GETFL) : -1;

		if (fd >= 0)
			real.close(fd);
		flag = fl > 0 ? fl & ~O_ACCMODE : 0;
	}
	return flag;
}

bool plog_enabled(void)
{
	real_init();
	return log_on > 0;
}

void plog(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n, saved = errno;

	if (!plog_enabled())
		return;
	n = snprintf(line, sizeof(line), "ubinder-preload[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere to report it. */
	}
	errno = saved;
}
