/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/ns_read.h"
#include "daemon/poll_pair.h"
#include "daemon/proc_info.h"
#include "daemon/session.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static void reply_hello(struct session *s);
static void session_poll_changed(struct endpoint *ep, bool readable);

static const struct endpoint_ops session_endpoint_ops = { .poll_changed = session_poll_changed };

void sessions_init(struct sessions *ss, struct loop *loop, struct driver *drv,
		   struct uid_quotas *quotas, const struct daemon_config *cfg)
{
	memset(ss, 0, sizeof(*ss));
	ss->loop = loop;
	ss->drv = drv;
	ss->quotas = quotas;
	ss->cfg = cfg;
	LIST_INIT(&ss->list);
}

void sessions_deinit(struct sessions *ss)
{
	struct session *s;

	while ((s = LIST_FIRST(&ss->list)) != NULL) {
		session_release(s);
		loop_settle(ss->loop);
	}
}

uint64_t sessions_max_body(const struct sessions *ss)
{
	return 2 * (uint64_t)ss->cfg->max_region + (1u << 20);
}

static int open_pidfd(struct conn *conn)
{
	socklen_t len = sizeof(int);
	int fd = -1;

	if (getsockopt(conn->src.fd, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0)
		return fd;
	/* Before Linux 6.5: racy against pid reuse, which the pidfd check after
	 * every copy and the socket's own lifetime make harmless. */
	fd = (int)syscall(SYS_pidfd_open, conn->cred.pid, 0);
	return fd;
}

static void read_seclabel(int sock, char *buf, size_t size)
{
	socklen_t len = (socklen_t)size - 1;

	buf[0] = '\0';
	if (getsockopt(sock, SOL_SOCKET, SO_PEERSEC, buf, &len) < 0)
		return;
	buf[len] = '\0';
}

static void pidfd_handle(struct loop_source *src, uint32_t events)
{
	struct session *s = (struct session *)((char *)src - offsetof(struct session, pidfd_src));

	(void)events;
	if (s->released)
		return;
	log_info("pid %d exited", s->id.pid);
	session_release(s);
}

/* Answers UBW_HELLO with @error, and hangs up. */
static void refuse_hello(struct conn *conn, int error)
{
	struct ubw_hello_reply r = { .hdr = { UBW_HELLO | UBW_REPLY, error },
				     .version = UBW_PROTOCOL_VERSION };
	struct iovec iov = { &r, sizeof(r) };

	conn_send(conn, &iov, 1, NULL, 0);
	conn_defer_close(conn);
}

void session_hello(struct sessions *ss, struct conn *conn, const struct ubw_hello *hello)
{
	struct session *s;

	if (hello->magic != UBW_MAGIC || hello->version != UBW_PROTOCOL_VERSION) {
		log_notice("pid %d: protocol version %u not supported", conn->cred.pid,
			   hello->version);
		refuse_hello(conn, -EPROTO);
		return;
	}
	if (!uid_quota_take(ss->quotas, conn->cred.uid, QUOTA_SESSIONS, 1)) {
		refuse_hello(conn, -EMFILE);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s || getrandom(s->token, sizeof(s->token), 0) != sizeof(s->token)) {
		free(s);
		uid_quota_give(ss->quotas, conn->cred.uid, QUOTA_SESSIONS, 1);
		log_warning("pid %d: cannot open a session", conn->cred.pid);
		conn_defer_close(conn);
		return;
	}
	s->endpoint.ops = &session_endpoint_ops;
	s->sessions = ss;
	s->conn = conn;
	s->listener = conn->listener;
	s->hello = *hello;
	s->poll_fd = -1;
	s->poll_drain = -1;
	LIST_INIT(&s->threads);
	s->id.pid = conn->cred.pid;
	s->id.euid = conn->cred.uid; /* also the uid its session quota is charged to */
	s->id.egid = conn->cred.gid;
	s->pidfd_src.fd = open_pidfd(conn);
	s->pidfd_src.handle = pidfd_handle;
	s->id.pidfd = s->pidfd_src.fd;
	proc_info_comm(s->id.pid, s->id.comm, sizeof(s->id.comm));
	ns_view_read(s->id.pid, &s->id.ns);
	read_seclabel(conn->src.fd, s->id.seclabel, sizeof(s->id.seclabel));
	conn->session = s;
	LIST_INSERT_HEAD(&ss->list, s, entry);
	if (s->pidfd_src.fd >= 0)
		loop_watch(ss->loop, &s->pidfd_src, EPOLLIN);

	s->id.can_read_memory = proc_info_memory_readable(s->id.pid, s->id.pidfd);
	reply_hello(s);
}

static void reply_hello(struct session *s)
{
	struct sessions *ss = s->sessions;
	struct ubw_hello_reply r = { .hdr = { UBW_HELLO | UBW_REPLY, 0 } };
	struct iovec iov = { &r, sizeof(r) };

	if (!s->conn) {
		session_release(s);
		return;
	}
	s->proc = driver_proc_open(ss->drv, s->listener->served, &s->id, &s->endpoint);
	if (!s->proc) {
		r.hdr.error = -ENOMEM;
		conn_send(s->conn, &iov, 1, NULL, 0);
		conn_defer_close(s->conn);
		return;
	}
	if (s->hello.flags & UBW_HELLO_WANT_POLL_FD) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) ==
		    0) {
			s->poll_fd = sv[0];
			s->poll_drain = sv[1]; /* also sent; our copy only drains */
		}
	}
	driver_proc_set_poll(s->proc, s->poll_fd >= 0);
	r.version = UBW_PROTOCOL_VERSION;
	r.copy_mode = s->id.can_read_memory ? UBW_COPY_READV : UBW_COPY_PUSH;
	memcpy(r.token, s->token, sizeof(r.token));
	r.max_inline = ss->cfg->max_inline;
	r.max_body = sessions_max_body(ss);
	r.features = ss->cfg->rings ? UBW_FEATURE_RING : 0;
	log_info("%s: pid %d (%s) opened the device, copy mode %s", s->listener->path, s->id.pid,
		 s->id.comm, s->id.can_read_memory ? "readv" : "push");
	conn_send(s->conn, &iov, 1, s->poll_drain >= 0 ? &s->poll_drain : NULL,
		  s->poll_drain >= 0 ? 1 : 0);
}

