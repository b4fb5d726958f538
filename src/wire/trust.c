/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "wire/trust.h"

const struct ubw_trust_sys ubw_trust_libc = {
	.open = open,
	.close = close,
	.fstat = fstat,
};

static int trusted_uid(const struct ubw_trust *t, uid_t uid)
{
	for (size_t i = 0; i < sizeof(t->uids) / sizeof(t->uids[0]); i++) {
		if (t->uids[i] != (uid_t)-1 && t->uids[i] == uid)
			return 1;
	}
	return 0;
}

void ubw_trust_client(struct ubw_trust *t)
{
	const char *extra = getenv("UBINDER_DAEMON_UID");
	char *end;
	unsigned long v;

	t->uids[0] = geteuid();
	t->uids[1] = 0;
	t->uids[2] = (uid_t)-1;
	if (extra && *extra) {
		errno = 0;
		v = strtoul(extra, &end, 10);
		if (!errno && !*end && v < (uid_t)-1)
			t->uids[2] = (uid_t)v;
	}
}

int ubw_trust_open_dir(const struct ubw_trust_sys *sys, const char *dir, const struct ubw_trust *t,
		       char *why, size_t size)
{
	/* O_PATH: a directory we may search but not list is still checked;
	 * O_NOFOLLOW without O_DIRECTORY: a symlink is opened itself, and told. */
	int fd = sys->open(dir, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		int err = errno;

		if (err == ENOTDIR) {
			snprintf(why, size, "%s is not a directory", dir);
			return -EACCES;
		}
		snprintf(why, size, "cannot open the directory %s: %s", dir, strerror(err));
		return -err;
	}
	if (sys->fstat(fd, &st) < 0) {
		int err = -errno;

		sys->close(fd);
		return err;
	}
	if (S_ISLNK(st.st_mode))
		snprintf(why, size, "the directory %s is a symlink", dir);
	else if (!S_ISDIR(st.st_mode))
		snprintf(why, size, "%s is not a directory", dir);
	else if (!trusted_uid(t, st.st_uid))
		snprintf(why, size,
			 "the directory %s is owned by uid %u, not by a trusted uid (ours, root, "
			 "$UBINDER_DAEMON_UID)",
			 dir, (unsigned)st.st_uid);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		snprintf(why, size, "the directory %s is writable by %s (mode %04o)", dir,
			 st.st_mode & S_IWOTH ? "others" : "its group",
			 (unsigned)(st.st_mode & 07777));
	else
		return fd;
	sys->close(fd);
	return -EACCES;
}

int ubw_trust_check_peer(int sock, const struct ubw_trust *t, char *why, size_t size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		snprintf(why, size, "no peer credentials: %s", strerror(errno));
		return -EPERM;
	}
	if (!trusted_uid(t, cred.uid)) {
		snprintf(why, size,
			 "the listener (pid %d) runs as uid %u, not as a trusted uid (ours, root, "
			 "$UBINDER_DAEMON_UID)",
			 (int)cred.pid, (unsigned)cred.uid);
		return -EPERM;
	}
	return 0;
}

/* The directory part of @path ("." if none) into @buf. */
static void directory_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, size, ".");
	else if (slash == path)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)(slash - path), path);
}

int ubw_connect_trusted(const struct ubw_trust_sys *sys, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], why[256];
	struct ubw_trust t;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	ubw_trust_client(&t);
	directory_of(path, dir, sizeof(dir));
	err = ubw_trust_open_dir(sys, dir, &t, why, sizeof(why));
	if (err < 0 && err != -EACCES)
		return err;
	if (err >= 0) {
		sys->close(err);
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			err = -errno;
			sys->close(fd);
			return err;
		}
		err = ubw_trust_check_peer(fd, &t, why, sizeof(why));
		if (err == 0)
			return fd;
		sys->close(fd);
	}
	fprintf(stderr, "ubinder: refusing %s: %s\n", path, why);
	return err;
}
