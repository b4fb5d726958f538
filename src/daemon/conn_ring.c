/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/conn.h"
#include "daemon/conn_ring.h"
#include "daemon/futex_wake.h"
#include "wire/packet.h"
#include "wire/ring.h"
#include "wire/wire.h"

/* Packets taken from one ring per wake-up before others get a turn. */
#define RING_BURST 16

/*
 * The doorbell-flood throttle. An honest client rings only after posting and
 * only when req_bell asked, so a doorbell finds its ring empty only when a
 * drain took the entry first (arm_run's last look), and between two such
 * doorbells an entry was taken. After BELL_EMPTY_MAX doorbells with no entry
 * taken in between (the count is reset by every entry) the daemon stops
 * watching that doorbell; the hub's timer watches it again (and drains the
 * ring) every BELL_MUTE_MS, so a flooder delays only its own requests.
 */
#define BELL_EMPTY_MAX 64
#define BELL_MUTE_MS   10

/*
 * The rings the loop polls at once (the latest served); a ring pushed out
 * by a newer one has its doorbell asked for at once. Each look reads a word
 * the client writes, a cache miss; a doorbell costs its client a write and
 * the loop an epoll event. A call involves two rings (the caller's and the
 * server's), so 32 keep 16 calls in flight without doorbells: at 16 client
 * threads they halve the doorbells per call (2.0 to 1.0) and raise calls/s
 * by about 8 % over 4 (bench/results/throughput-notes.md).
 */
#define POLLED_MAX 32

struct conn_ring {
	struct loop_source bell; /* the doorbell: edge-triggered, never read */
	struct conn *conn;
	void *map;
	size_t map_size;
	struct ubw_ring_header *hdr;
	struct ubw_ring in, out;      /* requests taken, replies given */
	struct loop_batch_item wake;  /* a FUTEX_WAKE owed after the batch */
	struct loop_batch_item again; /* a burst was not enough: drain on next batch */
	struct loop_batch_item arm;   /* drained empty: ask for the doorbell after the batch */
	unsigned int empty_bells;     /* doorbells in a row that found the ring empty */
	bool muted, mute_logged;      /* doorbell not watched: on hub->muted_rings */
	LIST_ENTRY(conn_ring) muted_entry;
	bool polled; /* on hub->polled_rings: served; its doorbell is asked for at the next sleep */
	TAILQ_ENTRY(conn_ring) polled_entry;
	bool lazy; /* armed for a lazy read: on hub->lazy_rings, req_lazy is 1 */
	LIST_ENTRY(conn_ring) lazy_entry;
	/* The local completion: a ticket of generation offer_gen is open (on
	 * hub->offered_rings); the thread may be offered one when the loop
	 * settles (on hub->offer_wanted). */
	bool offered, offer_wanted;
	uint32_t offer_gen;
	LIST_ENTRY(conn_ring) offered_entry;
	LIST_ENTRY(conn_ring) wanted_entry;
};

static void ring_drain(struct conn *conn);
static void ring_socket_ready(struct conn *conn);
static void ring_close(struct conn *conn);
static const struct conn_channel ring_channel;

static struct conn_ring_stats *stats(struct conn *conn)
{
	return &conn->hub->rings;
}

static void ring_lied(struct conn *conn, const char *what)
{
	stats(conn)->lies++;
	conn_protocol_error(conn, what);
}

static void ring_unmute(struct loop_timer *timer);

static void polled_remove(struct conn_ring *r)
{
	struct conn_hub *hub = r->conn->hub;

	TAILQ_REMOVE(&hub->polled_rings, r, polled_entry);
	hub->npolled--;
	r->polled = false;
}

/* Whether the loop can take a request from @r now (it reads req_tail once). */
static bool ring_takeable(struct conn_ring *r)
{
	/* A connection whose replies are queued, or that is closing, drains
	 * when its output flushes (ring_resume), not before. */
	return !conn_closing(r->conn) && !r->conn->out && ubw_ring_pending(&r->in);
}

/*
 * Asks for @r's doorbell (the loop stops polling it), and looks once more
 * (Dekker with the client's ring_bell: it publishes, fences, then reads
 * req_bell): true when a request is there after all.
 */
static bool polled_arm(struct conn_ring *r)
{
	polled_remove(r);
	__atomic_store_n(&r->hdr->req_bell, 1, __ATOMIC_SEQ_CST);
	return ring_takeable(r);
}