/* Whether @pid descends from @ancestor (through /proc; bounded). */
static bool descends_from(pid_t pid, pid_t ancestor)
{
	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		char buf[512], *p;

		if (proc_info_read(pid, "stat", buf, sizeof(buf)) <= 0)
			return false;
		/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %*c %d", &pid) != 1)
			return false;
		if (pid == ancestor)
			return true;
	}
	return false;
}

int session_new_thread(struct conn *conn)
{
	struct session *s = conn->session;
	/* A forked child's memory is its own: copies are checked against its pidfd. */
	struct thread_peer peer = {
		.pid = conn->cred.pid,
		.uid = conn->cred.uid,
		.pidfd = conn->peer_pidfd >= 0 ? conn->peer_pidfd : s->id.pidfd,
	};

	return driver_thread_attach(s->proc, conn->tid, &peer, &conn->endpoint, &conn->thread);
}

void session_attach(struct sessions *ss, struct conn *conn, const struct ubw_attach *attach)
{
	struct ubw_attach_reply r = { .hdr = { UBW_ATTACH | UBW_REPLY, 0 } };
	struct iovec iov = { &r, sizeof(r) };
	struct session *s;

	if (attach->magic != UBW_MAGIC || attach->version != UBW_PROTOCOL_VERSION) {
		r.hdr.error = -EPROTO;
		goto out;
	}
	LIST_FOREACH(s, &ss->list, entry) {
		if (!s->released && s->proc && s->listener == conn->listener &&
		    memcmp(s->token, attach->token, sizeof(s->token)) == 0)
			break;
	}
	/*
	 * The token is a capability, but only within the process that got it
	 * and the children it forked (they inherit the open device, as with the
	 * kernel driver).
	 */
	if (!s || (s->id.pid != conn->cred.pid && !descends_from(conn->cred.pid, s->id.pid))) {
		log_notice("pid %d: attach with a token that is not its own", conn->cred.pid);
		r.hdr.error = -EPERM;
		goto out;
	}
	if (conn->cred.pid != s->id.pid) {
		conn->peer_pidfd = (int)syscall(SYS_pidfd_open, conn->cred.pid, 0);
		log_info("pid %d: forked child of %d attaches to its Binder process",
			 conn->cred.pid, s->id.pid);
	}
	if (!uid_quota_take(ss->quotas, conn->cred.uid, QUOTA_THREADS, 1)) {
		r.hdr.error = -EAGAIN;
		goto out;
	}
	conn->thread_quota = true;
	conn->session = s;
	conn->tid = (pid_t)attach->tid;
	r.hdr.error = session_new_thread(conn);
	if (r.hdr.error) {
		conn->session = NULL;
		goto out;
	}
	LIST_INSERT_HEAD(&s->threads, conn, session_entry);
out:
	conn_send(conn, &iov, 1, NULL, 0);
	if (r.hdr.error)
		conn_defer_close(conn);
}

