/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc_stream.h"

#define UNIX_PREFIX "unix:"
#define TCP_PREFIX  "tcp:"

bool rpc_address_valid(const char *address)
{
	return (!strncmp(address, UNIX_PREFIX, 5) && address[5]) ||
	       !strncmp(address, TCP_PREFIX, 4);
}

/* Binds and listens, or connects, @fd to @sa; closes @fd on failure. */
static int attach(int fd, const struct sockaddr *sa, socklen_t len, bool listening,
		  const char *address)
{
	int one = 1;

	if (fd >= 0 && listening && sa->sa_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 &&
	    (listening ? bind(fd, sa, len) == 0 && listen(fd, 16) == 0 : connect(fd, sa, len) == 0))
		return fd;
	fprintf(stderr, "ubinder-rpc: cannot %s %s: %s\n", listening ? "listen on" : "connect to",
		address, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int open_unix(const char *address, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = address + strlen(UNIX_PREFIX);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ubinder-rpc: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	return attach(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), (struct sockaddr *)&sa,
		      sizeof(sa), listening, address);
}

static int open_tcp(const char *address, bool listening)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | (listening ? AI_PASSIVE : 0) };
	const char *hostport = address + strlen(TCP_PREFIX);
	const char *colon = strrchr(hostport, ':');
	struct addrinfo *ai;
	char host[256];
	int fd, err;

	if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof(host) ||
	    !colon[1]) {
		fprintf(stderr, "ubinder-rpc: bad TCP address '%s' (want tcp:HOST:PORT)\n",
			address);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		fprintf(stderr, "ubinder-rpc: %s: %s\n", address, gai_strerror(err));
		return -1;
	}
	fd = attach(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol),
		    ai->ai_addr, ai->ai_addrlen, listening, address);
	freeaddrinfo(ai);
	return fd;
}

int rpc_stream_open(const char *address, bool listening)
{
	return !strncmp(address, UNIX_PREFIX, 5) ? open_unix(address, listening)
						 : open_tcp(address, listening);
}

void rpc_stream_no_delay(int fd)
{
	int one = 1;

	/* fails with EOPNOTSUPP on a Unix socket, which needs nothing */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void rpc_stream_bound_address(int fd, const char *address, char *buf, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (!strncmp(address, UNIX_PREFIX, 5) || getsockname(fd, (struct sockaddr *)&sa, &len) ||
	    getnameinfo((struct sockaddr *)&sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, size, "%s", address);
		return;
	}
	snprintf(buf, size, strchr(host, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s", host, port);
}

static int transfer_full(int fd, uint8_t *p, size_t n, bool writing)
{
	while (n) {
		ssize_t r = writing ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int rpc_read_full(int fd, void *buf, size_t n)
{
	return transfer_full(fd, buf, n, false);
}

int rpc_write_full(int fd, const void *buf, size_t n)
{
	return transfer_full(fd, (uint8_t *)(uintptr_t)buf, n, true);
}