/* Off the lazy list; req_lazy 0 and a full fence, so that the client, which
 * posts and then reads req_lazy, either rings or has its entry seen by
 * whoever looks at the ring after this. */
static void lazy_disarm(struct conn_ring *r)
{
	LIST_REMOVE(r, lazy_entry);
	r->lazy = false;
	__atomic_store_n(&r->hdr->req_lazy, 0, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void bell_mute(struct conn_ring *r)
{
	struct conn *conn = r->conn;
	struct conn_hub *hub = conn->hub;

	if (hub->unmute.src.fd < 0 && loop_timer_init(hub->loop, &hub->unmute, ring_unmute) < 0) {
		loop_timer_deinit(&hub->unmute);
		return; /* no timer: keep watching, unthrottled */
	}

	loop_unwatch(hub->loop, &r->bell);
	if (r->polled)
		polled_remove(r); /* the timer takes its entries now, not the loop's polling */
	r->muted = true;
	r->empty_bells = 0;
	LIST_INSERT_HEAD(&hub->muted_rings, r, muted_entry);
	loop_timer_set(&hub->unmute, BELL_MUTE_MS);
	stats(conn)->bell_mutes++;
	conn->packets.bell_mutes++;
	if (!r->mute_logged) {
		r->mute_logged = true;
		log_warning("pid %d: thread %d rings its doorbell with an empty ring: muted "
			    "for %d ms each time",
			    conn->cred.pid, conn->tid, BELL_MUTE_MS);
	}
}

static void ring_unmute(struct loop_timer *timer)
{
	struct conn_hub *hub =
		(struct conn_hub *)((char *)timer - offsetof(struct conn_hub, unmute));
	struct conn_ring *r;

	while ((r = LIST_FIRST(&hub->muted_rings)) != NULL) {
		LIST_REMOVE(r, muted_entry);
		r->muted = false;
		/* Edge-triggered: a doorbell written while muted is not reported
		 * again, so what was posted meanwhile is taken now. */
		if (loop_watch(hub->loop, &r->bell, EPOLLIN | EPOLLET) < 0) {
			conn_protocol_error(r->conn, "doorbell cannot be watched again");
			continue;
		}
		ring_drain(r->conn);
	}
	/* Closed until the next mute: no descriptor held while none is muted
	 * (ring_drain does not mute; only a doorbell does). */
	loop_timer_deinit(&hub->unmute);
}

static void bell_handle(struct loop_source *src, uint32_t events)
{
	struct conn_ring *r = (struct conn_ring *)src;

	(void)events;
	/* A ring closed earlier in this epoll batch is buried, not freed, and
	 * its doorbell's event may still be in the batch: nothing to do. */
	if (r->conn->ring != r)
		return;
	stats(r->conn)->bells++;
	if (!ubw_ring_pending(&r->in) && ++r->empty_bells >= BELL_EMPTY_MAX) {
		bell_mute(r);
		return;
	}
	ring_drain(r->conn);
}

static void wake_run(struct loop_batch_item *item);

/* The ring whose wake item @item is. */
static struct conn_ring *ring_of_wake(struct loop_batch_item *item)
{
	return (struct conn_ring *)((char *)item - offsetof(struct conn_ring, wake));
}

/* @r's wake-up, @next's and those of every other ring still owed one (up
 * to FUTEX_BATCH_MAX) in one io_uring submission. */
static void wake_batched(struct conn_hub *hub, struct conn_ring *r, struct loop_batch_item *next)
{
	uint32_t *words[FUTEX_BATCH_MAX];
	unsigned n = 0, failed;
	int ret;

	words[n++] = &r->hdr->rep_tail;
	do {
		stats(r->conn)->futex_wakes++;
		words[n++] = &ring_of_wake(next)->hdr->rep_tail;
	} while (n < FUTEX_BATCH_MAX && (next = loop_after_batch_take(hub->loop, wake_run)));
	ret = futex_batch_wake(hub->futex_batch, words, n, &failed);
	stats(r->conn)->wake_requests_failed += failed;
	if (ret == (int)n) {
		stats(r->conn)->batched_wakes += n - failed;
		return;
	}
	/* io_uring failed us: wake each, and use the pairs from now on. */
	for (unsigned i = 0; i < n; i++)
		futex_wake_one(words[i]);
	futex_batch_free(hub->futex_batch);
	hub->futex_batch = NULL;
	hub->wake_mode = "pairs (an io_uring submission failed)";
	log_warning("futex wake-ups in pairs from now on: an io_uring submission failed (%s)",
		    ret < 0 ? strerror(-ret) : "short");
}

/*
 * The wake-ups owed after a batch go out together (io_uring), or two per
 * system call: a wakee preempts the daemon at the call's return, often,
 * and then the next wake-up waits for the daemon's turn.
 */
static void wake_run(struct loop_batch_item *item)
{
	struct conn_ring *r = ring_of_wake(item), *r2;
	struct conn_hub *hub = r->conn->hub;
	struct loop_batch_item *next = loop_after_batch_take(hub->loop, wake_run);

	stats(r->conn)->futex_wakes++;
	if (next && hub->futex_batch) {
		wake_batched(hub, r, next);
		return;
	}
	if (!next) {
		futex_wake_one(&r->hdr->rep_tail);
		return;
	}
	r2 = ring_of_wake(next);
	stats(r->conn)->futex_wakes++;
	stats(r->conn)->paired_wakes++;
	/* A failed FUTEX_WAKE_OP wakes neither (the kernel does nothing to the
	 * first word when the operation on the second faults). */
	if (futex_wake_two(&r->hdr->rep_tail, &r2->hdr->rep_tail, r2->out.own) < 0) {
		futex_wake_one(&r->hdr->rep_tail);
		futex_wake_one(&r2->hdr->rep_tail);
	}
}

/*
 * The loop polls @r until it next sleeps (rings_poll), and asks for its
 * doorbell only then: requests that arrive meanwhile are taken without one.
 */
static void ring_poll(struct conn_ring *r)
{
	struct conn_hub *hub = r->conn->hub;
	struct conn_ring *oldest;

	/* A muted ring's entries are the unmute timer's; one that rang with
	 * nothing posted since its last entry is not worth a look. */
	if (r->muted || r->empty_bells)
		return;
	if (r->polled) {
		/* The latest served first. */
		TAILQ_REMOVE(&hub->polled_rings, r, polled_entry);
		TAILQ_INSERT_HEAD(&hub->polled_rings, r, polled_entry);
		return;
	}
	r->polled = true;
	TAILQ_INSERT_HEAD(&hub->polled_rings, r, polled_entry);
	if (++hub->npolled <= POLLED_MAX)
		return;
	oldest = TAILQ_LAST(&hub->polled_rings, conn_ring_list);
	if (polled_arm(oldest))
		loop_after_batch(hub->loop, &oldest->again);
}

/*
 * The batch is over and the ring was empty when last drained: the loop
 * polls it, or, if its doorbell rang with nothing posted (a flood, which
 * the throttle counts), asks for the doorbell at once, as a quiet ring.
 */
static void arm_run(struct loop_batch_item *item)
{
	struct conn_ring *r = (struct conn_ring *)((char *)item - offsetof(struct conn_ring, arm));

	if (!r->empty_bells) {
		ring_poll(r);
		return;
	}
	__atomic_store_n(&r->hdr->req_bell, 1, __ATOMIC_SEQ_CST);
	if (ring_takeable(r))
		ring_drain(r->conn);
}

/*
 * Drains every polled ring with a request (a burst each, so none waits
 * behind a busy one): true if any. Draining may close, mute or push out
 * other rings: they are looked at from a copy of the list, each only if
 * still polled (a closed ring is buried, not freed, until the turn ends).
 */
static bool take_polled(struct conn_hub *hub)
{
	struct conn_ring *polled[POLLED_MAX], *r;
	size_t n = 0;
	bool took = false;

	TAILQ_FOREACH(r, &hub->polled_rings, polled_entry)
		if (n < POLLED_MAX)
			polled[n++] = r;
	for (size_t i = 0; i < n; i++) {
		r = polled[i];
		/* A lazily armed ring's read is taken before the next driver
		 * operation (conn_hub_take_lazy_reads): no hurry for it. */
		if (!r->polled || r->lazy || !ring_takeable(r))
			continue;
		stats(r->conn)->polled++;
		ring_drain(r->conn); /* takes one at least, or closes the connection */
		loop_settle(hub->loop);
		took = true;
	}
	return took;
}

static bool any_polled_takeable(void *arg)
{
	struct conn_hub *hub = arg;
	struct conn_ring *r;

	TAILQ_FOREACH(r, &hub->polled_rings, polled_entry)
		if (!r->lazy && ring_takeable(r))
			return true;
	return false;
}

/*
 * Asks for the polled rings' doorbells. True when a request was there after
 * all: it is taken, and the rings not armed yet stay polled (the loop does
 * not sleep, and comes back).
 */
static bool arm_polled(struct conn_hub *hub)
{
	struct conn_ring *r;

	while ((r = TAILQ_FIRST(&hub->polled_rings)) != NULL) {
		if (!polled_arm(r))
			continue;
		if (r->lazy)
			conn_hub_take_lazy_reads(hub); /* its read, or the ordinary drain after */
		else
			ring_drain(r->conn);
		return true;
	}
	return false;
}

/*
 * The loop's poller: takes a request from a polled ring; when the loop is
 * about to sleep, spins a bounded time for one (ring_spin: only on more
 * than one CPU, and while recent spins found one), then asks for the
 * doorbells. The spin runs only right after the loop did work (a ring is
 * polled only once drained or sent to, until the next sleep), so an idle
 * daemon does not spin.
 */
static bool rings_poll(struct loop_poller *poller, bool may_sleep)
{
	struct conn_hub *hub =
		(struct conn_hub *)((char *)poller - offsetof(struct conn_hub, ring_poller));

	if (TAILQ_EMPTY(&hub->polled_rings))
		return false;
	if (take_polled(hub))
		return true;
	if (!may_sleep)
		return false;
	if (spin_wait(&hub->ring_spin, any_polled_takeable, hub) && take_polled(hub))
		return true;
	return arm_polled(hub);
}

void conn_ring_hub_init(struct conn_hub *hub, uint32_t spin_ns, bool wake_batch)
{
	spin_policy_init(&hub->ring_spin, spin_ns);
	hub->wake_mode = "pairs (--wake-batch off)";
	if (wake_batch) {
		hub->futex_batch = futex_batch_new(&hub->wake_mode);
		if (hub->futex_batch)
			hub->wake_mode = "io_uring";
		else
			log_info("futex wake-ups sent: %s", hub->wake_mode);
	}
	hub->ring_poller.poll = rings_poll;
	hub->loop->poller = &hub->ring_poller;
}

static void again_run(struct loop_batch_item *item)
{
	struct conn_ring *r =
		(struct conn_ring *)((char *)item - offsetof(struct conn_ring, again));

	ring_drain(r->conn);
}

/* Creates the ring: 0, or -errno (the client then stays on its socket). */
static int ring_create(struct conn *conn, uint32_t cap, int *memfd, int *bell)
{
	struct conn_ring *r = calloc(1, sizeof(*r));
	int fd = -1, efd = -1, err;

	if (!r)
		return -ENOMEM;
	r->map = MAP_FAILED;
	r->map_size = ubw_ring_map_size(cap);
	fd = memfd_create("ubinder-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, (off_t)r->map_size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	r->map = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->map == MAP_FAILED)
		goto fail;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		goto fail;
	r->hdr = r->map;
	r->conn = conn;
	ubw_ring_views(r->map, cap, true, &r->out, &r->in);
	r->bell.fd = efd;
	r->bell.handle = bell_handle;
	r->wake.run = wake_run;
	r->again.run = again_run;
	r->arm.run = arm_run;
	/*
	 * Edge-triggered, and never read: each write of the client is an event,
	 * and a client that empties it or clears its O_NONBLOCK (the file
	 * description is shared) cannot make a read of ours block.
	 */
	if (loop_watch(conn->hub->loop, &r->bell, EPOLLIN | EPOLLET) < 0)
		goto fail;
	/* Ring me for the first request. */
	__atomic_store_n(&r->hdr->req_bell, 1, __ATOMIC_SEQ_CST);
	conn->ring = r;
	*memfd = fd;
	*bell = efd;
	return 0;
fail:
	err = errno ? -errno : -ENOMEM;
	if (r->map != MAP_FAILED)
		munmap(r->map, r->map_size);
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	free(r);
	return err;
}

void conn_ring_open(struct conn *conn, uint32_t cap, uint32_t flags, bool enabled)
{
	struct ubw_ring_reply reply = { .hdr = { UBW_RING | UBW_REPLY, 0 }, .cap = cap };
	struct iovec iov = { &reply, sizeof(reply) };
	int fds[2] = { -1, -1 };

	if (!enabled || !conn->hub->ring_poller.poll)
		reply.hdr.error = -EOPNOTSUPP;
	else if (conn->ring)
		reply.hdr.error = -EBUSY;
	else if (flags || !ubw_ring_cap_ok(cap))
		reply.hdr.error = -EINVAL;
	else
		reply.hdr.error = ring_create(conn, cap, &fds[0], &fds[1]);
	if (reply.hdr.error) {
		stats(conn)->refused++;
		reply.cap = 0;
		conn_send(conn, &iov, 1, NULL, 0);
		return;
	}
	stats(conn)->opened++;
	/* The answer still goes over the socket: the client waits for it there. */
	conn_send(conn, &iov, 1, fds, 2);
	close(fds[0]); /* the mapping is all we need of it */
	conn->channel = &ring_channel;
	conn_watch_socket(conn);
	log_debug("pid %d: thread %d uses a ring of %u bytes", conn->cred.pid, conn->tid, cap);
}

static int ring_send(struct conn *conn, const struct iovec *iov, int iovcnt, size_t nfds)
{
	struct conn_ring *r = conn->ring;
	uint32_t sleep;
	size_t len = 0;
	bool socket;
	int err = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	/* A client waiting on its socket is woken by the packet itself. */
	socket = nfds || len > UBW_RING_MAX_PACKET(r->out.cap) ||
		 __atomic_load_n(&r->hdr->rep_sleep, __ATOMIC_RELAXED) == UBW_RING_SOCKET_WAIT;
	if (!socket) {
		err = ubw_ring_put(&r->out, iov, iovcnt, len);
		if (err == -ENOSPC) {
			stats(conn)->full++;
			socket = true;
		}
	}
	if (socket)
		err = ubw_ring_put_marker(&r->out);
	if (err) {
		/* Full even for a marker: the client does not read its replies. */
		ring_lied(conn, err == -ENOSPC ? "ring full: replies not read" : "ring index lies");
		return -EPROTO;
	}
	/* Dekker with the client's wait: the entry is published, then its word read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sleep = __atomic_exchange_n(&r->hdr->rep_sleep, UBW_RING_AWAKE, __ATOMIC_SEQ_CST);
	if (sleep == UBW_RING_FUTEX) {
		loop_after_batch(conn->hub->loop, &r->wake);
	} else if (sleep == UBW_RING_SOCKET_WAIT && !socket) {
		/* It went to its socket after we looked: a kick sends it back. */
		struct ubw_header kick = { UBW_RING_KICK | UBW_REPLY, 0 };
		struct iovec kiov = { &kick, sizeof(kick) };

		stats(conn)->kicks++;
		(void)ubw_send_packet(conn->src.fd, &kiov, 1, NULL, 0, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	/* Whoever was just given work is the likeliest to post next. */
	ring_poll(r);
	if (socket) {
		stats(conn)->markers_out++;
		return 0;
	}
	conn->packets.ring_out++;
	return 1;
}

/* The role forgets the promise behind a ticket that closed unclaimed. */
static void ticket_closed(struct conn *conn)
{
	if (conn->role && conn->role->ticket_closed)
		conn->role->ticket_closed(conn->role->env, conn);
}

/*
 * Closes @r's open ticket: true when the client claimed it first (its CAS
 * found OFFERED and left TAKEN); else the ticket is closed, and so is the
 * promise behind it. A scribbled word is a closed ticket.
 */
static bool ticket_close(struct conn_ring *r)
{
	uint32_t want = UBW_TICKET(r->offer_gen, UBW_TICKET_OFFERED);

	LIST_REMOVE(r, offered_entry);
	r->offered = false;
	if (!__atomic_compare_exchange_n(&r->hdr->tc_ticket, &want,
					 UBW_TICKET(r->offer_gen, UBW_TICKET_CLOSED), false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
	    want == UBW_TICKET(r->offer_gen, UBW_TICKET_TAKEN)) {
		stats(r->conn)->tickets_taken++;
		return true;
	}
	stats(r->conn)->tickets_closed++;
	ticket_closed(r->conn);
	return false;
}

/* A request that claims a ticket: its generation in *gen. Daemon's copy. */
static bool is_ticket_write(const void *packet, size_t len)
{
	struct ubw_write_read h;

	if (len < sizeof(h))
		return false;
	memcpy(&h, packet, sizeof(h));
	return h.hdr.type == UBW_WRITE_READ && (h.flags & UBW_WR_TICKET);
}

/*
 * The entry @packet (@len bytes, or a marker or lie with len <= 0) was
 * taken from a ring whose ticket the client claimed: only the ticket write
 * of that generation is the claim's; anything else is a lie, and nothing
 * is honoured (the promise is dropped, the entry runs as any other).
 */
static void ticket_claimed_by(struct conn_ring *r, const void *packet, ssize_t len,
			      struct conn_rx *rx)
{
	struct ubw_write_read h;

	if (len > 0 && is_ticket_write(packet, (size_t)len)) {
		memcpy(&h, packet, sizeof(h));
		if (h.ticket_gen == r->offer_gen) {
			rx->ticket_taken = true;
			rx->ticket_gen = h.ticket_gen;
			return;
		}
	}
	stats(r->conn)->ticket_lies++;
	ticket_closed(r->conn);
}

/*
 * The claimed write of generation @gen has run: the ticket leaves TAKEN,
 * which tells the client that the pages a staged reply used are free again
 * (docs/protocol.md). A write honoured as promised has run to its end by
 * now, its data copied (a promise is made only with the thread idle, and a
 * covered reply's data is inline or in the outbox, never read by a copy
 * worker); a claim refused runs as any request, which an honest client
 * never sees. Not if running it closed the ring.
 */
static void ticket_done(struct conn *conn, struct conn_ring *r, uint32_t gen)
{
	if (conn->ring != r || conn_closing(conn))
		return;
	__atomic_store_n(&r->hdr->tc_ticket, UBW_TICKET(gen, UBW_TICKET_CLOSED), __ATOMIC_RELEASE);
}

static void ring_drain(struct conn *conn)
{
	struct conn_ring *r = conn->ring;
	uint8_t *buf = conn->hub->rx;

	for (int i = 0; i < RING_BURST; i++) {
		struct conn_rx rx = { .fds = NULL };
		ssize_t n;

		if (conn_closing(conn) || conn->out)
			return; /* flush_output drains again */
		n = ubw_ring_get(&r->in, buf, UBW_MAX_MESSAGE);
		if (n == UBW_RING_EMPTY) {
			loop_after_batch(conn->hub->loop, &r->arm);
			return;
		}
		/* Any entry closes the ticket before it runs: only the client's
		 * next request can claim it. */
		if (r->offered && ticket_close(r))
			ticket_claimed_by(r, buf, n, &rx);
		/* Taken in order: no lazy take, from the operation this entry
		 * starts, may jump ahead of the next one. (A ring the drain
		 * leaves empty keeps an arming its last entry's reply made.) */
		if (r->lazy)
			lazy_disarm(r);
		r->empty_bells = 0; /* an entry: whoever rang for it was honest */
		if (n == UBW_RING_GOT_MARKER) {
			stats(conn)->markers_in++;
			/* The client sends the packet before its marker: it is there. */
			if (conn_receive_one(conn) == 0)
				ring_lied(conn, "ring marker without a packet on the socket");
			ring_socket_ready(conn); /* another's, queued behind it? */
			continue;
		}
		if (n < 0)
			return ring_lied(conn, "ring entry or index lies");
		conn->packets.ring_in++;
		/* The ring is mapped only by the process that opened the connection
		 * (the client closes the memfd and keeps the mapping from its forked
		 * children): its packets are the opener's. */
		rx.has_sender = true;
		rx.sender = conn->cred;
		conn_dispatch(conn, buf, (size_t)n, &rx);
		if (rx.ticket_taken)
			ticket_done(conn, r, rx.ticket_gen);
	}
	/* More than a burst: the rest after the other connections of this batch. */
	loop_after_batch(conn->hub->loop, &r->again);
}

enum peeked {
	PEEK_NONE,
	PEEK_PACKET,
	PEEK_END
};

/* The socket's next packet and its sender (*pid, 0 if unknown), or its end. */
static enum peeked peek_sender(struct conn *conn, pid_t *pid)
{
	int fds[UBW_MAX_FDS], flags = 0;
	struct ucred cred;
	bool has = false;
	uint8_t head[sizeof(struct ubw_header)];
	size_t nfds = 0;
	ssize_t n = ubw_recv_packet_from(conn->src.fd, head, sizeof(head), fds, UBW_MAX_FDS, &nfds,
					 MSG_PEEK | MSG_DONTWAIT, &flags, &cred, &has);

	close_fds(fds, nfds); /* peeking installs copies of its descriptors */
	if (n < 0)
		return PEEK_NONE;
	*pid = has ? cred.pid : 0;
	return n == 0 ? PEEK_END : PEEK_PACKET;
}

static void ticket_take(struct conn_ring *r);

/*
 * The client closed the connection: a write that claimed the ticket is in
 * the ring, and returned to its program as done, as the kernel's would
 * have. It runs before the close (which would cancel its promise).
 */
static void ticket_take_before_close(struct conn_ring *r)
{
	if (r->offered && ticket_close(r))
		ticket_take(r);
}

static void ring_socket_ready(struct conn *conn)
{
	enum peeked peeked;
	pid_t pid;

	while (!conn_closing(conn) && !conn->out && (peeked = peek_sender(conn, &pid))) {
		int r;

		if (peeked == PEEK_END) {
			ticket_take_before_close(conn->ring);
			if (conn_closing(conn))
				return;
			/* The end is read next: the connection closes. */
		} else if (pid == conn->cred.pid) {
			return; /* the opener's: its marker will take it, in order */
		}
		/* Another process's (the connection was inherited or passed): it
		 * has no ring, and is answered on the socket, where it waits. */
		conn->socket_reply = true;
		r = conn_receive_one(conn);
		conn->socket_reply = false;
		if (r <= 0)
			return;
	}
}

static void ring_close(struct conn *conn)
{
	struct conn_ring *r = conn->ring;

	if (!r)
		return;
	loop_after_batch_cancel(conn->hub->loop, &r->wake);
	loop_after_batch_cancel(conn->hub->loop, &r->again);
	loop_after_batch_cancel(conn->hub->loop, &r->arm);
	if (r->lazy)
		lazy_disarm(r);
	if (r->offer_wanted)
		LIST_REMOVE(r, wanted_entry);
	if (r->offered) {
		LIST_REMOVE(r, offered_entry);
		r->offered = false;
		ticket_closed(conn);
	}
	if (r->muted)
		LIST_REMOVE(r, muted_entry);
	else
		loop_unwatch(conn->hub->loop, &r->bell);
	if (r->polled)
		polled_remove(r);
	close(r->bell.fd);
	munmap(r->map, r->map_size);
	/* After the batch: an event of the doorbell may be later in it (the
	 * connection closed from an earlier event), and points at @r. */
	loop_bury(conn->hub->loop, r);
	conn->ring = NULL;
	conn->channel = NULL;
}

void conn_ring_arm_lazy(struct conn *conn)
{
	struct conn_ring *r = conn->ring;

	if (!r || r->lazy || r->muted || conn_closing(conn))
		return;
	r->lazy = true;
	LIST_INSERT_HEAD(&conn->hub->lazy_rings, r, lazy_entry);
	__atomic_store_n(&r->hdr->req_lazy, 1, __ATOMIC_SEQ_CST);
	stats(conn)->lazy_armed++;
}

/* A blocking BINDER_WRITE_READ with nothing to write and a read: what a
 * looper sends to wait for work. Checked on the daemon's own copy. */
static bool is_pure_read(const void *packet, size_t len)
{
	struct ubw_write_read h;

	if (len != sizeof(h))
		return false;
	memcpy(&h, packet, sizeof(h));
	return h.hdr.type == UBW_WRITE_READ && h.hdr.error == 0 && h.body_size == 0 &&
	       h.write_len == 0 && h.write_overrun == 0 && h.nfds == 0 && h.nsegments == 0 &&
	       h.write_size <= h.write_consumed && h.read_size > h.read_consumed &&
	       (h.flags & ~(uint32_t)(UBW_WR_HOLD_COMPLETE | UBW_WR_OFFER)) == 0 &&
	       h.ticket_gen == 0;
}

/* Takes @r's lazily posted read, if that is what its next entry is. */
static void lazy_take(struct conn_ring *r)
{
	struct conn *conn = r->conn;
	struct conn_rx rx = { .fds = NULL, .has_sender = true, .sender = conn->cred };
	/* Not hub->rx: the operation this runs before may have its packet there. */
	union {
		struct ubw_write_read h;
		uint8_t bytes[sizeof(struct ubw_write_read)];
	} req;
	ssize_t n;

	lazy_disarm(r);
	if (conn_closing(conn) || conn->out)
		return; /* flush_output or the close drains it */
	n = ubw_ring_get_if(&r->in, req.bytes, sizeof(req), is_pure_read);
	if (n == UBW_RING_EMPTY) {
		stats(conn)->lazy_unposted++;
		return; /* the client sees req_lazy 0 and rings */
	}
	if (n > 0) {
		r->empty_bells = 0;
		stats(conn)->lazy_taken++;
		conn->packets.ring_in++;
		conn_dispatch(conn, req.bytes, (size_t)n, &rx);
	} else {
		stats(conn)->lazy_declined++;
	}
	/* What else is there (or was declined) goes the ordinary way, in order. */
	if (!conn_closing(conn) && conn->ring == r && ubw_ring_pending(&r->in))
		loop_after_batch(conn->hub->loop, &r->again);
}

/* Runs the ticket write of @r, whose ticket the client claimed. */
static void ticket_take(struct conn_ring *r)
{
	struct conn *conn = r->conn;
	struct conn_rx rx = { .fds = NULL, .has_sender = true, .sender = conn->cred };
	uint8_t *buf = conn->hub->ticket_rx;
	ssize_t n = UBW_RING_EMPTY;

	if (r->lazy)
		lazy_disarm(r);
	/* An honest client claims only after it posted the write, and has
	 * read every reply (nothing is queued on the socket). */
	if (!conn_closing(conn) && !conn->out)
		n = ubw_ring_get_if(&r->in, buf, UBW_MAX_MESSAGE, is_ticket_write);
	ticket_claimed_by(r, buf, n, &rx);
	if (n <= 0)
		return; /* nothing taken: the ordinary drain finds what is there */
	r->empty_bells = 0;
	conn->packets.ring_in++;
	conn_dispatch(conn, buf, (size_t)n, &rx);
	if (rx.ticket_taken)
		ticket_done(conn, r, rx.ticket_gen);
	if (!conn_closing(conn) && conn->ring == r && ubw_ring_pending(&r->in))
		loop_after_batch(conn->hub->loop, &r->again);
}

void conn_hub_take_lazy_reads(struct conn_hub *hub)
{
	LIST_HEAD(, conn_ring) claimed = LIST_HEAD_INITIALIZER(claimed);
	struct conn_ring *r;

	if (hub->taking_lazy || (LIST_EMPTY(&hub->lazy_rings) && LIST_EMPTY(&hub->offered_rings)))
		return;
	hub->taking_lazy = true;
	/* First every ticket closes, so that all were decided in the state
	 * they were offered in; then the claimed writes run. */
	while ((r = LIST_FIRST(&hub->offered_rings)) != NULL)
		if (ticket_close(r))
			LIST_INSERT_HEAD(&claimed, r, offered_entry);
	while ((r = LIST_FIRST(&claimed)) != NULL) {
		LIST_REMOVE(r, offered_entry);
		ticket_take(r);
	}
	while ((r = LIST_FIRST(&hub->lazy_rings)) != NULL)
		lazy_take(r);
	hub->taking_lazy = false;
}

void conn_ring_want_offer(struct conn *conn)
{
	struct conn_ring *r = conn->ring;

	if (!r || r->offer_wanted || conn_closing(conn))
		return;
	r->offer_wanted = true;
	LIST_INSERT_HEAD(&conn->hub->offer_wanted, r, wanted_entry);
}

struct conn *conn_hub_next_offer_wanted(struct conn_hub *hub)
{
	struct conn_ring *r = LIST_FIRST(&hub->offer_wanted);

	if (!r)
		return NULL;
	LIST_REMOVE(r, wanted_entry);
	r->offer_wanted = false;
	return r->conn;
}

bool conn_ring_offer(struct conn *conn, uint32_t limit)
{
	struct conn_ring *r = conn->ring;

	if (!r || r->offered || conn_closing(conn))
		return false;
	r->offer_gen = (r->offer_gen + 1) & (UINT32_MAX >> 2);
	r->offered = true;
	LIST_INSERT_HEAD(&conn->hub->offered_rings, r, offered_entry);
	__atomic_store_n(&r->hdr->tc_limit, limit, __ATOMIC_RELAXED);
	__atomic_store_n(&r->hdr->tc_ticket, UBW_TICKET(r->offer_gen, UBW_TICKET_OFFERED),
			 __ATOMIC_SEQ_CST);
	stats(conn)->tickets_offered++;
	return true;
}

static void ring_resume(struct conn *conn)
{
	ring_socket_ready(conn);
	if (!conn_closing(conn))
		ring_drain(conn);
}

static const struct conn_channel ring_channel = {
	.send = ring_send,
	.resume = ring_resume,
	.socket_ready = ring_socket_ready,
	.close = ring_close,
};
