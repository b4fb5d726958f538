/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/packet.h"
#include "wire/wire.h"

ssize_t ubw_send_packet(int sock, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds,
			int flags)
{
	union {
		char buf[CMSG_SPACE(UBW_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	if (nfds) {
		struct cmsghdr *cmsg;

		if (nfds > UBW_MAX_FDS)
			nfds = UBW_MAX_FDS;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &msg, flags);
}

ssize_t ubw_recv_packet_from(int sock, void *buf, size_t size, int *fds, size_t max_fds,
			     size_t *nfds, int flags, int *msg_flags, struct ucred *sender,
			     bool *has_sender)
{
	union {
		char buf[CMSG_SPACE(UBW_MAX_FDS * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, size };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*nfds = 0;
	if (has_sender)
		*has_sender = false;
	n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		size_t k;

		if (cmsg->cmsg_level != SOL_SOCKET)
			continue;
		if (cmsg->cmsg_type == SCM_CREDENTIALS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			if (sender && has_sender) {
				memcpy(sender, CMSG_DATA(cmsg), sizeof(*sender));
				*has_sender = true;
			}
			continue;
		}
		if (cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			if (fds && *nfds < max_fds)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (msg_flags)
		*msg_flags = msg.msg_flags;
	return n;
}

ssize_t ubw_recv_packet(int sock, void *buf, size_t size, int *fds, size_t max_fds, size_t *nfds,
			int flags, int *msg_flags)
{
	return ubw_recv_packet_from(sock, buf, size, fds, max_fds, nfds, flags, msg_flags, NULL,
				    NULL);
}
