/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/conn.h"
#include "wire/packet.h"
#include "wire/wire.h"

/* Packets handled per wakeup of one connection before others get a turn. */
#define CONN_BURST 16

static void conn_handle(struct loop_source *src, uint32_t events);
static void conn_close(struct loop_deferred *item);

void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static void conn_accept(struct conn_listener *l)
{
	struct conn_hub *hub = l->hub;

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
		conn->close_item.run = conn_close;
		conn->peer_pidfd = -1;
		conn->hub = hub;
		conn->listener = l;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &conn->cred, &len) < 0) {
			log_warning("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			free(conn);
			continue;
		}
		/* A whole reply must always fit: replies are never split. */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		if (loop_watch(hub->loop, &conn->src, EPOLLIN) < 0) {
			close(fd);
			free(conn);
			continue;
		}
		LIST_INSERT_HEAD(&hub->conns, conn, hub_entry);
	}
}

static void listener_handle(struct loop_source *src, uint32_t events)
{
	(void)events;
	conn_accept((struct conn_listener *)src);
}

int conn_listen(struct conn_listener *l, struct conn_hub *hub, int fd)
{
	l->src.fd = fd;
	l->src.handle = listener_handle;
	l->hub = hub;
	return loop_watch(hub->loop, &l->src, EPOLLIN);
}

int conn_hub_init(struct conn_hub *hub, struct loop *loop, const struct conn_role *const *roles,
		  size_t nroles)
{
	memset(hub, 0, sizeof(*hub));
	hub->loop = loop;
	hub->roles = roles;
	hub->nroles = nroles;
	LIST_INIT(&hub->conns);
	hub->rx = malloc(UBW_MAX_MESSAGE);
	return hub->rx ? 0 : -ENOMEM;
}

void conn_hub_deinit(struct conn_hub *hub)
{
	struct conn *conn;

	while ((conn = LIST_FIRST(&hub->conns)) != NULL) {
		conn_defer_close(conn);
		loop_settle(hub->loop);
	}
	free(hub->rx);
	hub->rx = NULL;
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

void conn_defer_close(struct conn *conn)
{
	loop_defer(conn->hub->loop, &conn->close_item);
}

/* The deferred close: no handler of this connection is on the stack. */
static void conn_close(struct loop_deferred *item)
{
	struct conn *conn = (struct conn *)((char *)item - offsetof(struct conn, close_item));
	struct loop *loop = conn->hub->loop;

	/* Still pending for the handlers: they must not act on a closing conn. */
	conn->close_item.pending = true;
	if (conn->role && conn->role->closed)
		conn->role->closed(conn->role->env, conn);
	loop_unwatch(loop, &conn->src);
	close(conn->src.fd);
	if (conn->peer_pidfd >= 0)
		close(conn->peer_pidfd);
	drop_output(conn);
	LIST_REMOVE(conn, hub_entry);
	loop_bury(loop, conn);
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
	loop_rewatch(conn->hub->loop, &conn->src, EPOLLOUT);
	return 0;
}

static ssize_t send_packet(int fd, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds)
{
	return ubw_send_packet(fd, iov, iovcnt, fds, nfds, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int conn_send(struct conn *conn, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds)
{
	ssize_t n;

	if (conn_closing(conn))
		return -EPIPE;
	if (conn->out) {
		/* A well-behaved client never has two replies outstanding. */
		log_notice("pid %d: reply while another is queued: disconnecting", conn->cred.pid);
		conn_defer_close(conn);
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
	conn_defer_close(conn);
	return -errno;
}

void conn_reply_header(struct conn *conn, uint32_t type, int error)
{
	struct ubw_header h = { .type = type | UBW_REPLY, .error = error };
	struct iovec iov = { .iov_base = &h, .iov_len = sizeof(h) };

	conn_send(conn, &iov, 1, NULL, 0);
}

static void flush_output(struct conn *conn)
{
	struct iovec iov = { .iov_base = conn->out, .iov_len = conn->out_len };

	if (send_packet(conn->src.fd, &iov, 1, conn->out_fds, conn->out_nfds) < 0) {
		if (errno != EAGAIN)
			conn_defer_close(conn);
		return;
	}
	drop_output(conn);
	loop_rewatch(conn->hub->loop, &conn->src, EPOLLIN);
}

void conn_protocol_error(struct conn *conn, const char *what)
{
	log_notice("pid %d: protocol error: %s", conn->cred.pid, what);
	conn_defer_close(conn);
}

/* The first message: it chooses the connection's role. */
static void open_role(struct conn *conn, const uint8_t *msg, size_t len)
{
	const struct ubw_header *h = (const void *)msg;

	for (size_t i = 0; i < conn->hub->nroles; i++) {
		const struct conn_role *role = conn->hub->roles[i];

		if (role->first_type != h->type)
			continue;
		if (len != role->first_size) {
			log_notice("pid %d: protocol error: bad first message size for a %s",
				   conn->cred.pid, role->name);
			conn_defer_close(conn);
			return;
		}
		conn->role = role;
		role->open(role->env, conn, msg);
		return;
	}
	conn_protocol_error(conn, "first message is not HELLO, ATTACH or ADMIN");
}

static void dispatch(struct conn *conn, const uint8_t *msg, size_t len, const int *fds, size_t nfds)
{
	struct conn_fds rx_fds = { .fds = fds, .n = nfds };

	if (len < sizeof(struct ubw_header))
		conn_protocol_error(conn, "short packet");
	else if (!conn->role)
		open_role(conn, msg, len);
	else
		conn->role->packet(conn->role->env, conn, msg, len, &rx_fds);
	if (!rx_fds.taken)
		close_fds(fds, nfds);
}

/* Receives and dispatches one packet. Returns false when there was none. */
static bool receive_one(struct conn *conn)
{
	uint8_t *rx = conn->hub->rx;
	int fds[UBW_MAX_FDS];
	size_t nfds = 0;
	int flags = 0;
	ssize_t n;

	n = ubw_recv_packet(conn->src.fd, rx, UBW_MAX_MESSAGE, fds, UBW_MAX_FDS, &nfds,
			    MSG_DONTWAIT, &flags);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return false;
		conn_defer_close(conn);
		return false;
	}
	if (n == 0) {
		close_fds(fds, nfds);
		conn_defer_close(conn);
		return false;
	}
	if (flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_fds(fds, nfds);
		conn_protocol_error(conn, "packet too large");
		return false;
	}
	dispatch(conn, rx, (size_t)n, fds, nfds);
	return true;
}

static void conn_handle(struct loop_source *src, uint32_t events)
{
	struct conn *conn = (struct conn *)src;

	if (conn_closing(conn))
		return;
	if (events & EPOLLOUT) {
		flush_output(conn);
		return;
	}
	for (int i = 0; i < CONN_BURST && !conn_closing(conn) && !conn->out; i++) {
		if (!receive_one(conn) || (conn->role && conn->role->one_at_a_time))
			break;
	}
	if (!conn_closing(conn) && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		conn_defer_close(conn);
}
