/* SPDX-License-Identifier: MIT */
/*
 * One wire packet in, one out: sendmsg/recvmsg of a SOCK_SEQPACKET packet with
 * its descriptors (SCM_RIGHTS). Shared by the daemon and the client side.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* sendmsg of @iov with @nfds descriptors attached; returns what sendmsg returns. */
ssize_t ubw_send_packet(int sock, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds,
			int flags);

/*
 * recvmsg of one packet into @buf. Descriptors received are stored in @fds
 * (room for @max_fds; any beyond are closed) with their count in *nfds;
 * they are close-on-exec. *msg_flags receives the message flags (MSG_TRUNC,
 * MSG_CTRUNC). Returns what recvmsg returns.
 */
ssize_t ubw_recv_packet(int sock, void *buf, size_t size, int *fds, size_t max_fds, size_t *nfds,
			int flags, int *msg_flags);

/*
 * ubw_recv_packet on a socket with SO_PASSCRED: also the sender's
 * credentials (SCM_CREDENTIALS, which the kernel fills in or checks), with
 * *has_sender false when the packet carried none.
 */
ssize_t ubw_recv_packet_from(int sock, void *buf, size_t size, int *fds, size_t max_fds,
			     size_t *nfds, int flags, int *msg_flags, struct ucred *sender,
			     bool *has_sender);
