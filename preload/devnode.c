/* SPDX-License-Identifier: MIT */
/*
 * The emulated device nodes: what stat and access report at a Binder device
 * path and on a Binder descriptor (docs/emulation.md, DEVICE NODES).
 *
 * A path names a node while the socket of the daemon that serves it exists:
 * then it is a character device, mode 0666, owned by root, on the file
 * system of /dev. Its device number is the misc major with a minor per
 * context, its inode number is derived from the socket path (so two device
 * paths served by one socket are hard links of one node), and its times are
 * the socket's (when the daemon created it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bfile.h"
#include "devices.h"
#include "devnode.h"
#include "preload.h"
#include "real.h"
#include "wire/trust.h"

/* The kernel's MISC_MAJOR (<linux/major.h>): Binder devices are misc devices. */
#define MISC_MAJOR 10

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* A minor per context: fixed for the three standard ones, else from the name
 * (in the range the kernel hands out dynamically to misc devices). */
static unsigned context_minor(const char *sock)
{
	static const char *const known[] = { "binder", "hwbinder", "vndbinder" };
	const char *name = strrchr(sock, '/');

	name = name ? name + 1 : sock;
	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(name, known[i]) == 0)
			return 124 - i;
	}
	return 64 + (unsigned)(fnv1a(name) % 58);
}

/* Fills @n for the daemon socket @sock; @st is the socket's stat, or NULL
 * if it cannot be seen. */
static void node_of_socket(const char *sock, const struct stat *st, struct devnode *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->sock, sizeof(n->sock), "%s", sock);
	n->rdev = makedev(MISC_MAJOR, context_minor(sock));
	n->ino = fnv1a(sock) | 1;
	if (st) {
		n->atime = st->st_atim;
		n->mtime = st->st_mtim;
		n->ctime = st->st_ctim;
	}
}

int devnode_of_path(const char *path, struct devnode *n)
{
	char sock[DEVICE_PATH_MAX];
	struct stat st;

	if (!device_lookup(path, sock, sizeof(sock)))
		return EMU_PASS;
	if (device_path_names_dir(path))
		return -ENOTDIR;
	if (real.fstatat(AT_FDCWD, sock, &st, 0) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -ENOENT; /* open() would not reach a daemon either */
		node_of_socket(sock, &st, n);
	} else if (errno == EACCES) {
		node_of_socket(sock, NULL, n); /* open() says EACCES */
	} else {
		return -ENOENT;
	}
	return 0;
}

void devnode_of_bfile(const struct bfile *b, struct devnode *n)
{
	struct stat st;

	/* The open device stays what it was, even if its socket is gone since. */
	node_of_socket(b->s.path, real.fstatat(AT_FDCWD, b->s.path, &st, 0) == 0 ? &st : NULL, n);
}

/*
 * The node's fields go to the program's buffer. The kernel first fills it
 * with /dev's: that gives st_dev, and a buffer the kernel cannot write
 * fails with its EFAULT, as the device's stat would, instead of crashing
 * here.
 */
int devnode_stat(const struct devnode *n, struct stat *st)
{
	dev_t dev = 0;

	if (real.fstatat(AT_FDCWD, "/dev", st, 0) == 0)
		dev = st->st_dev;
	else if (errno == EFAULT)
		return -EFAULT;
	memset(st, 0, sizeof(*st));
	st->st_dev = dev;
	st->st_ino = n->ino;
	st->st_mode = S_IFCHR | 0666;
	st->st_nlink = 1;
	st->st_rdev = n->rdev;
	st->st_blksize = 4096;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
	return 0;
}

static struct statx_timestamp stx_time(struct timespec t)
{
	return (struct statx_timestamp){ .tv_sec = t.tv_sec, .tv_nsec = (uint32_t)t.tv_nsec };
}

int devnode_statx(const struct devnode *n, struct statx *stx)
{
	uint32_t dev_major = 0, dev_minor = 0;

	if (real.statx && real.statx(AT_FDCWD, "/dev", 0, STATX_BASIC_STATS, stx) == 0) {
		dev_major = stx->stx_dev_major;
		dev_minor = stx->stx_dev_minor;
	} else if (errno == EFAULT) {
		return -EFAULT;
	}
	memset(stx, 0, sizeof(*stx));
	/* What a device node of devtmpfs reports, whatever was asked. */
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = 4096;
	stx->stx_nlink = 1;
	stx->stx_mode = S_IFCHR | 0666;
	stx->stx_ino = n->ino;
	stx->stx_atime = stx_time(n->atime);
	stx->stx_mtime = stx_time(n->mtime);
	stx->stx_ctime = stx_time(n->ctime);
	stx->stx_rdev_major = major(n->rdev);
	stx->stx_rdev_minor = minor(n->rdev);
	stx->stx_dev_major = dev_major;
	stx->stx_dev_minor = dev_minor;
	return 0;
}

/* Whether the client side trusts the directory of @sock (as open's connect
 * checks it first): owned by a trusted uid, writable by no one else. */
static bool trusted_dir(const char *sock)
{
	/* The functions under our wrappers, as the transport's connect uses. */
	const struct ubw_trust_sys sys = { real.open, real.close, real.fstat };
	const char *slash = strrchr(sock, '/');
	char dir[DEVICE_PATH_MAX], why[256];
	struct ubw_trust t;
	int fd;

	if (!slash)
		return false; /* device_lookup gives absolute paths only */
	snprintf(dir, sizeof(dir), "%.*s", slash == sock ? 1 : (int)(slash - sock), sock);
	ubw_trust_client(&t);
	fd = ubw_trust_open_dir(&sys, dir, &t, why, sizeof(why));
	if (fd < 0)
		return false;
	real.close(fd);
	return true;
}

int devnode_access(const struct devnode *n, int mode, int flags)
{
	if (mode & X_OK)
		return -EACCES; /* no execute bit: refused even to root */
	if (!(mode & (R_OK | W_OK)))
		return 0;
	/* What open's connect needs: a trusted directory, a writable socket. */
	if (!trusted_dir(n->sock) ||
	    real.faccessat(AT_FDCWD, n->sock, W_OK, flags & AT_EACCESS) != 0)
		return -EACCES;
	return 0;
}
