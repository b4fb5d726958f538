/* SPDX-License-Identifier: MIT */
/* The libc functions underneath the interposed ones, and the debug log. */
#include <pthread.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/guarded_copy.h"
#include "real.h"

struct real_libc real;
struct ubt_sys real_sys;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static int log_on = -1;

/*
 * Where each function goes, and the one standing in where libc lacks it:
 * the large-file twin of a function (NAME64) falls back to NAME, which is
 * the same function on 64-bit targets.
 */
#define SLOT(field, name, fallback)                  \
	{                                            \
		(void **)&real.field, name, fallback \
	}
#define PLAIN(f)	SLOT(f, #f, NULL)
#define WITH64(f)	PLAIN(f), SLOT(f##64, #f "64", #f)
/* glibc's own name, as the stat functions had before glibc 2.33 */
#define GLIBC_WITH64(f) SLOT(f, "__" #f, NULL), SLOT(f##64, "__" #f "64", "__" #f)
static const struct {
	void **slot;
	const char *name;
	const char *fallback;
} functions[] = {
	WITH64(open),
	WITH64(openat),
	SLOT(open_2, "__open_2", NULL),
	SLOT(open64_2, "__open64_2", "__open_2"),
	SLOT(openat_2, "__openat_2", NULL),
	SLOT(openat64_2, "__openat64_2", "__openat_2"),
	WITH64(creat),
	PLAIN(close),
	PLAIN(close_range),
	PLAIN(closefrom),
	PLAIN(dup),
	PLAIN(dup2),
	PLAIN(dup3),
	WITH64(fcntl),
	PLAIN(ioctl),
	WITH64(mmap),
	PLAIN(munmap),
	PLAIN(mremap),
	WITH64(fopen),
	PLAIN(fclose),
	SLOT(exit_, "_exit", NULL),
	PLAIN(access),
	PLAIN(euidaccess),
	SLOT(eaccess, "eaccess", "euidaccess"),
	PLAIN(faccessat),
	WITH64(stat),
	WITH64(lstat),
	WITH64(fstat),
	WITH64(fstatat),
	PLAIN(statx),
	GLIBC_WITH64(xstat),
	GLIBC_WITH64(lxstat),
	GLIBC_WITH64(fxstat),
	GLIBC_WITH64(fxstatat),
	PLAIN(sigaction),
	PLAIN(signal),
	PLAIN(sysv_signal),
};
#undef GLIBC_WITH64
#undef WITH64
#undef PLAIN
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
				     .munmap = real.munmap,
				     .fstat = real.fstat,
				     .user_copy = guarded_memcpy };
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
