/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/spin.h"
#include "transport/channel.h"
#include "wire/ring.h"
#include "wire/wire.h"

/*
 * How long a thread waits for a reply on the futex before it goes to wait
 * on its socket instead. The futex is the fast wake-up; the socket is where
 * a long wait belongs: it costs nothing while idle, and it tells at once
 * when the daemon dies (a futex cannot), so a dead daemon is noticed within
 * this time at most.
 */
#define FUTEX_WAIT_NS (20 * 1000 * 1000L)

struct ubt_ring_chan {
	struct ubw_ring_header *hdr;
	void *map;
	size_t map_size;
	pid_t pid;		 /* the process that mapped it (MADV_DONTFORK) */
	unsigned int fork_gen;	 /* fork_generation when it was mapped */
	struct ubw_ring out, in; /* requests given, replies taken */
	struct spin_policy spin; /* before the futex wait (UBINDER_SPIN) */
};

/*
 * Bumped in every forked child: a ring mapped before is not there (it is
 * MADV_DONTFORK), and a thread connection the child inherited goes on over
 * its socket, where the daemon answers it as another process's (-EPERM).
 */
static unsigned int fork_generation;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void forked(void)
{
	__atomic_add_fetch(&fork_generation, 1, __ATOMIC_RELAXED);
}

static void fork_init(void)
{
	pthread_atfork(NULL, NULL, forked);
}

bool ubt_ring_usable(const struct ubt_thread *t)
{
	return t->ring && t->ring->fork_gen == __atomic_load_n(&fork_generation, __ATOMIC_RELAXED);
}

static bool socket_forced(void)
{
	const char *v = getenv("UBINDER_TRANSPORT");

	return v && strcmp(v, "socket") == 0;
}

int ubt_ring_setup(struct ubt_thread *t, const struct ubt_session *s)
{
	struct ubw_ring_request req = { .hdr = { UBW_RING, 0 }, .cap = UBW_RING_DEFAULT_CAP };
	struct iovec iov = { &req, sizeof(req) };
	struct ubw_ring_reply reply;
	struct ubt_ring_chan *c;
	int fds[UBW_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;
	void *map;
	int err;

	if (!(s->features & UBW_FEATURE_RING) || socket_forced())
		return 0;
	pthread_once(&fork_once, fork_init);
	err = ubt_sock_send(t->sock, &iov, 1, NULL, 0);
	if (err)
		return err;
	n = ubt_sock_recv(t->sys, t->sock, &reply, sizeof(reply), fds, &nfds, false);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(struct ubw_header) || reply.hdr.type != (UBW_RING | UBW_REPLY))
		err = -EPROTO;
	else if (reply.hdr.error)
		err = 1; /* refused: the thread stays on its socket */
	else if ((size_t)n != sizeof(reply) || reply.cap != req.cap)
		err = -EPROTO;
	else if (nfds != 2)
		err = -EMFILE; /* we could not take them (RLIMIT_NOFILE) */
	if (err) {
		for (size_t i = 0; i < nfds; i++)
			t->sys->close(fds[i]);
		return err > 0 ? 0 : err;
	}
	c = calloc(1, sizeof(*c));
	map = c ? t->sys->mmap(NULL, ubw_ring_map_size(req.cap), PROT_READ | PROT_WRITE, MAP_SHARED,
			       fds[0], 0)
		: MAP_FAILED;
	t->sys->close(fds[0]); /* the mapping is all we keep: nobody else gets the ring */
	if (map == MAP_FAILED) {
		free(c);
		t->sys->close(fds[1]);
		return -ENOMEM; /* the daemon expects the ring now */
	}
	/* A forked child gets its own thread connection, and ring, not this one. */
	(void)madvise(map, ubw_ring_map_size(req.cap), MADV_DONTFORK);
	c->map = map;
	c->map_size = ubw_ring_map_size(req.cap);
	c->hdr = map;
	c->pid = getpid();
	c->fork_gen = __atomic_load_n(&fork_generation, __ATOMIC_RELAXED);
	ubw_ring_views(map, req.cap, false, &c->out, &c->in);
	spin_policy_init(&c->spin, spin_env_max_ns());
	t->ring = c;
	t->ring_bell = fds[1];
	return 0;
}

