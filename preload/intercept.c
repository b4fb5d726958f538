/* SPDX-License-Identifier: MIT */
/*
 * The libc entry points the emulation interposes. Each passes anything that
 * is not a Binder device or descriptor straight to libc; the common case
 * (not ours) costs a lock-free table lookup.
 *
 * Opening: open, open64, openat, openat64, __open_2, __open64_2, __openat_2,
 * __openat64_2, creat, creat64, fopen, fopen64 (fclose too, since glibc's
 * fclose closes without going through close()).
 * On Binder descriptors: ioctl, mmap, mmap64, munmap, close, close_range,
 * closefrom, dup, dup2, dup3, fcntl, fcntl64. Over an outbox: munmap,
 * mremap, mmap with MAP_FIXED.
 * Process exit (exit through our destructor, _exit, _Exit): the implicit
 * close of the Binder descriptors flushes, as the kernel's does.
 */
/* The fortified inline wrappers of open() etc. would clash with ours, and
 * with _FILE_OFFSET_BITS=64 the headers rename open to open64: we define
 * both names ourselves. (off_t is 64-bit either way on the 64-bit ABIs.) */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bfile.h"
#include "emulate.h"
#include "fdtable.h"
#include "preload.h"
#include "real.h"

/* glibc's fortify entry points, declared only inside its headers' wrappers. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* --- open ------------------------------------------------------------------ */

/* The emulated open, or EMU_PASS. */
static int try_open(const char *path, int flags)
{
	real_init();
	return emu_open(path, flags);
}

/* Whether open's flags call for the mode argument (glibc's __OPEN_NEEDS_MODE). */
static bool needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/*
 * The body of open/open64/openat/openat64: the mode argument exists only
 * with O_CREAT or O_TMPFILE. CALL is the libc call, with `mode` in scope.
 */
#define OPEN_BODY(path, flags, CALL)                    \
	do {                                            \
		int r_ = try_open(path, flags);         \
		mode_t mode = 0;                        \
		va_list ap;                             \
                                                        \
		if (r_ != EMU_PASS)                     \
			return ret_errno(r_);           \
		if (needs_mode(flags)) {                \
			va_start(ap, flags);            \
			mode = (mode_t)va_arg(ap, int); \
			va_end(ap);                     \
		}                                       \
		return CALL;                            \
	} while (0)

EXPORT int open(const char *path, int flags, ...)
{
	OPEN_BODY(path, flags, real.open(path, flags, mode));
}

EXPORT int open64(const char *path, int flags, ...)
{
	OPEN_BODY(path, flags, real.open64(path, flags, mode));
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(path, flags, real.openat(dirfd, path, flags, mode));
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN_BODY(path, flags, real.openat64(dirfd, path, flags, mode));
}

/*
 * The _FORTIFY_SOURCE variants (no mode argument). libc aborts a call whose
 * flags need a mode; such a call goes to it untouched, device or not.
 */
#define OPEN_2_BODY(path, flags, CALL)                                                        \
	do {                                                                                  \
		int r_ = needs_mode(flags) ? (real_init(), EMU_PASS) : try_open(path, flags); \
                                                                                              \
		return r_ != EMU_PASS ? ret_errno(r_) : CALL;                                 \
	} while (0)

EXPORT int __open_2(const char *path, int flags)
{
	OPEN_2_BODY(path, flags, real.open_2(path, flags));
}

EXPORT int __open64_2(const char *path, int flags)
{
	OPEN_2_BODY(path, flags, real.open64_2(path, flags));
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	OPEN_2_BODY(path, flags, real.openat_2(dirfd, path, flags));
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	OPEN_2_BODY(path, flags, real.openat64_2(dirfd, path, flags));
}

/* creat() of a character device opens it (O_TRUNC means nothing to it). */
EXPORT int creat(const char *path, mode_t mode)
{
	int r = try_open(path, O_CREAT | O_WRONLY | O_TRUNC);

	return r != EMU_PASS ? ret_errno(r) : real.creat(path, mode);
}

EXPORT int creat64(const char *path, mode_t mode)
{
	int r = try_open(path, O_CREAT | O_WRONLY | O_TRUNC);

	return r != EMU_PASS ? ret_errno(r) : real.creat64(path, mode);
}

