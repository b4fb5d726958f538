/* SPDX-License-Identifier: MIT */
/*
 * The access and stat family, exported: at an emulated device path, and on
 * a Binder descriptor (fstat, AT_EMPTY_PATH), they answer for the emulated
 * device node (devnode.c); everything else goes to libc untouched.
 *
 * access, euidaccess, eaccess, faccessat; stat, lstat, fstat, fstatat,
 * statx; the 64-bit names; glibc's __xstat, __lxstat, __fxstat, __fxstatat
 * and their 64-bit names, which binaries built against glibc < 2.33 call.
 *
 * Arguments the kernel refuses before it looks the path up (unknown flags
 * or mode bits, a reserved statx mask) go to libc too, so that the kernel
 * gives its own EINVAL.
 */
#undef _FILE_OFFSET_BITS
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bfile.h"
#include "devnode.h"
#include "fdtable.h"
#include "preload.h"
#include "real.h"

/* glibc's compatibility entries, no longer declared by its headers. */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);

/* On the 64-bit ABIs the two are one layout, so one body serves both names. */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "struct stat is struct stat64");

/* libc's @fn, or ENOSYS where this libc lacks it (then no program calls it). */
#define PASS(fn, ...) (real.fn ? real.fn(__VA_ARGS__) : ret_errno(-ENOSYS))

/* Whether @path is an emulated device; then its node or error in @n/@err. */
static bool path_node(const char *path, struct devnode *n, int *err)
{
	real_init();
	if (!path)
		return false;
	*err = devnode_of_path(path, n);
	return *err != EMU_PASS;
}

/* Whether @fd is a program Binder descriptor; then its node in @n. */
static bool fd_node(int fd, struct devnode *n)
{
	struct bfile *b;
	uintptr_t e;

	real_init();
	e = fdt_load(fd);
	/* The library's own descriptors are sockets, and may be shown as such. */
	if (!e || e == FDT_HIDDEN || !(b = bfile_get(fd)))
		return false;
	devnode_of_bfile(b, n);
	bfile_put(b);
	return true;
}

/* What an *at call's (@dirfd, @path, @flags) names, as path_node. */
static bool at_node(int dirfd, const char *path, int flags, struct devnode *n, int *err)
{
	if (path && !path[0] && (flags & AT_EMPTY_PATH)) {
		*err = 0;
		return fd_node(dirfd, n);
	}
	return path_node(path, n, err);
}

/* @st: a struct stat or struct stat64, one layout. */
static int stat_result(int err, const struct devnode *n, void *st)
{
	return ret_errno(err ? err : devnode_stat(n, st));
}

/* --- access ---------------------------------------------------------------- */

#define ACCESS_FLAGS (AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)

/* The answer for a device node, or false to pass the call on. */
static bool access_node(int dirfd, const char *path, int mode, int flags, int *ret)
{
	struct devnode n;
	int err;

	if ((mode & ~(R_OK | W_OK | X_OK)) || (flags & ~ACCESS_FLAGS) ||
	    !at_node(dirfd, path, flags, &n, &err))
		return false;
	*ret = ret_errno(err ? err : devnode_access(&n, mode, flags));
	return true;
}

EXPORT int access(const char *path, int mode)
{
	int r;

	return access_node(AT_FDCWD, path, mode, 0, &r) ? r : PASS(access, path, mode);
}

EXPORT int euidaccess(const char *path, int mode)
{
	int r;

	return access_node(AT_FDCWD, path, mode, AT_EACCESS, &r) ? r : PASS(euidaccess, path, mode);
}

