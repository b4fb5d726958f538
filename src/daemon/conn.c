/* SPDX-License-Identifier: MIT */
/*
 * Connections: accepting, receiving one packet at a time into the daemon's
 * receive buffer, dispatching by role, and sending replies without ever
 * blocking the loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/daemon.h"
#include "wire/packet.h"

/* Packets handled per wakeup of one connection before others get a turn. */
#define CONN_BURST 16

static void conn_handle(struct source *src, uint32_t events);

void conn_accept(struct listener *l)
{
	struct daemon *d = l->daemon;

	for (;;) {
		int sndbuf = 1 << 20;
		socklen_t len = sizeof(struct ucred);
		struct conn *conn;
		int fd;

		fd = accept4(l->src.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warning("accept on %s: %s", l->path, strerror(errno));
			return;
		}
		conn = calloc(1, sizeof(*conn));
		if (!conn) {
			close(fd);
			log_warning("out of memory: connection refused");
			continue;
		}
		conn->src.fd = fd;
		conn->src.handle = conn_handle;
		conn->peer_pidfd = -1;
		conn->daemon = d;
		conn->listener = l;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &conn->cred, &len) < 0) {
			log_warning("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			free(conn);
			continue;
		}
		/* A whole reply must always fit: replies are never split. */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		if (daemon_watch(d, &conn->src, EPOLLIN) < 0) {
			close(fd);
			free(conn);
			continue;
		}
		LIST_INSERT_HEAD(&d->conns, conn, daemon_entry);
	}
}

void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static void assembly_free(struct conn *conn)
{
	struct assembly *a = conn->assembly;

	if (!a)
		return;
	close_fds(a->fds, a->nfds);
	free(a->fds);
	free(a->body);
	free(a);
	conn->assembly = NULL;
}

/* Forgets the queued reply, closing the duplicates of its descriptors. */
static void drop_output(struct conn *conn)
{
	close_fds(conn->out_fds, conn->out_nfds);
	free(conn->out_fds);
	free(conn->out);
	conn->out = NULL;
	conn->out_fds = NULL;
	conn->out_len = conn->out_nfds = 0;
}

void daemon_defer_close(struct conn *conn)
{
	if (conn->close_pending)
		return;
	conn->close_pending = true;
	TAILQ_INSERT_TAIL(&conn->daemon->close_list, conn, close_entry);
}

void conn_close(struct conn *conn)
{
	struct daemon *d = conn->daemon;

	if (conn->role == CONN_SESSION || conn->role == CONN_THREAD)
		session_conn_closed(conn);
	assembly_free(conn);
	daemon_unwatch(d, &conn->src);
	close(conn->src.fd);
	if (conn->peer_pidfd >= 0)
		close(conn->peer_pidfd);
	drop_output(conn);
	LIST_REMOVE(conn, daemon_entry);
	daemon_bury(d, conn);
}