static void session_poll_changed(struct endpoint *ep, bool readable)
{
	struct session *s = (struct session *)((char *)ep - offsetof(struct session, endpoint));

	poll_pair_signal(s->poll_fd, s->poll_drain, &s->poll_set, readable, "poll descriptor");
}

void session_release(struct session *s)
{
	struct sessions *ss = s->sessions;
	struct conn *conn;

	if (s->released)
		return;
	s->released = true;
	if (s->proc) {
		/* As closing the device: waiting threads return first (binder_flush). */
		driver_proc_flush(s->proc);
		driver_flush(ss->drv);
		driver_proc_release(s->proc);
		s->proc = NULL;
	}
	while ((conn = LIST_FIRST(&s->threads)) != NULL) {
		LIST_REMOVE(conn, session_entry);
		conn->thread = NULL;
		conn->session = NULL;
		conn_defer_close(conn);
	}
	if (s->conn) {
		s->conn->session = NULL;
		conn_defer_close(s->conn);
		s->conn = NULL;
	}
	if (s->pidfd_src.fd >= 0) {
		loop_unwatch(ss->loop, &s->pidfd_src);
		close(s->pidfd_src.fd);
		s->pidfd_src.fd = -1;
	}
	if (s->poll_fd >= 0)
		close(s->poll_fd);
	if (s->poll_drain >= 0)
		close(s->poll_drain);
	s->poll_fd = s->poll_drain = -1;
	uid_quota_give(ss->quotas, s->id.euid, QUOTA_SESSIONS, 1);
	LIST_REMOVE(s, entry);
	loop_bury(ss->loop, s);
}

void session_conn_closed(struct sessions *ss, struct conn *conn)
{
	struct session *s = conn->session;

	if (conn->thread_quota) {
		uid_quota_give(ss->quotas, conn->cred.uid, QUOTA_THREADS, 1);
		conn->thread_quota = false;
	}
	if (!s)
		return;
	if (conn == s->conn) {
		s->conn = NULL;
		conn->session = NULL;
		session_release(s);
		return;
	}
	/* A thread connection: that thread exits. */
	LIST_REMOVE(conn, session_entry);
	if (conn->thread)
		driver_thread_detach(conn->thread);
	conn->thread = NULL;
	conn->session = NULL;
}

void sessions_dump_proc(const struct sessions *ss, pid_t pid, FILE *out)
{
	const struct session *s;

	LIST_FOREACH(s, &ss->list, entry) {
		struct conn_packets p = s->packets;
		const struct conn *t;

		if (s->id.pid != pid || s->released)
			continue;
		LIST_FOREACH(t, &s->threads, session_entry) {
			p.ring_in += t->packets.ring_in;
			p.ring_out += t->packets.ring_out;
			p.socket_in += t->packets.socket_in;
			p.socket_out += t->packets.socket_out;
			p.bell_mutes += t->packets.bell_mutes;
		}
		fprintf(out, "packets in over the ring: %" PRIu64 "\n", p.ring_in);
		fprintf(out, "packets out over the ring: %" PRIu64 "\n", p.ring_out);
		fprintf(out, "packets in over the socket: %" PRIu64 "\n", p.socket_in);
		fprintf(out, "packets out over the socket: %" PRIu64 "\n", p.socket_out);
		fprintf(out, "doorbells muted (rung with an empty ring): %" PRIu64 "\n",
			p.bell_mutes);
	}
}
