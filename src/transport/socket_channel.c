/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <sys/socket.h>

#include "transport/channel.h"
#include "wire/packet.h"
#include "wire/wire.h"

int ubt_sock_send(int sock, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds)
{
	for (;;) {
		if (ubw_send_packet(sock, iov, iovcnt, fds, nfds, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return errno == EPIPE || errno == ECONNRESET ? -EBADF : -errno;
	}
}

ssize_t ubt_sock_recv(const struct ubt_sys *sys, int sock, void *buf, size_t size, int *fds,
		      size_t *nfds, bool interruptible)
{
	int unwanted[UBW_MAX_FDS];
	size_t nunwanted = 0;
	int flags = 0;
	ssize_t n;

	for (;;) {
		n = ubw_recv_packet(sock, buf, size, fds ? fds : unwanted, UBW_MAX_FDS,
				    fds ? nfds : &nunwanted, 0, &flags);
		for (size_t i = 0; i < nunwanted; i++)
			sys->close(unwanted[i]);
		if (n >= 0)
			break;
		if (errno == EINTR && interruptible)
			return -EINTR;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	if (n == 0)
		return -EBADF; /* the daemon closed the device */
	/* MSG_CTRUNC alone means descriptors we could not take (RLIMIT_NOFILE):
	 * the packet is whole, and the caller sees fewer descriptors. */
	if (flags & MSG_TRUNC)
		return -EIO;
	return n;
}
