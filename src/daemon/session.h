/* SPDX-License-Identifier: MIT */
/*
 * Sessions: a Binder process as the daemon sees it. UBW_HELLO on a new
 * connection opens one (finding, without touching the client's memory,
 * whether the daemon may read it); UBW_ATTACH with its token adds a thread, verified to
 * come from the same thread group or a child it forked. The process dies
 * when the session connection closes or its pidfd reports that it exited.
 *
 * Owns: struct session and the list of sessions; the lifetime calls into
 * the driver (a process opening, flushing and releasing; threads attaching
 * and detaching); the poll descriptor.
 * May call: conn, quota, loop, driver (lifetime calls only), common/log.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <bsd/sys/queue.h>

#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/quota.h"
#include "driver/driver.h"
#include "wire/wire.h"

struct session {
	struct endpoint endpoint; /* what the driver knows the process by */
	struct sessions *sessions;
	struct conn *conn; /* the session connection; NULL once closed */
	struct proc *proc; /* NULL only if the driver refused it */
	struct conn_listener *listener;
	uint8_t token[UBW_TOKEN_SIZE];
	struct loop_source pidfd_src; /* readable when the process exits */
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
	LIST_ENTRY(session) entry;
	struct proc_identity id;
	struct ubw_hello hello;
	/* Held by its unfinished multi-packet requests (assembly.c). */
	uint64_t partial_bytes;
	uint64_t partial_fds;
	/* Packets of its closed thread connections (open ones count their own). */
	struct conn_packets packets;
	bool released;
};

/* Every session of the daemon, and what they need. */
struct sessions {
	struct loop *loop;
	struct driver *drv;
	struct uid_quotas *quotas;
	const struct daemon_config *cfg;
	LIST_HEAD(, session) list;
};

void sessions_init(struct sessions *ss, struct loop *loop, struct driver *drv,
		   struct uid_quotas *quotas, const struct daemon_config *cfg);
/* Releases every session. */
void sessions_deinit(struct sessions *ss);

/* Largest UBW_WRITE_READ body accepted: twice the largest region, plus commands. */
uint64_t sessions_max_body(const struct sessions *ss);

/* UBW_HELLO on a new connection: opens a session (-EMFILE over the uid's session quota). */
void session_hello(struct sessions *ss, struct conn *conn, const struct ubw_hello *hello);
/* UBW_ATTACH on a new connection: a thread of an open session (-EAGAIN over the uid's
 * thread quota, as over the per-process thread limit). */
void session_attach(struct sessions *ss, struct conn *conn, const struct ubw_attach *attach);
/*
 * A new Binder thread of @conn's session for @conn, in conn->thread: at
 * UBW_ATTACH, and again after BINDER_THREAD_EXIT. 0, or the driver's -errno
 * (driver_thread_attach) with conn->thread NULL.
 */
int session_new_thread(struct conn *conn);
/* @conn (a session's or a thread's connection) is closing. */
void session_conn_closed(struct sessions *ss, struct conn *conn);
void session_release(struct session *s);
/* "packets:" lines of the sessions of process @pid, for ubinderctl proc. */
void sessions_dump_proc(const struct sessions *ss, pid_t pid, FILE *out);
