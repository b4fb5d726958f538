/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/conn.h"
#include "daemon/futex_wake.h"
#include "wire/packet.h"
#include "wire/wire.h"

/* Packets handled per wakeup of one connection before others get a turn. */
#define CONN_BURST     16
/* Back-off of paused listeners: doubling from the first to the last. */
#define PAUSE_FIRST_MS 10
#define PAUSE_LAST_MS  1000

static void conn_handle(struct loop_source *src, uint32_t events);
static void conn_close(struct loop_deferred *item);

void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static int open_reserve(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * Out of descriptors: frees the reserve to accept and close one queued
 * connection, so that its client sees the refusal instead of hanging.
 * Returns 1 when one was refused (try the next), 0 when the queue is empty
 * (accept reports EMFILE before it looks at the queue), or -1 with errno set
 * when the listener must pause.
 */
static int refuse_one(struct conn_listener *l)
{
	struct conn_hub *hub = l->hub;
	int fd, err;

	if (hub->reserve_fd < 0)
		return -1;
	close(hub->reserve_fd);
	fd = accept4(l->src.fd, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	if (fd >= 0) {
		close(fd);
		hub->refused_nofile++;
		log_limited(LOG_LEVEL_WARNING, "%s: out of descriptors: connection refused",
			    l->path);
	}
	hub->reserve_fd = open_reserve();
	errno = err;
	if (fd >= 0)
		return 1;
	if (err == ECONNABORTED)
		return 1;
	return err == EAGAIN ? 0 : -1;
}

static void pause_listener(struct conn_listener *l)
{
	struct conn_hub *hub = l->hub;

	if (!l->paused) {
		loop_unwatch(hub->loop, &l->src);
		l->paused = true;
		hub->pauses++;
	}
	loop_timer_set(&hub->resume, hub->pause_ms);
	if (hub->pause_ms < PAUSE_LAST_MS)
		hub->pause_ms *= 2;
}

static void resume_listeners(struct loop_timer *t)
{
	struct conn_hub *hub = (struct conn_hub *)((char *)t - offsetof(struct conn_hub, resume));
	struct conn_listener *l;

	loop_timer_set(t, 0);
	if (hub->reserve_fd < 0)
		hub->reserve_fd = open_reserve();
	LIST_FOREACH(l, &hub->listeners, entry) {
		if (l->paused && loop_watch(hub->loop, &l->src, EPOLLIN) == 0) {
			l->paused = false;
			/* Connections that queued meanwhile: epoll reports them. */
		}
	}
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
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				int refused = refuse_one(l);

				if (refused > 0)
					continue;
				if (refused == 0)
					return;
			}
			log_limited(LOG_LEVEL_WARNING, "accept on %s: %s: pausing for %u ms",
				    l->path, strerror(errno), hub->pause_ms);
			pause_listener(l);
			return;
		}
		hub->pause_ms = PAUSE_FIRST_MS;
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
	int one = 1;

	/*
	 * Who sent each packet. Set on the listener, so that connections have it
	 * from their first packet on, whenever they are accepted.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		log_error("SO_PASSCRED on %s: %s", l->path, strerror(errno));
		return -errno;
	}
	l->src.fd = fd;
	l->src.handle = listener_handle;
	l->hub = hub;
	l->paused = false;
	LIST_INSERT_HEAD(&hub->listeners, l, entry);
	return loop_watch(hub->loop, &l->src, EPOLLIN);
}

void conn_hub_dump_stats(const struct conn_hub *hub, FILE *out)
{
	fprintf(out, "connections refused (no descriptor): %" PRIu64 "\n", hub->refused_nofile);
	fprintf(out, "listener pauses: %" PRIu64 "\n", hub->pauses);
	fprintf(out, "rings opened: %" PRIu64 "\n", hub->rings.opened);
	fprintf(out, "rings refused: %" PRIu64 "\n", hub->rings.refused);
	fprintf(out, "ring protocol errors: %" PRIu64 "\n", hub->rings.lies);
	fprintf(out, "ring markers in/out: %" PRIu64 "/%" PRIu64 "\n", hub->rings.markers_in,
		hub->rings.markers_out);
	fprintf(out, "ring replies over the socket (ring full): %" PRIu64 "\n", hub->rings.full);
	fprintf(out, "ring doorbells: %" PRIu64 "\n", hub->rings.bells);
	fprintf(out, "ring futex wakes: %" PRIu64 " (paired: %" PRIu64 ", batched: %" PRIu64 ")\n",
		hub->rings.futex_wakes, hub->rings.paired_wakes, hub->rings.batched_wakes);
	fprintf(out, "ring futex wake-ups sent: %s\n", hub->wake_mode ? hub->wake_mode : "-");
	fprintf(out, "ring futex wake requests failed: %" PRIu64 "\n",
		hub->rings.wake_requests_failed);
	fprintf(out, "ring kicks: %" PRIu64 "\n", hub->rings.kicks);
	fprintf(out, "ring doorbells muted (empty rings): %" PRIu64 "\n", hub->rings.bell_mutes);
	fprintf(out, "ring drains found by polling (no doorbell): %" PRIu64 "\n",
		hub->rings.polled);
	fprintf(out, "ring spins before sleeping: %" PRIu64 " (found a request: %" PRIu64 ")\n",
		hub->ring_spin.spins, hub->ring_spin.catches);
	fprintf(out, "ring lazy reads armed: %" PRIu64 "\n", hub->rings.lazy_armed);
	fprintf(out, "ring lazy reads taken: %" PRIu64 "\n", hub->rings.lazy_taken);
	fprintf(out, "ring lazy reads unposted: %" PRIu64 "\n", hub->rings.lazy_unposted);
	fprintf(out, "ring lazy reads declined: %" PRIu64 "\n", hub->rings.lazy_declined);
	fprintf(out, "ring tickets offered: %" PRIu64 "\n", hub->rings.tickets_offered);
	fprintf(out, "ring tickets taken: %" PRIu64 "\n", hub->rings.tickets_taken);
	fprintf(out, "ring tickets closed by the daemon: %" PRIu64 "\n", hub->rings.tickets_closed);
	fprintf(out, "ring ticket lies: %" PRIu64 "\n", hub->rings.ticket_lies);
}

int conn_hub_init(struct conn_hub *hub, struct loop *loop, const struct conn_role *const *roles,
		  size_t nroles)
{
	memset(hub, 0, sizeof(*hub));
	hub->resume.src.fd = -1;
	hub->unmute.src.fd = -1;
	LIST_INIT(&hub->muted_rings);
	TAILQ_INIT(&hub->polled_rings);
	LIST_INIT(&hub->lazy_rings);
	LIST_INIT(&hub->offer_wanted);
	LIST_INIT(&hub->offered_rings);
	hub->loop = loop;
	hub->roles = roles;
	hub->nroles = nroles;
	LIST_INIT(&hub->conns);
	LIST_INIT(&hub->listeners);
	hub->pause_ms = PAUSE_FIRST_MS;
	hub->reserve_fd = open_reserve();
	hub->rx = malloc(UBW_MAX_MESSAGE);
	hub->ticket_rx = malloc(UBW_MAX_MESSAGE);
	if (!hub->rx || !hub->ticket_rx || hub->reserve_fd < 0 ||
	    loop_timer_init(loop, &hub->resume, resume_listeners) < 0)
		return -ENOMEM;
	return 0;
}

void conn_hub_deinit(struct conn_hub *hub)
{
	struct conn *conn;

	while ((conn = LIST_FIRST(&hub->conns)) != NULL) {
		conn_defer_close(conn);
		loop_settle(hub->loop);
	}
	futex_batch_free(hub->futex_batch);
	hub->futex_batch = NULL;
	free(hub->rx);
	hub->rx = NULL;
	free(hub->ticket_rx);
	hub->ticket_rx = NULL;
	loop_timer_deinit(&hub->resume);
	loop_timer_deinit(&hub->unmute);
	if (hub->reserve_fd >= 0)
		close(hub->reserve_fd);
	hub->reserve_fd = -1;
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
	if (conn->channel)
		conn->channel->close(conn);
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
	conn_watch_socket(conn);
	return 0;
}

void conn_watch_socket(struct conn *conn)
{
	uint32_t events = EPOLLIN;

	if (conn->out)
		events = EPOLLOUT;
	else if (conn->channel)
		events = EPOLLIN | EPOLLET;

	loop_rewatch(conn->hub->loop, &conn->src, events);
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
	if (conn->channel && !conn->socket_reply) {
		int via = conn->channel->send(conn, iov, iovcnt, nfds);

		if (via != 0)
			return via > 0 ? 0 : via;
		/* A marker is in the ring: the packet follows on the socket. */
	}
	conn->packets.socket_out++;
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
	conn_watch_socket(conn);
	if (conn->channel)
		conn->channel->resume(conn); /* reading stopped while the reply waited */
}

