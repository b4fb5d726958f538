/* SPDX-License-Identifier: MIT */
/*
 * Byte streams (rpc_stream.h). A plain stream is a blocking socket whose
 * waits SO_RCVTIMEO / SO_SNDTIMEO bound; a TLS stream is a non-blocking
 * socket under rpc_tls.c, which bounds its waits itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "rpc_stream.h"
#include "rpc_tls.h"

#define UNIX_PREFIX  "unix:"
#define TCP_PREFIX   "tcp:"
#define VSOCK_PREFIX "vsock:"

struct rpc_stream {
	int fd;
	struct rpc_tls_conn *tls; /* NULL: plain */
	int timeout_ms;		  /* TLS: each wait's limit (-1: none) */
};

static bool has_prefix(const char *address, const char *prefix)
{
	return !strncmp(address, prefix, strlen(prefix));
}

/* A decimal u32 of 1 to 10 digits ending at @end (or the string's end). */
static bool parse_u32(const char *s, char end, uint32_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	for (; *s >= '0' && *s <= '9' && digits <= 10; s++, digits++)
		v = v * 10 + (uint64_t)(*s - '0');
	if (!digits || digits > 10 || v > UINT32_MAX || *s != end)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* vsock:CID:PORT, both decimal u32. */
static bool parse_vsock(const char *address, struct sockaddr_vm *sa)
{
	const char *cid = address + strlen(VSOCK_PREFIX), *colon = strchr(cid, ':');
	uint32_t c, p;

	if (!colon || !parse_u32(cid, ':', &c) || !parse_u32(colon + 1, '\0', &p))
		return false;
	*sa = (struct sockaddr_vm){ .svm_family = AF_VSOCK, .svm_cid = c, .svm_port = p };
	return true;
}

bool rpc_address_valid(const char *address)
{
	struct sockaddr_vm vm;

	return (has_prefix(address, UNIX_PREFIX) && address[5]) ||
	       has_prefix(address, TCP_PREFIX) ||
	       (has_prefix(address, VSOCK_PREFIX) && parse_vsock(address, &vm));
}

bool rpc_address_is_unix(const char *address)
{
	return has_prefix(address, UNIX_PREFIX);
}

/* What an errno of a vsock socket means here, or "". */
static const char *vsock_hint(int err)
{
	switch (err) {
	case EAFNOSUPPORT:
		return " (this kernel has no vsock)";
	case ENODEV:
	case EADDRNOTAVAIL:
	case ENETUNREACH:
	case ETIMEDOUT:
		return " (no vsock transport reaches that CID: in a VM, the host is CID 2; "
		       "loopback, CID 1, needs vsock_loopback)";
	default:
		return "";
	}
}

/* Binds and listens, or connects, @fd to @sa; closes @fd on failure. */
static int attach(int fd, const struct sockaddr *sa, socklen_t len, bool listening,
		  const char *address)
{
	int one = 1, err;

	if (fd >= 0 && listening && sa->sa_family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 &&
	    (listening ? bind(fd, sa, len) == 0 && listen(fd, 16) == 0 : connect(fd, sa, len) == 0))
		return fd;
	err = errno;
	fprintf(stderr, "ubinder-rpc: cannot %s %s: %s%s\n", listening ? "listen on" : "connect to",
		address, strerror(err), sa->sa_family == AF_VSOCK ? vsock_hint(err) : "");
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

static int open_vsock(const char *address, bool listening)
{
	struct sockaddr_vm sa;
	int fd;

	if (!parse_vsock(address, &sa)) {
		fprintf(stderr, "ubinder-rpc: bad vsock address '%s' (want vsock:CID:PORT)\n",
			address);
		return -1;
	}
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;

		fprintf(stderr, "ubinder-rpc: cannot open %s: %s%s\n", address, strerror(err),
			vsock_hint(err));
		return -1;
	}
	return attach(fd, (struct sockaddr *)&sa, sizeof(sa), listening, address);
}

static int open_socket(const char *address, bool listening)
{
	if (has_prefix(address, UNIX_PREFIX))
		return open_unix(address, listening);
	if (has_prefix(address, VSOCK_PREFIX))
		return open_vsock(address, listening);
	return open_tcp(address, listening);
}

int rpc_listen(const char *address)
{
	return open_socket(address, true);
}

/* @sa in address form into @buf; false for a Unix socket's. */
static bool format_address(const struct sockaddr_storage *sa, socklen_t len, char *buf, size_t size)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (sa->ss_family == AF_VSOCK) {
		const struct sockaddr_vm *vm = (const struct sockaddr_vm *)sa;

		snprintf(buf, size, "vsock:%u:%u", vm->svm_cid, vm->svm_port);
		return true;
	}
	if (sa->ss_family == AF_UNIX ||
	    getnameinfo((const struct sockaddr *)sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV))
		return false;
	snprintf(buf, size, strchr(host, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s", host, port);
	return true;
}

void rpc_listen_address(int fd, const char *address, char *buf, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) || !format_address(&sa, len, buf, size))
		snprintf(buf, size, "%s", address);
}