/* fopen's mode string as open() flags. */
static int fopen_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -1;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
		else if (*m == 'x')
			flags |= O_EXCL;
	}
	return flags;
}

static FILE *emu_fopen(const char *path, const char *mode, bool *handled)
{
	int flags = mode ? fopen_flags(mode) : -1;
	int r;
	FILE *f;

	*handled = false;
	if (flags < 0)
		return NULL;
	r = try_open(path, flags);
	if (r == EMU_PASS)
		return NULL;
	*handled = true;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	f = fdopen(r, mode);
	if (!f) {
		int saved = errno;

		close(r);
		errno = saved;
	}
	return f;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	bool handled;
	FILE *f = emu_fopen(path, mode, &handled);

	return handled ? f : real.fopen(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	bool handled;
	FILE *f = emu_fopen(path, mode, &handled);

	return handled ? f : real.fopen64(path, mode);
}

/* --- close ----------------------------------------------------------------- */

/* Our own descriptors do not exist for the program. */
static bool hidden(int fd)
{
	return fdt_load(fd) == FDT_HIDDEN;
}

/* Forgets Binder descriptor @fd (flushing its file), has @do_close close it,
 * then drops the file, which the last descriptor's close releases. */
static int forget_and_close(int fd, int (*do_close)(void *), void *arg)
{
	struct bfile *b;
	int r;

	pthread_mutex_lock(&g_lock);
	b = bfile_remove_fd(fd);
	pthread_mutex_unlock(&g_lock);
	r = do_close(arg);
	if (b)
		bfile_closed(b);
	return r;
}

static int close_file(void *f)
{
	return real.fclose(f);
}

static int close_fd(void *fd)
{
	return real.close(*(int *)fd);
}

/* What @fd is to us: 0 (not ours: pass it on), FDT_HIDDEN, or a Binder fd. */
static uintptr_t lookup(int fd)
{
	real_init();
	return fdt_load(fd);
}

EXPORT int fclose(FILE *f)
{
	uintptr_t e = f ? lookup(fileno(f)) : 0;

	if (e && e != FDT_HIDDEN)
		return forget_and_close(fileno(f), close_file, f);
	return real.fclose(f);
}

EXPORT int close(int fd)
{
	uintptr_t e = lookup(fd);

	if (e == FDT_HIDDEN)
		return ret_errno(-EBADF);
	return e ? forget_and_close(fd, close_fd, &fd) : real.close(fd);
}

static int sys_close_range(unsigned first, unsigned last, int flags)
{
	if (real.close_range)
		return real.close_range(first, last, flags);
	return (int)syscall(SYS_close_range, first, last, flags);
}

struct range_close {
	unsigned next; /* first number not yet closed */
	int flags;
	int ret;
	struct bfile *put[64];
	size_t nput;
	bool more; /* put[] was full: another pass is needed */
};

static void range_close_fd(int fd, uintptr_t e, void *arg)
{
	struct range_close *rc = arg;

	if (e == FDT_HIDDEN) {
		/* The program's numbers below it go, ours stay. */
		if ((unsigned)fd > rc->next && rc->ret == 0 && !rc->more)
			rc->ret = sys_close_range(rc->next, (unsigned)fd - 1, rc->flags);
		if (!rc->more)
			rc->next = (unsigned)fd + 1;
		return;
	}
	if (rc->flags & CLOSE_RANGE_CLOEXEC) {
		bfile_set_cloexec(fd, true);
	} else if (rc->nput == sizeof(rc->put) / sizeof(rc->put[0])) {
		rc->more = true;
	} else {
		struct bfile *b = bfile_remove_fd(fd);

		if (b)
			rc->put[rc->nput++] = b;
	}
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	struct range_close rc;

	real_init();
	if (first > last)
		return sys_close_range(first, last, flags);
	do {
		memset(&rc, 0, sizeof(rc));
		rc.next = first;
		rc.flags = flags;
		pthread_mutex_lock(&g_lock);
		fdt_for_range(first, last, range_close_fd, &rc);
		if (!rc.more && rc.ret == 0 && rc.next <= last && rc.next >= first)
			rc.ret = sys_close_range(rc.next, last, flags);
		pthread_mutex_unlock(&g_lock);
		for (size_t i = 0; i < rc.nput; i++)
			bfile_closed(rc.put[i]);
		first = rc.next; /* a second pass resumes where the first stopped */
	} while (rc.more && rc.ret == 0);
	return rc.ret;
}

EXPORT void closefrom(int lowfd)
{
	real_init();
	if (lowfd < 0)
		lowfd = 0;
	if (close_range((unsigned)lowfd, ~0u, 0) != 0) {
		/* No close_range (Linux < 5.9): one by one, still skipping ours. */
		for (int fd = lowfd; fd < FDT_MAX; fd++)
			if (!hidden(fd))
				(void)real.close(fd);
	}
}

/* --- dup ------------------------------------------------------------------- */

static int emu_dup(int fd)
{
	uintptr_t e;
	int r;

	pthread_mutex_lock(&g_lock);
	r = real.dup(fd);
	e = fdt_load(fd);
	if (r >= 0 && e && e != FDT_HIDDEN)
		bfile_add_fd(fdt_bfile(e), r, false);
	pthread_mutex_unlock(&g_lock);
	return r;
}

EXPORT int dup(int fd)
{
	uintptr_t e = lookup(fd);

	if (e == FDT_HIDDEN)
		return ret_errno(-EBADF);
	return e ? emu_dup(fd) : real.dup(fd);
}

/* dup2/dup3: @newfd may be a Binder fd (implicitly closed) and @oldfd one
 * (duplicated). */
static int emu_dup3(int oldfd, int newfd, int flags, bool is_dup2)
{
	struct bfile *put = NULL;
	uintptr_t eo, en;
	int r;

	if (hidden(oldfd))
		return ret_errno(-EBADF);
	if (hidden(newfd))
		return ret_errno(-EBUSY); /* the number is taken by the emulation */
	pthread_mutex_lock(&g_lock);
	eo = fdt_load(oldfd);
	en = fdt_load(newfd);
	r = is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	if (r >= 0 && oldfd != newfd) {
		if (en && en != FDT_HIDDEN)
			put = bfile_remove_fd(newfd);
		if (eo && eo != FDT_HIDDEN)
			bfile_add_fd(fdt_bfile(eo), newfd, (flags & O_CLOEXEC) != 0);
	}
	pthread_mutex_unlock(&g_lock);
	if (put)
		bfile_closed(put);
	return r;
}

EXPORT int dup2(int oldfd, int newfd)
{
	real_init();
	if (!fdt_load(oldfd) && !fdt_load(newfd))
		return real.dup2(oldfd, newfd);
	return emu_dup3(oldfd, newfd, 0, true);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	real_init();
	if (!fdt_load(oldfd) && !fdt_load(newfd))
		return real.dup3(oldfd, newfd, flags);
	return emu_dup3(oldfd, newfd, flags, false);
}

/* --- fcntl ----------------------------------------------------------------- */

static int emu_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
	uintptr_t e = fdt_load(fd);
	struct bfile *b;
	int r;

	if (!e)
		return fn(fd, cmd, arg);
	if (e == FDT_HIDDEN)
		return ret_errno(-EBADF);
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
	case F_SETFD:
		pthread_mutex_lock(&g_lock);
		r = fn(fd, cmd, arg);
		e = fdt_load(fd);
		if (r >= 0 && e && e != FDT_HIDDEN) {
			if (cmd == F_SETFD)
				bfile_set_cloexec(fd, ((intptr_t)arg & FD_CLOEXEC) != 0);
			else
				bfile_add_fd(fdt_bfile(e), r, cmd == F_DUPFD_CLOEXEC);
		}
		pthread_mutex_unlock(&g_lock);
		return r;
	case F_GETFL:
		/* The flags of the device's file: its access mode, not the epoll's. */
		r = fn(fd, cmd, arg);
		b = r >= 0 ? bfile_get(fd) : NULL;
		if (b) {
			r = (r & ~O_ACCMODE) | b->accmode | kernel_largefile_flag();
			bfile_put(b);
		}
		return r;
	default:
		return fn(fd, cmd, arg);
	}
}

