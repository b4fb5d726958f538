/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/socket_dir.h"
#include "wire/trust.h"

int socket_dir_open(const char *dir)
{
	struct ubw_trust own = { { geteuid(), (uid_t)-1, (uid_t)-1 } };
	char why[256];
	int fd;

	if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "ubinderd: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	fd = ubw_trust_open_dir(&ubw_trust_libc, dir, &own, why, sizeof(why));
	if (fd == -EACCES)
		fprintf(stderr, "ubinderd: refusing to serve in %s: %s\n", dir, why);
	else if (fd < 0)
		fprintf(stderr, "ubinderd: cannot open %s: %s\n", dir, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

/* The address of @name inside @dirfd: through /proc/self/fd, so that no
 * path component is looked up again; the plain @path without /proc. */
static void address_in(int dirfd, const char *path, const char *name, struct sockaddr_un *sa)
{
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, name);

	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) || access("/proc/self/fd", X_OK) < 0)
		snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
}

/* Whether a daemon already answers at @sa. */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

int socket_listen_in(int dirfd, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, tmp_sa = { .sun_family = AF_UNIX };
	char tmp_path[sizeof(sa.sun_path) + 32], tmp_name[sizeof(sa.sun_path) + 32];
	struct stat st;
	int fd, n;

	if (strlen(path) >= sizeof(sa.sun_path) || !*name) {
		fprintf(stderr, "ubinderd: bad socket path: %s\n", path);
		return -1;
	}
	/* Bound under a name of our own first (NAME.listening.PID): the socket
	 * gets its final name only once it accepts, so whoever waits for the
	 * path to appear never finds a socket that refuses connections. */
	snprintf(tmp_name, sizeof(tmp_name), "%s.listening.%d", name, (int)getpid());
	n = snprintf(tmp_path, sizeof(tmp_path), "%.*s%s", (int)(name - path), path, tmp_name);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ubinderd: socket path too long: %s\n", path);
		return -1;
	}
	address_in(dirfd, path, name, &sa);
	address_in(dirfd, tmp_path, tmp_name, &tmp_sa);
	if (socket_alive(&sa)) {
		fprintf(stderr, "ubinderd: another daemon is already serving %s\n", path);
		return -1;
	}
	/* A stale socket of a daemon that died; nothing else is ours to remove. */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "ubinderd: cannot listen on %s: %s\n", path, strerror(EADDRINUSE));
		return -1;
	}
	if (fstatat(dirfd, tmp_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode))
		unlinkat(dirfd, tmp_name, 0);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&tmp_sa, sizeof(tmp_sa)) < 0) {
		fprintf(stderr, "ubinderd: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Replaces a stale socket atomically. */
	if (listen(fd, 512) < 0 || fchmodat(dirfd, tmp_name, 0666, 0) < 0 ||
	    renameat(dirfd, tmp_name, dirfd, name) < 0) {
		fprintf(stderr, "ubinderd: cannot listen on %s: %s\n", path, strerror(errno));
		unlinkat(dirfd, tmp_name, 0);
		close(fd);
		return -1;
	}
	return fd;
}