/* Keeps a reply the socket would not take, and waits for room. */
static int queue_output(struct conn *conn, const struct iovec *iov, int iovcnt, const int *fds,
			size_t nfds)
{
	size_t len = 0, at = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	conn->out = malloc(len ? len : 1);
	conn->out_fds = nfds ? malloc(nfds * sizeof(int)) : NULL;
	if (!conn->out || (nfds && !conn->out_fds))
		return -ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(conn->out + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	conn->out_len = len;
	for (size_t i = 0; i < nfds; i++) {
		conn->out_fds[i] = dup(fds[i]);
		if (conn->out_fds[i] < 0)
			return -EMFILE;
		conn->out_nfds++;
	}
	daemon_rewatch(conn->daemon, &conn->src, EPOLLOUT);
	return 0;
}

static ssize_t send_packet(int fd, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds)
{
	return ubw_send_packet(fd, iov, iovcnt, fds, nfds, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int conn_send(struct conn *conn, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds)
{
	ssize_t n;

	if (conn->close_pending)
		return -EPIPE;
	if (conn->out) {
		/* A well-behaved client never has two replies outstanding. */
		log_notice("pid %d: reply while another is queued: disconnecting", conn->cred.pid);
		daemon_defer_close(conn);
		return -EPROTO;
	}
	n = send_packet(conn->src.fd, iov, iovcnt, fds, nfds);
	if (n >= 0)
		return 0;
	if (errno == EAGAIN) {
		if (queue_output(conn, iov, iovcnt, fds, nfds) == 0)
			return 0;
		log_warning("pid %d: cannot queue a reply: disconnecting", conn->cred.pid);
	} else if (errno != EPIPE && errno != ECONNRESET) {
		log_warning("pid %d: send: %s", conn->cred.pid, strerror(errno));
	}
	daemon_defer_close(conn);
	return -errno;
}

static void flush_output(struct conn *conn)
{
	struct iovec iov = { .iov_base = conn->out, .iov_len = conn->out_len };

	if (send_packet(conn->src.fd, &iov, 1, conn->out_fds, conn->out_nfds) < 0) {
		if (errno != EAGAIN)
			daemon_defer_close(conn);
		return;
	}
	drop_output(conn);
	daemon_rewatch(conn->daemon, &conn->src, EPOLLIN);
}

void conn_protocol_error(struct conn *conn, const char *what)
{
	log_notice("pid %d: protocol error: %s", conn->cred.pid, what);
	daemon_defer_close(conn);
}

static void reply_header(struct conn *conn, uint32_t type, int error)
{
	struct ubw_header h = { .type = type | UBW_REPLY, .error = error };
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };

	conn_send(conn, &iov, 1, NULL, 0);
}

static void dispatch_new(struct conn *conn, const uint8_t *msg, size_t len)
{
	const struct ubw_header *h = (const void *)msg;

	switch (h->type) {
	case UBW_HELLO:
		if (len != sizeof(struct ubw_hello))
			return conn_protocol_error(conn, "bad UBW_HELLO size");
		conn->role = CONN_SESSION;
		session_hello(conn, (const void *)msg);
		return;
	case UBW_ATTACH:
		if (len != sizeof(struct ubw_attach))
			return conn_protocol_error(conn, "bad UBW_ATTACH size");
		conn->role = CONN_THREAD;
		session_attach(conn, (const void *)msg);
		return;
	case UBW_ADMIN:
		if (len != sizeof(struct ubw_admin_hello))
			return conn_protocol_error(conn, "bad UBW_ADMIN size");
		conn->role = CONN_ADMIN;
		admin_hello(conn, (const void *)msg);
		return;
	default:
		return conn_protocol_error(conn, "first message is not HELLO, ATTACH or ADMIN");
	}
}

static void dispatch_thread(struct conn *conn, const uint8_t *msg, size_t len, const int *fds,
			    size_t nfds, bool *fds_taken)
{
	const struct ubw_header *h = (const void *)msg;
	struct thread *thread = conn->thread;

	if (!thread)
		return conn_protocol_error(conn, "request on an unattached connection");
	switch (h->type) {
	case UBW_WRITE_READ:
		if (len < sizeof(struct ubw_write_read))
			return conn_protocol_error(conn, "short UBW_WRITE_READ");
		*fds_taken = true;
		glue_write_read_packet(conn, (const void *)msg, len, fds, nfds);
		return;
	case UBW_WRITE_READ_MORE:
		glue_write_read_more(conn, msg + sizeof(struct ubw_write_read_more),
				     len - sizeof(struct ubw_write_read_more));
		return;
	case UBW_INTERRUPT:
		driver_interrupt(thread);
		return;
	case UBW_IOCTL: {
		const struct ubw_ioctl *io = (const void *)msg;

		if (len < sizeof(*io) || len - sizeof(*io) != io->size)
			return conn_protocol_error(conn, "bad UBW_IOCTL size");
		glue_ioctl(conn, io);
		return;
	}
	case UBW_MMAP:
		if (len != sizeof(struct ubw_mmap))
			return conn_protocol_error(conn, "bad UBW_MMAP size");
		glue_mmap(conn, (const void *)msg);
		return;
	case UBW_OUTBOX:
		if (len != sizeof(struct ubw_outbox))
			return conn_protocol_error(conn, "bad UBW_OUTBOX size");
		glue_outbox(conn, (const void *)msg);
		return;
	case UBW_MMAP_DONE:
	case UBW_MUNMAP: {
		const struct ubw_mmap_done *m = (const void *)msg;
		int err;

		if (len != sizeof(*m))
			return conn_protocol_error(conn, "bad UBW_MMAP_DONE size");
		err = h->type == UBW_MMAP_DONE ? driver_mmap_done(thread, m->addr)
					       : driver_munmap(thread, m->addr);
		reply_header(conn, h->type, err);
		return;
	}
	case UBW_FD_FIXUP: {
		const struct ubw_fd_fixup *f = (const void *)msg;
		struct ubw_fd_fixup_reply r = { .hdr = { UBW_FD_FIXUP | UBW_REPLY, 0 } };
		struct iovec iov = { &r, sizeof(r) };

		if (len < sizeof(*f) || (len - sizeof(*f)) / sizeof(int32_t) != f->nfds)
			return conn_protocol_error(conn, "bad UBW_FD_FIXUP size");
		r.hdr.error =
			driver_fd_fixup(thread, (const int32_t *)(f + 1), f->nfds, &r.replacement);
		conn_send(conn, &iov, 1, NULL, 0);
		return;
	}
	default:
		return conn_protocol_error(conn, "unknown request");
	}
}

static void dispatch(struct conn *conn, const uint8_t *msg, size_t len, const int *fds, size_t nfds)
{
	bool fds_taken = false;

	if (len < sizeof(struct ubw_header)) {
		conn_protocol_error(conn, "short packet");
	} else {
		switch (conn->role) {
		case CONN_NEW:
			dispatch_new(conn, msg, len);
			break;
		case CONN_THREAD:
			dispatch_thread(conn, msg, len, fds, nfds, &fds_taken);
			break;
		case CONN_ADMIN:
			if (((const struct ubw_header *)msg)->type != UBW_ADMIN_REQUEST ||
			    len < sizeof(struct ubw_admin_request))
				conn_protocol_error(conn, "bad admin request");
			else
				admin_request(conn, (const void *)msg, len);
			break;
		case CONN_SESSION:
			if (((const struct ubw_header *)msg)->type == UBW_FLUSH && conn->session &&
			    conn->session->proc)
				driver_proc_flush(conn->session->proc);
			else
				conn_protocol_error(conn, "message on a session connection");
			break;
		}
	}
	if (!fds_taken)
		close_fds(fds, nfds);
}

/* Receives and dispatches one packet. Returns false when there was none. */
static bool receive_one(struct conn *conn)
{
	struct daemon *d = conn->daemon;
	int fds[UBW_MAX_FDS];
	size_t nfds = 0;
	int flags = 0;
	ssize_t n;

	n = ubw_recv_packet(conn->src.fd, d->rx, UBW_MAX_MESSAGE, fds, UBW_MAX_FDS, &nfds,
			    MSG_DONTWAIT, &flags);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return false;
		daemon_defer_close(conn);
		return false;
	}
	if (n == 0) {
		close_fds(fds, nfds);
		daemon_defer_close(conn);
		return false;
	}
	if (flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_fds(fds, nfds);
		conn_protocol_error(conn, "packet too large");
		return false;
	}
	dispatch(conn, d->rx, (size_t)n, fds, nfds);
	return true;
}

static void conn_handle(struct source *src, uint32_t events)
{
	struct conn *conn = (struct conn *)src;

	if (conn->close_pending)
		return;
	if (events & EPOLLOUT) {
		flush_output(conn);
		return;
	}
	/*
	 * A thread sends one request and waits for its answer: reading on would
	 * almost always cost a failing recvmsg. Other connections may have a
	 * burst; epoll reports whatever is left either way.
	 */
	for (int i = 0; i < CONN_BURST && !conn->close_pending && !conn->out; i++) {
		if (!receive_one(conn) || conn->role == CONN_THREAD)
			break;
	}
	if (!conn->close_pending && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		daemon_defer_close(conn);
}