void ubt_ring_teardown(struct ubt_thread *t)
{
	struct ubt_ring_chan *c = t->ring;

	if (!c)
		return;
	/* In a forked child the range is not ours: something else may live there. */
	if (ubt_ring_usable(t) && c->pid == getpid())
		t->sys->munmap(c->map, c->map_size);
	if (t->ring_bell >= 0)
		t->sys->close(t->ring_bell);
	free(c);
	t->ring = NULL;
	t->ring_bell = -1;
}

/* Rings the doorbell if the daemon asked for it (it is going to sleep). */
static void ring_bell(struct ubt_thread *t)
{
	struct ubt_ring_chan *c = t->ring;
	uint64_t one = 1;

	/* Dekker with the daemon's drain: the entry is published, then its word read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->hdr->req_bell, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&c->hdr->req_bell, 0, __ATOMIC_SEQ_CST))
		(void)!write(t->ring_bell, &one, sizeof(one));
}

int ubt_ring_send(struct ubt_thread *t, const struct iovec *iov, int iovcnt, const int *fds,
		  size_t nfds)
{
	struct ubt_ring_chan *c = t->ring;
	size_t len = 0;
	int err = -ENOSPC;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (!nfds && len <= UBW_RING_MAX_PACKET(c->out.cap))
		err = ubw_ring_put(&c->out, iov, iovcnt, len);
	if (err == -ENOSPC) {
		/* The packet goes first, then its marker: the daemon that finds
		 * the marker finds the packet. */
		err = ubt_sock_send(t->sock, iov, iovcnt, fds, nfds);
		if (err)
			return err;
		err = ubw_ring_put_marker(&c->out);
	}
	if (err)
		return -EIO; /* the daemon's index lies, or it stopped reading */
	ring_bell(t);
	return 0;
}

int ubt_ring_send_read(struct ubt_thread *t, const struct iovec *iov, int iovcnt)
{
	struct ubt_ring_chan *c = t->ring;
	size_t len = 0;
	int err;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > UBW_RING_MAX_PACKET(c->out.cap))
		return ubt_ring_send(t, iov, iovcnt, NULL, 0);
	err = ubw_ring_put(&c->out, iov, iovcnt, len);
	if (err == -ENOSPC)
		return ubt_ring_send(t, iov, iovcnt, NULL, 0);
	if (err)
		return -EIO;
	/*
	 * Dekker with the daemon's disarm: the entry is published, then its word
	 * read. Armed, the daemon takes the read before its next driver
	 * operation, the only moments at which anyone could tell whether the
	 * read has begun: no doorbell, and no deadline to ring it later.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->hdr->req_lazy, __ATOMIC_RELAXED))
		return 0;
	ring_bell(t);
	return 0;
}

bool ubt_ring_ticket_offered(const struct ubt_thread *t, uint32_t *gen, uint32_t *limit)
{
	struct ubt_ring_chan *c = t->ring;
	uint32_t word;

	if (!c || !ubt_ring_usable(t))
		return false;
	word = __atomic_load_n(&c->hdr->tc_ticket, __ATOMIC_ACQUIRE);
	if (UBW_TICKET_STATE(word) != UBW_TICKET_OFFERED)
		return false;
	*gen = UBW_TICKET_GEN(word);
	*limit = __atomic_load_n(&c->hdr->tc_limit, __ATOMIC_RELAXED);
	return true;
}

int ubt_ring_ticket_claim(struct ubt_thread *t, const struct iovec *iov, int iovcnt, uint32_t gen)
{
	struct ubt_ring_chan *c = t->ring;
	uint32_t want = UBW_TICKET(gen, UBW_TICKET_OFFERED);
	size_t len = 0;
	bool won;
	int err;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > UBW_RING_MAX_PACKET(c->out.cap))
		return -ENOSPC;
	err = ubw_ring_put(&c->out, iov, iovcnt, len);
	if (err)
		return err == -ENOSPC ? err : -EIO;
	/*
	 * Posted (release), then claimed (seq-cst): a daemon whose CAS fails
	 * on TAKEN finds the write in the ring. The doorbell comes after the
	 * claim, so that the daemon it wakes on this CPU finds the claim made
	 * instead of closing the ticket under us.
	 */
	won = __atomic_compare_exchange_n(&c->hdr->tc_ticket, &want,
					  UBW_TICKET(gen, UBW_TICKET_TAKEN), false,
					  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	ring_bell(t);
	return won ? 1 : 0;
}