/* The optional third argument of fcntl and ioctl, read as libc does. */
#define OPTIONAL_ARG(last, var)            \
	do {                               \
		va_list ap_;               \
                                           \
		va_start(ap_, last);       \
		var = va_arg(ap_, void *); \
		va_end(ap_);               \
	} while (0)

EXPORT int fcntl(int fd, int cmd, ...)
{
	void *arg;

	OPTIONAL_ARG(cmd, arg);
	real_init();
	return emu_fcntl(real.fcntl, fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	void *arg;

	OPTIONAL_ARG(cmd, arg);
	real_init();
	return emu_fcntl(real.fcntl64, fd, cmd, arg);
}

/* --- ioctl and the region ---------------------------------------------------- */

EXPORT int ioctl(int fd, unsigned long cmd, ...)
{
	struct bfile *b;
	int r, cancel;
	void *arg;

	OPTIONAL_ARG(cmd, arg);
	real_init();
	if (!fdt_load(fd))
		return real.ioctl(fd, cmd, arg);
	if (hidden(fd))
		return ret_errno(-EBADF);
	b = bfile_get(fd);
	if (!b)
		return real.ioctl(fd, cmd, arg);
	/* ioctl is no cancellation point; the socket calls underneath are. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	/* The kernel's ioctl takes an unsigned int: the upper half is ignored. */
	r = emu_ioctl(b, fd, (unsigned int)cmd, arg);
	pthread_setcancelstate(cancel, NULL);
	bfile_put(b);
	return ret_errno(r);
}

static void *do_mmap(bool is64, void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *(*fn)(void *, size_t, int, int, int, off_t);
	struct bfile *b;
	void *map;
	int cancel;

	real_init();
	fn = is64 ? real.mmap64 : real.mmap;
	if ((flags & MAP_FIXED) && atomic_load(&g_outbox_mapped))
		emu_outbox_unmapping(addr, len);
	if (fd < 0 || (flags & MAP_ANONYMOUS) || !fdt_load(fd))
		return fn(addr, len, prot, flags, fd, off);
	if (hidden(fd)) {
		errno = EBADF;
		return MAP_FAILED;
	}
	b = bfile_get(fd);
	if (!b)
		return fn(addr, len, prot, flags, fd, off);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	map = emu_mmap(b, addr, len, prot, flags, off);
	pthread_setcancelstate(cancel, NULL);
	bfile_put(b);
	return map;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(false, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(true, addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	real_init();
	if (atomic_load_explicit(&g_nregions, memory_order_acquire))
		emu_munmap(addr, len);
	if (atomic_load(&g_outbox_mapped))
		emu_outbox_unmapping(addr, len);
	return real.munmap(addr, len);
}

/*
 * Moving, shrinking, or mapping over an outbox with mremap takes it away as
 * munmap does: the staging stops first (a failed mremap costs only that).
 * Growing in place, without MREMAP_MAYMOVE, leaves it where it is.
 */
EXPORT void *mremap(void *old, size_t old_size, size_t new_size, int flags, ...)
{
	void *target = NULL;

	real_init();
	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		target = va_arg(ap, void *);
		va_end(ap);
	}
	if (atomic_load(&g_outbox_mapped)) {
		if ((flags & (MREMAP_MAYMOVE | MREMAP_FIXED)) || new_size < old_size)
			emu_outbox_unmapping(old, old_size);
		if (flags & MREMAP_FIXED)
			emu_outbox_unmapping(target, new_size);
	}
	return real.mremap(old, old_size, new_size, flags, target);
}

/* --- exit ------------------------------------------------------------------ */

__attribute__((destructor)) static void at_exit(void)
{
	bfile_exit_flush();
}

static __attribute__((noreturn)) void emu_exit(int status)
{
	real_init();
	bfile_exit_flush();
	if (real.exit_)
		real.exit_(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

EXPORT void _exit(int status)
{
	emu_exit(status);
}

EXPORT void _Exit(int status)
{
	emu_exit(status);
}
