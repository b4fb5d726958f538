/* SPDX-License-Identifier: MIT */
/*
 * The device paths for access and stat, and fstat of an open device: what a
 * program checks before it opens (Android 11+ libbinder tests
 * access(device) and falls back to /dev/binder). Printed are only the
 * fields that any real Binder device node shows the same way (type, owner
 * read/write, the misc major, links, size, access results, and fstat being
 * the node stat finds), not those a system chooses (minor, inode, times,
 * group and other permission bits).
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *const devs[3] = { "/dev/binder", "/dev/hwbinder", "/dev/vndbinder" };

static const char *rc(int r)
{
	return r < 0 ? errname(errno) : "0";
}

/* The fields every Binder device node agrees on. */
static void show_stat(const char *what, int r, const struct stat *st)
{
	if (r < 0) {
		say("%s -> %s", what, errname(errno));
		return;
	}
	say("%s -> 0 chr=%s owner-rw=%s exec=%s major=%u nlink=%lu uid=%u size=%lld", what,
	    S_ISCHR(st->st_mode) ? "yes" : "no",
	    (st->st_mode & (S_IRUSR | S_IWUSR)) == (S_IRUSR | S_IWUSR) ? "yes" : "no",
	    st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH) ? "yes" : "no", major(st->st_rdev),
	    (unsigned long)st->st_nlink, (unsigned)st->st_uid, (long long)st->st_size);
}

static bool same_node(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_rdev == b->st_rdev &&
	       a->st_mode == b->st_mode;
}

static void show_statx(const char *what, int r, const struct statx *x, const struct stat *ref)
{
	if (r < 0) {
		say("%s -> %s", what, errname(errno));
		return;
	}
	say("%s -> 0 basic=%s chr=%s rdev-major=%u same-as-stat=%s", what,
	    (x->stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS ? "yes" : "no",
	    S_ISCHR(x->stx_mode) ? "yes" : "no", x->stx_rdev_major,
	    x->stx_ino == ref->st_ino &&
			    makedev(x->stx_rdev_major, x->stx_rdev_minor) == ref->st_rdev &&
			    makedev(x->stx_dev_major, x->stx_dev_minor) == ref->st_dev
		    ? "yes"
		    : "no");
}

static void paths(const char *dev, struct stat *ref)
{
	char what[128];
	struct stat st;
	struct statx x;

	say("-- %s", dev);
	say("access F_OK -> %s", rc(access(dev, F_OK)));
	say("access R_OK -> %s", rc(access(dev, R_OK)));
	say("access W_OK -> %s", rc(access(dev, W_OK)));
	say("access R_OK|W_OK -> %s", rc(access(dev, R_OK | W_OK)));
	say("access X_OK -> %s", rc(access(dev, X_OK)));
	say("euidaccess R_OK|W_OK -> %s", rc(euidaccess(dev, R_OK | W_OK)));
	say("faccessat R_OK|W_OK AT_EACCESS -> %s",
	    rc(faccessat(AT_FDCWD, dev, R_OK | W_OK, AT_EACCESS)));
	say("faccessat F_OK AT_SYMLINK_NOFOLLOW -> %s",
	    rc(faccessat(AT_FDCWD, dev, F_OK, AT_SYMLINK_NOFOLLOW)));
	int r = stat(dev, ref);
	show_stat("stat", r, ref);
	r = lstat(dev, &st);
	snprintf(what, sizeof(what), "lstat (same node: %s)",
		 r == 0 && same_node(&st, ref) ? "yes" : "no");
	show_stat(what, r, &st);
	r = fstatat(AT_FDCWD, dev, &st, AT_SYMLINK_NOFOLLOW);
	snprintf(what, sizeof(what), "fstatat AT_SYMLINK_NOFOLLOW (same node: %s)",
		 r == 0 && same_node(&st, ref) ? "yes" : "no");
	show_stat(what, r, &st);
	r = statx(AT_FDCWD, dev, 0, STATX_BASIC_STATS, &x);
	show_statx("statx", r, &x, ref);
}

static void descriptor(const char *dev, const struct stat *ref)
{
	struct stat st;
	struct statx x;
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fail("open %s: %s", dev, errname(errno));
	say("-- an open %s", dev);
	int r = fstat(fd, &st);
	say("fstat -> %s chr=%s same-node=%s", rc(r), S_ISCHR(st.st_mode) ? "yes" : "no",
	    same_node(&st, ref) ? "yes" : "no");
	r = fstatat(fd, "", &st, AT_EMPTY_PATH);
	say("fstatat \"\" AT_EMPTY_PATH -> %s same-node=%s", rc(r),
	    same_node(&st, ref) ? "yes" : "no");
	r = statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x);
	show_statx("statx \"\" AT_EMPTY_PATH", r, &x, ref);
	say("faccessat \"\" R_OK|W_OK AT_EMPTY_PATH -> %s",
	    rc(faccessat(fd, "", R_OK | W_OK, AT_EMPTY_PATH)));
	r = fstatat(fd, "x", &st, 0);
	say("fstatat of a name under it -> %s", rc(r));
	close(fd);
}