bool ubt_ring_ticket_pending(const struct ubt_thread *t, uint32_t gen)
{
	return __atomic_load_n(&t->ring->hdr->tc_ticket, __ATOMIC_ACQUIRE) ==
	       UBW_TICKET(gen, UBW_TICKET_TAKEN);
}

/* A packet on the socket that is not a kick (a kick only says: look at the ring). */
static bool is_kick(const void *buf, ssize_t n)
{
	const struct ubw_header *h = buf;

	return n == (ssize_t)sizeof(*h) && h->type == (UBW_RING_KICK | UBW_REPLY);
}

/* The packet a marker announced: the next one on the socket that is not a kick. */
static ssize_t marked_packet(struct ubt_thread *t, void *buf, size_t size, int *fds, size_t *nfds,
			     bool interruptible)
{
	for (;;) {
		ssize_t n = ubt_sock_recv(t->sys, t->sock, buf, size, fds, nfds, interruptible);

		if (!is_kick(buf, n))
			return n;
	}
}

/*
 * Waits on the futex for a reply (up to FUTEX_WAIT_NS). 0 when there may be
 * one, -EINTR for a handled signal (FUTEX_WAIT with a timeout returns EINTR
 * even under SA_RESTART, as the kernel's binder read), -ETIMEDOUT.
 */
static int futex_wait(struct ubt_ring_chan *c)
{
	struct timespec ts = { 0, FUTEX_WAIT_NS };
	uint32_t tail;
	int err = 0;

	__atomic_store_n(&c->hdr->rep_sleep, UBW_RING_FUTEX, __ATOMIC_SEQ_CST);
	tail = __atomic_load_n(&c->hdr->rep_tail, __ATOMIC_SEQ_CST);
	if (tail == c->in.own &&
	    syscall(SYS_futex, &c->hdr->rep_tail, FUTEX_WAIT, tail, &ts, NULL, 0) < 0)
		err = errno == EAGAIN ? 0 : -errno;
	__atomic_store_n(&c->hdr->rep_sleep, UBW_RING_AWAKE, __ATOMIC_SEQ_CST);
	return err;
}

static bool reply_published(void *arg)
{
	struct ubt_ring_chan *c = arg;

	return ubw_ring_pending(&c->in);
}

ssize_t ubt_ring_recv(struct ubt_thread *t, void *buf, size_t size, int *fds, size_t *nfds,
		      bool interruptible)
{
	struct ubt_ring_chan *c = t->ring;
	bool spun = false, futex_waited = false;

	if (nfds)
		*nfds = 0;
	for (;;) {
		ssize_t n = ubw_ring_get(&c->in, buf, size);
		int err;

		if (n > 0)
			return n;
		if (n == UBW_RING_GOT_MARKER)
			return marked_packet(t, buf, size, fds, nfds, interruptible);
		if (n < 0)
			return -EPROTO;
		/* Once per wait, a bounded spin: a reply that comes within it
		 * costs no wake-up (common/spin.h says when it spins at all). */
		if (!spun) {
			spun = true;
			if (spin_wait(&c->spin, reply_published, c))
				continue;
		}
		if (!futex_waited) {
			err = futex_wait(c);
			if (err == -EINTR && interruptible)
				return -EINTR;
			futex_waited = err == -ETIMEDOUT;
			continue;
		}
		/* A long wait: on the socket, which also reports the daemon's death. */
		__atomic_store_n(&c->hdr->rep_sleep, UBW_RING_SOCKET_WAIT, __ATOMIC_SEQ_CST);
		if (ubw_ring_pending(&c->in)) {
			__atomic_store_n(&c->hdr->rep_sleep, UBW_RING_AWAKE, __ATOMIC_SEQ_CST);
			continue;
		}
		n = ubt_sock_recv(t->sys, t->sock, buf, size, fds, nfds, interruptible);
		__atomic_store_n(&c->hdr->rep_sleep, UBW_RING_AWAKE, __ATOMIC_SEQ_CST);
		if (n < 0 || is_kick(buf, n)) {
			if (n < 0)
				return n;
			continue;
		}
		/* The daemon sent it here because we waited here; its marker, placed
		 * before it, keeps the ring in step. */
		if (ubw_ring_get(&c->in, NULL, 0) != UBW_RING_GOT_MARKER)
			return -EPROTO;
		return n;
	}
}
