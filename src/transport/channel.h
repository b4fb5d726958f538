/* SPDX-License-Identifier: MIT */
/*
 * The packet channel of a thread connection, inside the transport: "send a
 * packet (iov, descriptors)" and "receive the next packet", over the socket
 * (socket_channel.c) or, once the daemon gave the thread a ring, over the
 * shared-memory ring with the socket beside it for what the ring does not
 * carry (ring_channel.c; src/wire/ring.h, docs/protocol.md "The ring").
 * The messages are the same either way: encode, decode and the
 * BINDER_WRITE_READ logic of transport.c do not know which one ran.
 *
 * Not a public header: only transport.c and the two channels include it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "transport/transport.h"

/* The socket: sendmsg of one packet (-EBADF once the daemon is gone). */
int ubt_sock_send(int sock, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds);
/*
 * recvmsg of one packet; descriptors go to @fds (room for UBW_MAX_FDS), or
 * are closed if @fds is NULL. With @interruptible, a signal makes it return
 * -EINTR (the socket has a receive timeout so that even SA_RESTART handlers
 * interrupt it, as they interrupt a blocked binder ioctl). -EBADF when the
 * daemon closed the connection.
 */
ssize_t ubt_sock_recv(const struct ubt_sys *sys, int sock, void *buf, size_t size, int *fds,
		      size_t *nfds, bool interruptible);

/*
 * Asks the daemon for a ring on @t's connection (before its first
 * BINDER_WRITE_READ), unless the session's
 * daemon has none or UBINDER_TRANSPORT=socket: 0 with or without one (a
 * refusal leaves the thread on its socket), or -errno when the daemon gave
 * one that we could not take (the connection is then unusable).
 */
int ubt_ring_setup(struct ubt_thread *t, const struct ubt_session *s);
/* Unmaps the ring (only in the process that mapped it) and closes the doorbell. */
void ubt_ring_teardown(struct ubt_thread *t);
int ubt_ring_send(struct ubt_thread *t, const struct iovec *iov, int iovcnt, const int *fds,
		  size_t nfds);
/*
 * Sends a blocking BINDER_WRITE_READ with nothing to write: without the
 * doorbell when the daemon armed the ring for a lazy read (req_lazy), since
 * it then takes the read before its next driver operation; otherwise as
 * ubt_ring_send.
 */
int ubt_ring_send_read(struct ubt_thread *t, const struct iovec *iov, int iovcnt);
ssize_t ubt_ring_recv(struct ubt_thread *t, void *buf, size_t size, int *fds, size_t *nfds,
		      bool interruptible);

/*
 * The local completion (docs/protocol.md): the ticket the daemon offers in
 * @t's ring, if one is open (its generation and the reply size it covers);
 * and the claim: posts the claiming request @iov in the ring, claims the
 * ticket, then rings the doorbell if asked. 1 when the claim won, 0 when the
 * daemon had closed the ticket first (its answer comes as usual), -ENOSPC
 * when the request does not fit the ring now (nothing was posted), -EIO.
 */
bool ubt_ring_ticket_offered(const struct ubt_thread *t, uint32_t *gen, uint32_t *limit);
int ubt_ring_ticket_claim(struct ubt_thread *t, const struct iovec *iov, int iovcnt, uint32_t gen);
/* Whether the write that won ticket @gen is yet to run: the daemon moves
 * the ticket off TAKEN(gen) once it has (and every later offer does too). */
bool ubt_ring_ticket_pending(const struct ubt_thread *t, uint32_t gen);

/* @t has a ring, mapped in this process (not a forked child's inherited one). */
bool ubt_ring_usable(const struct ubt_thread *t);

static inline int ubt_chan_send(struct ubt_thread *t, const struct iovec *iov, int iovcnt,
				const int *fds, size_t nfds)
{
	if (t->ring && ubt_ring_usable(t))
		return ubt_ring_send(t, iov, iovcnt, fds, nfds);
	return ubt_sock_send(t->sock, iov, iovcnt, fds, nfds);
}

/* A pure read (nothing written, blocking): lazily where the ring allows it. */
static inline int ubt_chan_send_read(struct ubt_thread *t, const struct iovec *iov, int iovcnt)
{
	if (t->ring && ubt_ring_usable(t))
		return ubt_ring_send_read(t, iov, iovcnt);
	return ubt_sock_send(t->sock, iov, iovcnt, NULL, 0);
}

static inline ssize_t ubt_chan_recv(struct ubt_thread *t, void *buf, size_t size, int *fds,
				    size_t *nfds, bool interruptible)
{
	if (t->ring && ubt_ring_usable(t))
		return ubt_ring_recv(t, buf, size, fds, nfds, interruptible);
	return ubt_sock_recv(t->sys, t->sock, buf, size, fds, nfds, interruptible);
}