int main(void)
{
	conf_start("P", 20);
	struct stat ref[3], st;
	struct statx x;

	for (int i = 0; i < 3; i++)
		paths(devs[i], &ref[i]);
	say("-- the three are distinct devices: %s",
	    ref[0].st_rdev != ref[1].st_rdev && ref[0].st_rdev != ref[2].st_rdev &&
			    ref[1].st_rdev != ref[2].st_rdev
		    ? "yes"
		    : "no");
	for (int i = 0; i < 3; i++)
		descriptor(devs[i], &ref[i]);

	say("-- paths that are no device");
	say("access /dev/nosuchbinder F_OK -> %s", rc(access("/dev/nosuchbinder", F_OK)));
	show_stat("stat /dev/nosuchbinder", stat("/dev/nosuchbinder", &st), &st);
	say("access /dev/binder/ F_OK -> %s", rc(access("/dev/binder/", F_OK)));
	show_stat("stat /dev/binder/.", stat("/dev/binder/.", &st), &st);
	int fd = open("/dev/binder/", O_RDWR | O_CLOEXEC);
	say("open /dev/binder/ -> %s", fd < 0 ? errname(errno) : "0");
	if (fd >= 0)
		close(fd);
	int r = stat("/dev/null", &st);
	say("stat /dev/null -> %s chr=%s rdev=%u:%u mode=%o", rc(r),
	    S_ISCHR(st.st_mode) ? "yes" : "no", major(st.st_rdev), minor(st.st_rdev),
	    (unsigned)(st.st_mode & 07777));
	int p[2];
	if (pipe(p) < 0)
		fail("pipe: %s", errname(errno));
	r = fstat(p[0], &st);
	say("fstat of a pipe -> %s fifo=%s", rc(r), S_ISFIFO(st.st_mode) ? "yes" : "no");
	close(p[0]);
	close(p[1]);

	say("-- arguments the kernel refuses first");
	say("access mode 8 -> %s", rc(access("/dev/binder", 8)));
	say("faccessat flags 0x10000000 -> %s",
	    rc(faccessat(AT_FDCWD, "/dev/binder", R_OK, 0x10000000)));
	say("fstatat flags 0x10000000 -> %s",
	    rc(fstatat(AT_FDCWD, "/dev/binder", &st, 0x10000000)));
	say("statx AT_STATX_SYNC_TYPE -> %s",
	    rc(statx(AT_FDCWD, "/dev/binder", AT_STATX_SYNC_TYPE, STATX_BASIC_STATS, &x)));
	say("statx mask STATX__RESERVED -> %s",
	    rc(statx(AT_FDCWD, "/dev/binder", 0, STATX__RESERVED, &x)));
	say("stat into an unwritable buffer -> %s", rc(stat("/dev/binder", (struct stat *)8)));
	say("statx into an unwritable buffer -> %s",
	    rc(statx(AT_FDCWD, "/dev/binder", 0, STATX_BASIC_STATS, (struct statx *)8)));
	fd = open("/dev/binder", O_RDWR | O_CLOEXEC);
	say("fstat of an open device into an unwritable buffer -> %s",
	    rc(fstat(fd, (struct stat *)8)));
	close(fd);
	say("done");
	return 0;
}
