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

bool rpc_address_is_unix(const char *address)
{
	return !strncmp(address, UNIX_PREFIX, 5);
}

/* The descriptors of one control message, appended to @fds; -1 past @max. */
static int take_fds(struct msghdr *m, int *fds, unsigned *nfds, unsigned max)
{
	int err = (m->msg_flags & MSG_CTRUNC) ? -1 : 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < max) {
				fds[(*nfds)++] = got;
			} else {
				close(got);
				err = -1;
			}
		}
	}
	return err;
}

/* Room for RPC_MAX_OBJECTS descriptors (rpc_wire.h's bound). */
#define FDS_CONTROL_SIZE CMSG_SPACE(256 * sizeof(int))

int rpc_read_full_fds(int fd, void *buf, size_t n, int *fds, unsigned *nfds, unsigned max)
{
	uint8_t *p = buf;
	union {
		struct cmsghdr align;
		char buf[FDS_CONTROL_SIZE];
	} control;

	while (n) {
		struct iovec iov = { .iov_base = p, .iov_len = n };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = control.buf,
				    .msg_controllen = sizeof(control.buf) };
		ssize_t r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || take_fds(&m, fds, nfds, max))
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int rpc_write_full_fds(int fd, const void *buf, size_t n, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[FDS_CONTROL_SIZE];
	} control;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (!nfds)
		return rpc_write_full(fd, buf, n);
	if (nfds > 256 || !n)
		return -1;
	m.msg_control = control.buf;
	m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	while ((r = sendmsg(fd, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return -1;
	return rpc_write_full(fd, (const uint8_t *)buf + r, n - (size_t)r);
}
