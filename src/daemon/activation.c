/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/activation.h"

#define LISTEN_FDS_START 3
#define MAX_PASSED	 64

/* A non-negative number from the environment variable @name, or -1. */
static long env_number(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || v < 0 ? -1 : v;
}

/* Splits LISTEN_FDNAMES (colon-separated) into @names; missing ones are "". */
static void passed_names(char *copy, size_t n, const char **names)
{
	char *p = copy;

	for (size_t i = 0; i < n; i++) {
		char *colon = p ? strchr(p, ':') : NULL;

		names[i] = p ? p : "";
		if (colon)
			*colon = '\0';
		p = colon ? colon + 1 : NULL;
	}
}

static bool is_seqpacket_listener(int fd)
{
	int domain = 0, type = 0, listening = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX)
		return false;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		return false;
	len = sizeof(int);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
}

int activation_claim(const char *const *contexts, size_t ncontexts, int *fds)
{
	long pid = env_number("LISTEN_PID"), n = env_number("LISTEN_FDS");
	const char *all_names = getenv("LISTEN_FDNAMES");
	const char *names[MAX_PASSED];
	bool claimed[MAX_PASSED] = { false };
	char *copy = NULL;
	int ret = 1;

	if (pid != (long)getpid() || n <= 0) {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		return 0;
	}
	if (n > MAX_PASSED) {
		fprintf(stderr, "ubinderd: %ld sockets passed (LISTEN_FDS), at most %d\n", n,
			MAX_PASSED);
		return -1;
	}
	if (!all_names)
		all_names = "";
	copy = strdup(all_names);
	if (!copy) {
		fprintf(stderr, "ubinderd: out of memory\n");
		return -1;
	}
	passed_names(copy, (size_t)n, names);
	for (size_t i = 0; i < ncontexts && ret == 1; i++) {
		long k = 0;

		while (k < n && strcmp(names[k], contexts[i]) != 0)
			k++;
		if (k == n && n == 1 && ncontexts == 1)
			k = 0;
		if (k == n || claimed[k]) {
			fprintf(stderr,
				"ubinderd: no socket passed for context %s (LISTEN_FDNAMES=%s)\n",
				contexts[i], all_names);
			ret = -1;
		} else if (!is_seqpacket_listener(LISTEN_FDS_START + (int)k)) {
			fprintf(stderr,
				"ubinderd: passed descriptor %ld (%s) is not a listening AF_UNIX "
				"SOCK_SEQPACKET socket\n",
				LISTEN_FDS_START + k, names[k]);
			ret = -1;
		} else {
			claimed[k] = true;
			fds[i] = LISTEN_FDS_START + (int)k;
		}
	}
	for (long k = 0; k < n && ret == 1; k++) {
		if (!claimed[k]) {
			fprintf(stderr,
				"ubinderd: passed socket '%s' is for no context (-c NAME)\n",
				names[k]);
			ret = -1;
		}
	}
	for (size_t i = 0; i < ncontexts && ret == 1; i++) {
		int flags = fcntl(fds[i], F_GETFL);

		if (flags < 0 || fcntl(fds[i], F_SETFL, flags | O_NONBLOCK) < 0 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) {
			fprintf(stderr, "ubinderd: passed socket %d: %s\n", fds[i],
				strerror(errno));
			ret = -1;
		}
	}
	free(copy);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return ret;
}