void conn_protocol_error(struct conn *conn, const char *what)
{
	log_notice("pid %d: protocol error: %s", conn->cred.pid, what);
	conn_defer_close(conn);
}

/* The first message: it chooses the connection's role. */
static void open_role(struct conn *conn, const uint8_t *msg, size_t len, struct conn_rx *rx)
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
		role->open(role->env, conn, msg, rx);
		return;
	}
	conn_protocol_error(conn, "first message is not HELLO, ATTACH or ADMIN");
}

void conn_dispatch(struct conn *conn, const uint8_t *msg, size_t len, struct conn_rx *rx)
{
	if (len < sizeof(struct ubw_header))
		conn_protocol_error(conn, "short packet");
	else if (!conn->role)
		open_role(conn, msg, len, rx);
	else
		conn->role->packet(conn->role->env, conn, msg, len, rx);
	if (!rx->taken)
		close_fds(rx->fds, rx->n);
}

int conn_receive_one(struct conn *conn)
{
	uint8_t *buf = conn->hub->rx;
	int fds[UBW_MAX_FDS];
	struct conn_rx rx = { .fds = fds };
	size_t nfds = 0;
	int flags = 0;
	ssize_t n;

	n = ubw_recv_packet_from(conn->src.fd, buf, UBW_MAX_MESSAGE, fds, UBW_MAX_FDS, &nfds,
				 MSG_DONTWAIT, &flags, &rx.sender, &rx.has_sender);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		conn_defer_close(conn);
		return -1;
	}
	if (n == 0) {
		close_fds(fds, nfds);
		conn_defer_close(conn);
		return -1;
	}
	if (flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_fds(fds, nfds);
		conn_protocol_error(conn, "packet too large");
		return -1;
	}
	rx.n = nfds;
	conn->packets.socket_in++;
	conn_dispatch(conn, buf, (size_t)n, &rx);
	return 1;
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
	/* A hang-up too: the channel may have something to finish first. */
	if (conn->channel && (events & (EPOLLIN | EPOLLHUP)))
		conn->channel->socket_ready(conn);
	/* With a channel, it says when to read the socket. */
	for (int i = 0; i < CONN_BURST && !conn_closing(conn) && !conn->out && !conn->channel;
	     i++) {
		if (conn_receive_one(conn) <= 0 || (conn->role && conn->role->one_at_a_time))
			break;
	}
	if (!conn_closing(conn) && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		conn_defer_close(conn);
}
