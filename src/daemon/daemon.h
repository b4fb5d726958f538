/* SPDX-License-Identifier: MIT */
/*
 * ubinderd's process: the epoll event loop, the context sockets, the
 * connections, and the glue between them and the driver core.
 *
 * One thread runs the loop and owns everything here and in the driver; copy
 * workers (copier.h) only run tasks handed to them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <bsd/sys/queue.h>

#include "daemon/config.h"
#include "daemon/copier.h"
#include "driver/driver.h"
#include "wire/wire.h"

struct daemon;

/* Something the loop watches. */
struct source {
	int fd;
	void (*handle)(struct source *src, uint32_t events);
};

struct listener {
	struct source src;
	struct daemon *daemon;
	struct context *context;
	char path[108];
};

enum conn_role {
	CONN_NEW = 0, /* no message yet */
	CONN_SESSION, /* the open device: a Binder process */
	CONN_THREAD,  /* one Binder thread of a session */
	CONN_ADMIN,
};

struct session;
struct probe_task;

/* A UBW_WRITE_READ whose body spans several packets. */
struct assembly {
	struct ubw_write_read hdr;
	uint8_t *body;
	size_t have;
	int *fds;
	size_t nfds;
};

struct conn {
	struct source src;
	struct daemon *daemon;
	struct listener *listener;
	LIST_ENTRY(conn) daemon_entry;
	LIST_ENTRY(conn) session_entry; /* thread connections of a session */
	enum conn_role role;
	struct ucred cred;
	struct session *session;
	struct thread *thread;
	pid_t tid;
	int peer_pidfd; /* thread connections from a forked child: its pidfd, else -1 */
	struct assembly *assembly;
	/* A reply the socket could not take yet: reading stops until it is sent. */
	uint8_t *out;
	size_t out_len;
	int *out_fds;
	size_t out_nfds;
	bool close_pending; /* closed at the end of the current event */
	TAILQ_ENTRY(conn) close_entry;
};

struct session {
	struct daemon *daemon;
	struct conn *conn; /* the session connection; NULL once closed */
	struct proc *proc; /* NULL until the probe finished */
	struct listener *listener;
	uint8_t token[UBW_TOKEN_SIZE];
	struct source pidfd_src; /* readable when the process exits */
	/*
	 * The poll descriptor: a socket pair. The client gets one end; the daemon
	 * keeps the other (poll_fd, to make it readable) and a duplicate of the
	 * client's end (poll_drain, drained with MSG_DONTWAIT, which no file flag
	 * the client changes can turn into a blocking call).
	 */
	int poll_fd;
	int poll_drain;
	bool poll_set;
	LIST_HEAD(, conn) threads;
	LIST_ENTRY(session) daemon_entry;
	struct proc_identity id;
	struct ubw_hello hello;
	struct probe_task *probe; /* in flight until the copy mode is known */
	bool released;
};

struct pressure;

struct daemon {
	struct daemon_config cfg;
	struct pressure *pressure;
	int epfd;
	struct driver *drv;
	struct copier copier;
	struct source copier_src;
	struct source signal_src;
	struct source timer_src;
	bool timer_armed;
	struct listener listeners[DAEMON_MAX_CONTEXTS];
	size_t nlisteners;
	LIST_HEAD(, conn) conns;
	TAILQ_HEAD(, conn) close_list;
	LIST_HEAD(, session) sessions;
	/*
	 * Connections and sessions freed while an epoll batch is being handled:
	 * later events of the batch may still name them, so they are freed
	 * after the batch (their close_pending/released flags stop handlers).
	 */
	void **graveyard;
	size_t ngraveyard, graveyard_cap;
	uint8_t *rx; /* UBW_MAX_MESSAGE bytes: one packet at a time is received here */
	bool stopping;
	uid_t uid;
};

int daemon_init(struct daemon *d, const struct daemon_config *cfg);
int daemon_run(struct daemon *d);
void daemon_deinit(struct daemon *d);

/* Frees @p after the current epoll batch. */
void daemon_bury(struct daemon *d, void *p);

/* Loop registration. */
int daemon_watch(struct daemon *d, struct source *src, uint32_t events);
void daemon_unwatch(struct daemon *d, struct source *src);
void daemon_rewatch(struct daemon *d, struct source *src, uint32_t events);

/* Connections (conn.c). */
void conn_accept(struct listener *l);
/* Closes now: only from the loop's deferred-close step (daemon.c). */
void conn_close(struct conn *conn);
/* Closes at the end of the current event, when no driver code is on the stack. */
void daemon_defer_close(struct conn *conn);
/* Sends one message, with descriptors; queues it if the socket is full. */
int conn_send(struct conn *conn, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds);
/* A malformed packet: the peer is broken or hostile; it loses this connection. */
void conn_protocol_error(struct conn *conn, const char *what);
void close_fds(const int *fds, size_t n);

/* Largest UBW_WRITE_READ body accepted: twice the largest region, plus commands. */
static inline uint64_t daemon_max_body(const struct daemon *d)
{
	return 2 * (uint64_t)d->cfg.max_region + (1u << 20);
}

/* Sessions (session.c). */
void session_hello(struct conn *conn, const struct ubw_hello *hello);
void session_attach(struct conn *conn, const struct ubw_attach *attach);
/*
 * A new Binder thread of @conn's session for @conn: at UBW_ATTACH, and again
 * after BINDER_THREAD_EXIT. NULL with *err set when the driver refuses it.
 */
struct thread *session_new_thread(struct conn *conn, int *err);
void session_conn_closed(struct conn *conn);
void session_release(struct session *s);
void session_poll_changed(void *session, bool readable);

/* Administration (admin.c). */
void admin_hello(struct conn *conn, const struct ubw_admin_hello *hello);
void admin_request(struct conn *conn, const struct ubw_admin_request *req, size_t size);

/* Driver glue (glue.c). */
extern const struct driver_ops daemon_driver_ops;
/* A UBW_WRITE_READ packet; takes ownership of @fds. */
void glue_write_read_packet(struct conn *conn, const struct ubw_write_read *hdr, size_t len,
			    const int *fds, size_t nfds);
void glue_write_read_more(struct conn *conn, const uint8_t *body, size_t len);
void glue_ioctl(struct conn *conn, const struct ubw_ioctl *io);
void glue_mmap(struct conn *conn, const struct ubw_mmap *m);
void glue_outbox(struct conn *conn, const struct ubw_outbox *o);