EXPORT int eaccess(const char *path, int mode)
{
	int r;

	return access_node(AT_FDCWD, path, mode, AT_EACCESS, &r) ? r : PASS(eaccess, path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	int r;

	return access_node(dirfd, path, mode, flags, &r)
		       ? r
		       : PASS(faccessat, dirfd, path, mode, flags);
}

/* --- stat ------------------------------------------------------------------ */

#define STAT_FLAGS (AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)

/* stat and lstat alike: the node is no symbolic link. */
#define PATH_STAT_BODY(fn, path, st)                       \
	do {                                               \
		struct devnode n_;                         \
		int err_;                                  \
                                                           \
		if (path_node(path, &n_, &err_))           \
			return stat_result(err_, &n_, st); \
		return PASS(fn, path, st);                 \
	} while (0)

#define FD_STAT_BODY(fn, fd, st)                        \
	do {                                            \
		struct devnode n_;                      \
                                                        \
		if (fd_node(fd, &n_))                   \
			return stat_result(0, &n_, st); \
		return PASS(fn, fd, st);                \
	} while (0)

#define AT_STAT_BODY(fn, dirfd, path, st, flags)                                         \
	do {                                                                             \
		struct devnode n_;                                                       \
		int err_;                                                                \
                                                                                         \
		if (!((flags) & ~STAT_FLAGS) && at_node(dirfd, path, flags, &n_, &err_)) \
			return stat_result(err_, &n_, st);                               \
		return PASS(fn, dirfd, path, st, flags);                                 \
	} while (0)

EXPORT int stat(const char *path, struct stat *st)
{
	PATH_STAT_BODY(stat, path, st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	PATH_STAT_BODY(stat64, path, st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	PATH_STAT_BODY(lstat, path, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	PATH_STAT_BODY(lstat64, path, st);
}

EXPORT int fstat(int fd, struct stat *st)
{
	FD_STAT_BODY(fstat, fd, st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
	FD_STAT_BODY(fstat64, fd, st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	AT_STAT_BODY(fstatat, dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	AT_STAT_BODY(fstatat64, dirfd, path, st, flags);
}

#define STATX_FLAGS (STAT_FLAGS | AT_STATX_SYNC_TYPE)

EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx)
{
	struct devnode n;
	int err;

	if (!(flags & ~STATX_FLAGS) && (flags & AT_STATX_SYNC_TYPE) != AT_STATX_SYNC_TYPE &&
	    !(mask & STATX__RESERVED) && at_node(dirfd, path, flags, &n, &err)) {
		return ret_errno(err ? err : devnode_statx(&n, stx));
	}
	return PASS(statx, dirfd, path, flags, mask, stx);
}

/*
 * glibc's versioned entries. Version 0 (_STAT_VER_KERNEL) and, on x86-64, 1
 * (_STAT_VER_LINUX) are struct stat; libc refuses any other with EINVAL.
 */
static bool stat_version(int ver)
{
#ifdef __x86_64__
	return ver == 0 || ver == 1;
#else
	return ver == 0;
#endif
}

#define XSTAT_BODY(fn, ver, path, st)                                 \
	do {                                                          \
		struct devnode n_;                                    \
		int err_;                                             \
                                                                      \
		if (stat_version(ver) && path_node(path, &n_, &err_)) \
			return stat_result(err_, &n_, st);            \
		return PASS(fn, ver, path, st);                       \
	} while (0)

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	XSTAT_BODY(xstat, ver, path, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	XSTAT_BODY(xstat64, ver, path, st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	XSTAT_BODY(lxstat, ver, path, st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	XSTAT_BODY(lxstat64, ver, path, st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	struct devnode n;

	if (stat_version(ver) && fd_node(fd, &n))
		return stat_result(0, &n, st);
	return PASS(fxstat, ver, fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	struct devnode n;

	if (stat_version(ver) && fd_node(fd, &n))
		return stat_result(0, &n, st);
	return PASS(fxstat64, ver, fd, st);
}

#define FXSTATAT_BODY(fn, ver, dirfd, path, st, flags)               \
	do {                                                         \
		struct devnode n_;                                   \
		int err_;                                            \
                                                                     \
		if (stat_version(ver) && !((flags) & ~STAT_FLAGS) && \
		    at_node(dirfd, path, flags, &n_, &err_))         \
			return stat_result(err_, &n_, st);           \
		return PASS(fn, ver, dirfd, path, st, flags);        \
	} while (0)

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	FXSTATAT_BODY(fxstatat, ver, dirfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	FXSTATAT_BODY(fxstatat64, ver, dirfd, path, st, flags);
}
