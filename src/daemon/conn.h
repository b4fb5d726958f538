/* SPDX-License-Identifier: MIT */
/*
 * Connections: accepting them, receiving one packet at a time, handing each
 * packet to the connection's role, and sending replies without ever
 * blocking the loop (a reply the socket cannot take yet is queued, and
 * reading stops until it is sent).
 *
 * A connection's first message chooses its role from the hub's table (a
 * session, a thread, the admin channel); every later packet goes to that
 * role's handler. conn knows the framing of the wire (packets, descriptors,
 * credentials of each packet's sender), never what a message means.
 *
 * Owns: struct conn's socket, its send queue and its lifetime.
 * May call: loop, wire/packet, common/log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <bsd/sys/queue.h>

#include "common/spin.h"
#include "daemon/endpoint.h"
#include "daemon/loop.h"

struct conn;

/*
 * What came with a received packet: its descriptors (a handler that keeps
 * them sets taken) and who sent it (SCM_CREDENTIALS: the sending process,
 * which is not the connecting one when the socket was inherited or passed).
 */
struct conn_rx {
	const int *fds;
	size_t n;
	bool taken;
	bool has_sender;
	struct ucred sender;
	/* From a ring whose completion ticket the client took (conn_ring.c):
	 * the packet claims it, for generation @ticket_gen. */
	bool ticket_taken;
	uint32_t ticket_gen;
};

/* What one kind of connection does with its packets. */
struct conn_role {
	const char *name;
	uint32_t first_type; /* the first message that gives a connection this role */
	size_t first_size;   /* its exact size */
	/* One request at a time: read one packet per wakeup (a thread waits for
	 * its answer, so reading on would almost always cost a failing recvmsg). */
	bool one_at_a_time;
	void *env; /* the role module's state, passed to each handler */
	void (*open)(void *env, struct conn *conn, const void *msg, struct conn_rx *rx);
	void (*packet)(void *env, struct conn *conn, const uint8_t *msg, size_t len,
		       struct conn_rx *fds);
	/* The connection is closing (may be NULL). */
	void (*closed)(void *env, struct conn *conn);
	/* Its ring's completion ticket closed without a claim (may be NULL). */
	void (*ticket_closed)(void *env, struct conn *conn);
};

/* A listening socket whose connections join @hub. */
struct conn_listener {
	struct loop_source src;
	struct conn_hub *hub;
	void *served; /* what the listener serves, for the roles (a Binder context) */
	bool paused;  /* out of descriptors: not watched until the hub's resume timer */
	LIST_ENTRY(conn_listener) entry;
	char path[108];
};

/* Totals of every ring of the hub (conn_ring.c; ubinderctl stats). */
struct conn_ring_stats {
	uint64_t opened;
	uint64_t refused; /* UBW_RING answered with an error */
	uint64_t lies;	  /* connections dropped for an index or entry that lied */
	uint64_t markers_in, markers_out;
	uint64_t bells; /* doorbell wake-ups (a request the daemon was not about to look for) */
	uint64_t futex_wakes, kicks;
	uint64_t paired_wakes;	       /* FUTEX_WAKE_OP calls: two wakes each */
	uint64_t batched_wakes;	       /* futex wakes sent by io_uring, several per call */
	uint64_t wake_requests_failed; /* io_uring wake requests refused: woken alone */
	uint64_t full;		       /* replies sent over the socket because the ring was full */
	uint64_t bell_mutes; /* doorbells muted for ringing with an empty ring (conn_ring.c) */
	uint64_t polled;     /* drains of polled rings (requests no doorbell announced) */
	/* The lazy read (conn_ring.c): rings armed, pure reads taken without a
	 * doorbell, rings disarmed with nothing posted yet, and rings whose next
	 * entry was not a pure read (left for the ordinary drain). */
	uint64_t lazy_armed, lazy_taken, lazy_unposted, lazy_declined;
	/* The local completion (conn_ring.c): tickets offered, taken by the
	 * client, closed by the daemon first, and taken with no ticket write
	 * behind them (a lie: nothing is honoured). */
	uint64_t tickets_offered, tickets_taken, tickets_closed, ticket_lies;
};

/*
 * A second way a connection's packets travel, beside its socket (the ring,
 * conn_ring.c, which sets conn->channel): conn reaches it only through this
 * table.
 */
struct conn_channel {
	/* Sends a packet: 1 when the channel took it; 0 when the caller sends
	 * it on the socket now (the channel placed a marker); -errno when the
	 * peer broke the channel (the connection is closing). */
	int (*send)(struct conn *conn, const struct iovec *iov, int iovcnt, size_t nfds);
	/* Reading may go on: a queued reply went out. */
	void (*resume)(struct conn *conn);
	/* The socket has packets (edge-triggered), or the peer hung up: what
	 * the peer wrote before, in the channel, is taken before the close. */
	void (*socket_ready)(struct conn *conn);
	/* The connection is closing. */
	void (*close)(struct conn *conn);
};