/* Sends small frames at once on TCP (no Nagle delay: a reply's head and
 * data are separate writes); fails harmlessly on other sockets. */
static void no_delay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* @fd (taken) as a stream, TLS with @tls as client or server. */
static struct rpc_stream *wrap(int fd, const struct rpc_tls *tls, int timeout_s, const char *peer)
{
	struct rpc_stream *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return NULL;
	}
	s->fd = fd;
	s->timeout_ms = -1;
	no_delay(fd);
	if (tls) {
		int flags = fcntl(fd, F_GETFL);

		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) ||
		    !(s->tls = rpc_tls_handshake(tls, fd, timeout_s * 1000, peer))) {
			close(fd);
			free(s);
			return NULL;
		}
	}
	return s;
}

struct rpc_stream *rpc_stream_connect(const char *address, const struct rpc_tls *tls, int timeout_s)
{
	int fd = open_socket(address, false);

	return fd < 0 ? NULL : wrap(fd, tls, timeout_s, address);
}

struct rpc_stream *rpc_stream_accepted(int fd, const struct rpc_tls *tls, int timeout_s)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char peer[128] = "a peer on a Unix socket";

	if (tls && !getpeername(fd, (struct sockaddr *)&sa, &len))
		format_address(&sa, len, peer, sizeof(peer));
	return wrap(fd, tls, timeout_s, peer);
}

void rpc_stream_set_timeout(struct rpc_stream *s, int seconds)
{
	struct timeval limit = { .tv_sec = seconds };

	s->timeout_ms = seconds * 1000;
	if (!s->tls) {
		setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
		setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	}
}

int rpc_stream_wait_readable(struct rpc_stream *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	int n;

	if (s->tls)
		return rpc_tls_wait_readable(s->tls, s->timeout_ms);
	while ((n = poll(&pfd, 1, -1)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

int rpc_stream_fd(const struct rpc_stream *s)
{
	return s->fd;
}

void rpc_stream_shutdown(struct rpc_stream *s)
{
	shutdown(s->fd, SHUT_RDWR);
}

void rpc_stream_close(struct rpc_stream *s)
{
	if (!s)
		return;
	rpc_tls_conn_free(s->tls);
	close(s->fd);
	free(s);
}

static int transfer_full(struct rpc_stream *s, uint8_t *p, size_t n, bool writing)
{
	if (s->tls)
		return rpc_tls_transfer(s->tls, p, n, writing, s->timeout_ms);
	while (n) {
		ssize_t r = writing ? send(s->fd, p, n, MSG_NOSIGNAL) : read(s->fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int rpc_read_full(struct rpc_stream *s, void *buf, size_t n)
{
	return transfer_full(s, buf, n, false);
}

int rpc_write_full(struct rpc_stream *s, const void *buf, size_t n)
{
	return transfer_full(s, (uint8_t *)(uintptr_t)buf, n, true);
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

int rpc_read_full_fds(struct rpc_stream *s, void *buf, size_t n, int *fds, unsigned *nfds,
		      unsigned max)
{
	uint8_t *p = buf;
	union {
		struct cmsghdr align;
		char buf[FDS_CONTROL_SIZE];
	} control;

	if (s->tls)
		return rpc_read_full(s, buf, n);
	while (n) {
		struct iovec iov = { .iov_base = p, .iov_len = n };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = control.buf,
				    .msg_controllen = sizeof(control.buf) };
		ssize_t r = recvmsg(s->fd, &m, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || take_fds(&m, fds, nfds, max))
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int rpc_write_full_fds(struct rpc_stream *s, const void *buf, size_t n, const int *fds,
		       unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[FDS_CONTROL_SIZE];
	} control;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (!nfds)
		return rpc_write_full(s, buf, n);
	if (nfds > 256 || !n || s->tls)
		return -1;
	m.msg_control = control.buf;
	m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	while ((r = sendmsg(s->fd, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return -1;
	return rpc_write_full(s, (const uint8_t *)buf + r, n - (size_t)r);
}