/* Every connection of the daemon, and the roles they may take. */
struct conn_hub {
	struct loop *loop;
	const struct conn_role *const *roles;
	size_t nroles;
	LIST_HEAD(, conn) conns;
	LIST_HEAD(, conn_listener) listeners;
	uint8_t *rx; /* UBW_MAX_MESSAGE bytes: one packet at a time is received here */
	/*
	 * At the descriptor limit, accept() fails and the pending connection
	 * stays, so the listener stays readable. A reserve descriptor, closed
	 * for a moment, lets the daemon accept it and close it at once (the
	 * client sees end of file, instead of hanging); when even that fails,
	 * the listeners pause, with back-off, instead of spinning.
	 */
	int reserve_fd;
	struct loop_timer resume;
	unsigned int pause_ms;
	uint64_t refused_nofile; /* connections closed at once: no descriptor for them */
	uint64_t pauses;
	struct conn_ring_stats rings;
	/* Rings whose doorbell is muted (conn_ring.c), and the timer that
	 * unmutes them: open only while any is muted. */
	LIST_HEAD(, conn_ring) muted_rings;
	struct loop_timer unmute;
	/*
	 * Rings the loop polls instead of waiting for their doorbells
	 * (conn_ring.c): the latest drained empty or sent to since the loop
	 * last slept, the latest first. The poller (set by conn_ring_hub_init; rings are refused
	 * without it) spins on them a bounded time before asking for the
	 * doorbells and sleeping.
	 */
	TAILQ_HEAD(conn_ring_list, conn_ring) polled_rings;
	unsigned int npolled; /* at most POLLED_MAX (conn_ring.c) */
	/* The owed FUTEX_WAKEs in one system call, or NULL (then in pairs),
	 * and which of the two, with why (ubinderctl stats). */
	struct futex_batch *futex_batch;
	const char *wake_mode;
	struct loop_poller ring_poller;
	struct spin_policy ring_spin;
	/* Rings armed for a lazy read (conn_ring.c): taken before the driver's
	 * next operation; @taking_lazy while that runs. */
	LIST_HEAD(, conn_ring) lazy_rings;
	bool taking_lazy;
	/* The local completion (conn_ring.c): rings whose thread may be
	 * offered a ticket once the loop settles, and rings with an open
	 * ticket, closed before the driver's next operation; where a claimed
	 * ticket's write is copied (it may be taken while hub->rx is in use). */
	LIST_HEAD(, conn_ring) offer_wanted;
	LIST_HEAD(, conn_ring) offered_rings;
	uint8_t *ticket_rx;
};

/* Packets of a connection by the way they travelled (ubinderctl proc). */
struct conn_packets {
	uint64_t ring_in, ring_out, socket_in, socket_out;
	uint64_t bell_mutes; /* not a packet: times its doorbell was muted (conn_ring.c) */
};

struct session;
struct thread;
struct assembly;

struct conn {
	struct loop_source src;
	struct conn_hub *hub;
	struct conn_listener *listener;
	LIST_ENTRY(conn) hub_entry;
	const struct conn_role *role; /* NULL until the first message */
	struct ucred cred;	      /* SO_PEERCRED: who connected */
	struct loop_deferred close_item;
	/* A reply the socket could not take yet: reading stops until it is sent. */
	uint8_t *out;
	size_t out_len;
	int *out_fds;
	size_t out_nfds;
	/* A thread's ring (conn_ring.c), or NULL; its channel is set once the
	 * answer that created it is out (socket only until then). */
	struct conn_ring *ring;
	const struct conn_channel *channel;
	bool socket_reply; /* answering a packet from the socket's other user: not in the ring */
	struct conn_packets packets;

	/* State of the session and thread roles (session.c, glue.c). */
	struct endpoint endpoint; /* what the driver knows the thread by */
	struct session *session;
	LIST_ENTRY(conn) session_entry; /* thread connections of a session */
	struct thread *thread;
	pid_t tid;
	int peer_pidfd;	   /* thread connections from a forked child: its pidfd, else -1 */
	bool thread_quota; /* holds one of its uid's thread quota */
	struct assembly *assembly;
	bool wants_offer;	    /* its last UBW_WRITE_READ asked for tickets (UBW_WR_OFFER) */
	bool honouring;		    /* the driver runs its claimed ticket write: no reply is sent */
	uint64_t honour_write_size; /* that write's binder_write_read.write_size */
	uint32_t offered_limit;	    /* the reply data its last ticket offer covered */
	void *role_state;	    /* other roles' per-connection state */
};

int conn_hub_init(struct conn_hub *hub, struct loop *loop, const struct conn_role *const *roles,
		  size_t nroles);
/* Closes every connection (their roles see them close). */
void conn_hub_deinit(struct conn_hub *hub);

/* Makes @fd (bound and listening) accept connections into @hub. */
int conn_listen(struct conn_listener *l, struct conn_hub *hub, int fd);

/* Lines for the stats dump. */
void conn_hub_dump_stats(const struct conn_hub *hub, FILE *out);

/* Closes at the end of the current event, when no handler is on the stack. */
void conn_defer_close(struct conn *conn);
static inline bool conn_closing(const struct conn *conn)
{
	return conn->close_item.pending;
}
/* Sends one message, with descriptors; queues it if the socket is full. */
int conn_send(struct conn *conn, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds);
/* A reply that is only a header. */
void conn_reply_header(struct conn *conn, uint32_t type, int error);
/* A malformed packet: the peer is broken or hostile; it loses this connection. */
void conn_protocol_error(struct conn *conn, const char *what);

void close_fds(const int *fds, size_t n);

/* For conn_ring.c. Hands a packet to the connection's role (closing the
 * descriptors the handler did not take). */
void conn_dispatch(struct conn *conn, const uint8_t *msg, size_t len, struct conn_rx *rx);
/* Receives one packet from the socket, if one is there, and dispatches it:
 * 1 when one was, 0 when none, -1 when the connection is closing. */
int conn_receive_one(struct conn *conn);
/* Watches the socket for what it is needed for now: packets (edge-triggered
 * once a channel carries them), or room for a queued reply. */
void conn_watch_socket(struct conn *conn);
