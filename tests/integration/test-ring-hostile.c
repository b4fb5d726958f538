/* SPDX-License-Identifier: MIT */
/*
 * Hostile clients of the shared-memory ring (UBW_RING, docs/protocol.md "The
 * ring"): each sets up its ring through the real protocol (ring-client.h),
 * makes one good call through it, then lies in the shared pages. Every case
 * checks that
 *   - the offender loses its thread connection exactly as for a malformed
 *     packet on its socket (or, where the kernel would not mind, nothing
 *     happens to it), and the daemon counts the lie (ring protocol errors);
 *   - a bystander client keeps being served throughout, with a bounded
 *     latency (it calls the echo manager in a loop from its own process);
 *   - afterwards the daemon holds nothing: no process, buffer, transaction,
 *     node, ref or thread, its descriptors back to their baseline and no ring
 *     mapped (echo_assert_clean, /proc/PID/maps).
 * A client that never reads its replies and one that floods its doorbell
 * must not make the daemon block or spin (its CPU time is measured).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"
#include "harness.h"
#include "ring-client.h"
#include "test-check.h"
#include "test-util.h"
#include "wire/packet.h"
#include "wire/wire.h"

#define CAP		   (64u * 1024u)
#define BYSTANDER_MAX_MS   1500 /* slowest call the bystander may see */
#define CHILD_MS	   20000
#define BYSTANDER_PAUSE_US 2000 /* between its calls */

/* --- the bystander ----------------------------------------------------------- */

struct bystander_state {
	atomic_uint calls;
	atomic_uint max_us;
	atomic_uint failed;
	atomic_bool stop;
};

struct bystander {
	struct bystander_state *st; /* shared with the child */
	const char *sock;
	pid_t pid;
};

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

/* Calls the echo manager with 64 bytes until told to stop, timing each call
 * (about 400 calls a second: a few percent of the daemon's CPU). */
static int bystander_main(void *arg)
{
	struct bystander *b = arg;
	uint8_t data[64];
	struct rc c;

	memset(data, 0x42, sizeof(data));
	CHECK(rc_open(&c, b->sock, 1 << 20) == 0);
	while (!atomic_load(&b->st->stop)) {
		struct binder_transaction_data tr;
		struct cmdbuf w = { .len = 0 };
		uint32_t cmd = 0;
		long t0 = now_us(), us;

		cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, sizeof(data), NULL, 0);
		if (rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) != 0 ||
		    rc_wait_for(&c, &cmd, &tr) != 0 || cmd != BR_REPLY ||
		    tr.data_size != sizeof(data) ||
		    memcmp((const void *)(uintptr_t)tr.data.ptr.buffer, data, sizeof(data)) != 0) {
			atomic_fetch_add(&b->st->failed, 1);
			break;
		}
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
		us = now_us() - t0;
		if ((unsigned)us > atomic_load(&b->st->max_us))
			atomic_store(&b->st->max_us, (unsigned)us);
		atomic_fetch_add(&b->st->calls, 1);
		/* Paced, so that the daemon's own CPU time still shows a spin. */
		usleep(BYSTANDER_PAUSE_US);
	}
	rc_close(&c);
	return 0;
}

static void bystander_start(struct bystander *b, const char *sock)
{
	b->st = mmap(NULL, sizeof(*b->st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	assert_true(b->st != MAP_FAILED);
	memset(b->st, 0, sizeof(*b->st));
	b->sock = sock;
	b->pid = spawn(bystander_main, b);
	/* Serving before the offender starts. */
	for (int i = 0; i < 500 && atomic_load(&b->st->calls) < 5; i++)
		usleep(10000);
	assert_true(atomic_load(&b->st->calls) >= 5);
}

/* Requires more calls after the offender is done, then stops it. */
static void bystander_stop(struct bystander *b)
{
	unsigned before = atomic_load(&b->st->calls);

	for (int i = 0; i < 500 && atomic_load(&b->st->calls) < before + 20; i++)
		usleep(10000);
	atomic_store(&b->st->stop, true);
	assert_int_equal(reap(b->pid, 10000), 0);
	print_message("# bystander: %u calls, slowest %u us\n", atomic_load(&b->st->calls),
		      atomic_load(&b->st->max_us));
	assert_int_equal(atomic_load(&b->st->failed), 0);
	assert_true(atomic_load(&b->st->calls) >= before + 20);
	assert_true(atomic_load(&b->st->max_us) < BYSTANDER_MAX_MS * 1000u);
	munmap(b->st, sizeof(*b->st));
}

/* --- a scenario: daemon, echo manager, bystander ----------------------------- */

struct scene {
	struct ubd d;
	struct echo_manager m;
	struct bystander by;
	int fds;
	long lies;
};

static void scene_start(struct scene *sc)
{
	assert_int_equal(ubd_start(&sc->d, NULL), 0);
	sc->fds = ubd_settled_fds(&sc->d);
	sc->lies = ubd_stat(&sc->d, "ring protocol errors");
	assert_true(sc->lies == 0);
	echo_start(&sc->m, sc->d.sock);
	bystander_start(&sc->by, sc->d.sock);
}

/* The bystander was served, @lies ring lies were counted, nothing is left. */
static void scene_finish(struct scene *sc, long lies)
{
	bystander_stop(&sc->by);
	echo_stop(&sc->m, sc->d.sock);
	assert_int_equal(ubd_stat(&sc->d, "ring protocol errors"), lies);
	echo_assert_clean(&sc->d, sc->fds);
	assert_int_equal(ring_mappings(sc->d.pid), 0);
	assert_int_equal(ubd_stop(&sc->d), 0);
}

/* --- the offender -------------------------------------------------------------- */

/* What an offender child does once its ring works. */
typedef int (*lie_fn)(struct ring_client *h, void *arg);

struct offender {
	const char *sock;
	lie_fn lie;
	void *arg;
	bool keep_memfd;
};

static const uint8_t pattern[] = "the bytes a good call carries through the ring";

/* One good call through the ring: the echo comes back. */
static int good_call(struct ring_client *h)
{
	uint8_t echo[sizeof(pattern)];

	memset(echo, 0, sizeof(echo));
	CHECK(ring_client_call(h, 1, pattern, sizeof(pattern), echo, sizeof(echo), 5000) ==
	      BR_REPLY);
	CHECK(memcmp(echo, pattern, sizeof(pattern)) == 0);
	return 0;
}

static int offender_main(void *arg)
{
	struct offender *o = arg;
	struct ring_client h;
	uint32_t head0;
	int err;

	/* Our own ring, set up by hand: the transport must not set up one. */
	setenv("UBINDER_TRANSPORT", "socket", 1);
	err = ring_client_open(&h, o->sock, CAP, o->keep_memfd);
	if (err) {
		fprintf(stderr, "ring_client_open: %s\n", strerror(-err));
		return 1;
	}
	head0 = __atomic_load_n(&h.hdr->req_head, __ATOMIC_ACQUIRE);
	CHECK(good_call(&h) == 0);
	/* The call went through the ring: the daemon consumed our entries. */
	CHECK(__atomic_load_n(&h.hdr->req_head, __ATOMIC_ACQUIRE) != head0);
	err = o->lie(&h, o->arg);
	ring_client_close(&h);
	return err;
}

/* Runs @lie in an offender against the scene's daemon, which must count @lies. */
static void offend(struct scene *sc, lie_fn lie, void *arg, bool keep_memfd, long lies)
{
	struct offender o = { sc->d.sock, lie, arg, keep_memfd };

	scene_start(sc);
	assert_int_equal(test_run_child(offender_main, &o, CHILD_MS), 0);
	scene_finish(sc, lies);
}

/* Writes an entry header {@len} at our producer position, @payload after it. */
static void raw_entry(struct ring_client *h, uint32_t len, const void *payload, size_t n)
{
	uint8_t *at = h->req.data + (h->req.own & (h->cap - 1));
	struct ubw_ring_entry e = { .len = len };

	memcpy(at, &e, sizeof(e));
	if (n)
		memcpy(at + sizeof(e), payload, n);
}

/* --- lies about the index ------------------------------------------------------ */

static int lie_tail(struct ring_client *h, void *arg)
{
	uint32_t tail = h->req.own + (uint32_t)(intptr_t)arg;

	ring_client_publish(h, tail, true);
	CHECK(ring_client_dropped(h, 5000));
	return 0;
}

static void index_beyond_the_ring(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, lie_tail, (void *)(intptr_t)(CAP + 8), false, 1);
}

static void index_moving_backwards(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, lie_tail, (void *)(intptr_t)-8, false, 1);
}

static void index_unaligned(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, lie_tail, (void *)(intptr_t)4, false, 1);
}

/* --- lies about an entry ------------------------------------------------------- */

struct entry_lie {
	uint32_t len;	/* the entry's length word */
	uint32_t tail;	/* bytes published past our position */
	size_t payload; /* bytes of garbage written after the header */
};

static int lie_entry(struct ring_client *h, void *arg)
{
	const struct entry_lie *l = arg;
	static uint8_t garbage[CAP];

	memset(garbage, 0xa5, sizeof(garbage));
	raw_entry(h, l->len, garbage, l->payload);
	ring_client_publish(h, h->req.own + l->tail, true);
	CHECK(ring_client_dropped(h, 5000));
	return 0;
}

static void entry_length_zero(void **state)
{
	struct entry_lie l = { .len = 0, .tail = 8 };
	struct scene sc;

	(void)state;
	offend(&sc, lie_entry, &l, false, 1);
}

static void entry_length_unaligned(void **state)
{
	/* 13 bytes published as 13, not padded to 16: the next entry would be unaligned. */
	struct entry_lie l = { .len = 13, .tail = 8 + 13, .payload = 13 };
	struct scene sc;

	(void)state;
	offend(&sc, lie_entry, &l, false, 1);
}

static void entry_past_the_published_bytes(void **state)
{
	struct entry_lie l = { .len = 64, .tail = 8 + 32, .payload = 32 };
	struct scene sc;

	(void)state;
	offend(&sc, lie_entry, &l, false, 1);
}

static void entry_past_the_end_of_the_area(void **state)
{
	/* As long as the whole area: wherever it starts, it ends past the area. */
	struct entry_lie l = { .len = CAP - 8, .tail = CAP };
	struct scene sc;

	(void)state;
	offend(&sc, lie_entry, &l, false, 1);
}

static void entry_larger_than_the_ring(void **state)
{
	struct entry_lie l = { .len = 2 * CAP, .tail = CAP };
	struct scene sc;

	(void)state;
	offend(&sc, lie_entry, &l, false, 1);
}

static void marker_without_a_socket_packet(void **state)
{
	struct entry_lie l = { .len = UBW_RING_MARKER, .tail = 8 };
	struct scene sc;

	(void)state;
	offend(&sc, lie_entry, &l, false, 1);
}

/* A well-formed entry holding a packet the daemon cannot take: the
 * connection goes (and it is no ring lie), as for the same bytes sent on the
 * socket of a connection without a ring (garbage_on_the_socket). */
static const uint8_t garbage24[24] = { 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
				       0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
				       0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5 };

static int garbage_packet(struct ring_client *h, void *arg)
{
	(void)arg;
	CHECK(ring_client_send(h, garbage24, sizeof(garbage24)) == 0);
	CHECK(ring_client_dropped(h, 5000));
	return 0;
}

static int garbage_on_the_socket(void *arg)
{
	struct iovec iov = { (void *)garbage24, sizeof(garbage24) };
	struct pollfd p;
	uint8_t buf[256];
	struct rc c;

	setenv("UBINDER_TRANSPORT", "socket", 1);
	CHECK(rc_open(&c, arg, 1 << 20) == 0);
	CHECK(ubw_send_packet(c.t.sock, &iov, 1, NULL, 0, MSG_NOSIGNAL) ==
	      (ssize_t)sizeof(garbage24));
	p = (struct pollfd){ c.t.sock, POLLIN, 0 };
	CHECK(poll(&p, 1, 5000) == 1);
	CHECK(recv(c.t.sock, buf, sizeof(buf), MSG_DONTWAIT) == 0);
	rc_close(&c);
	return 0;
}

static void garbage_packet_in_a_good_entry(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, garbage_packet, NULL, false, 0);
	/* The control: the same bytes on a socket-only connection, the same end. */
	scene_start(&sc);
	assert_int_equal(test_run_child(garbage_on_the_socket, sc.d.sock, CHILD_MS), 0);
	scene_finish(&sc, 0);
}

/* --- a client that does not read, one that rings for nothing -------------------- */

struct cpu_probe {
	pid_t daemon;
	long daemon_ms; /* the daemon's CPU during the measured second */
};

/* The daemon's CPU in a second it has nothing to do, in ms: less than this. */
static long idle_cpu_ms(void)
{
	const char *v = getenv("UBINDER_IDLE_CPU_MS");

	return v && atol(v) > 0 ? atol(v) : 100;
}

/* Sends requests whose replies it never reads, until the daemon stops
 * taking them (or drops us); then idles a second while the daemon's CPU
 * time is measured. */
static int never_reads(struct ring_client *h, void *arg)
{
	struct cpu_probe *probe = arg;
	uint8_t pkt[256];
	long len = ring_client_build_bwr(pkt, sizeof(pkt), NULL, 0, NULL, 0, 0, true);
	long t0 = now_us(), c0;
	unsigned sent = 0, full = 0;

	CHECK(len > 0);
	/* Until the request ring stays full for 200 ms: the daemon stopped reading it. */
	while (now_us() - t0 < 10 * 1000000L && full < 200) {
		int err = ring_client_send(h, pkt, (size_t)len);

		if (err == -ENOSPC) {
			full++;
			usleep(1000);
			continue;
		}
		CHECK(err == 0);
		full = 0;
		sent++;
	}
	CHECK(full >= 200);
	c0 = proc_cpu_ms(probe->daemon);
	usleep(1000 * 1000);
	probe->daemon_ms = proc_cpu_ms(probe->daemon) - c0;
	fprintf(stderr, "# never_reads: %u requests sent; daemon CPU %ld ms in 1 s after\n", sent,
		probe->daemon_ms);
	/* Neither blocked nor spinning: a tenth of the second at most
	 * (UBINDER_IDLE_CPU_MS in sanitized builds). */
	CHECK(probe->daemon_ms >= 0 && probe->daemon_ms < idle_cpu_ms());
	return 0;
}

static void replies_never_read(void **state)
{
	struct scene sc;
	struct cpu_probe probe = { 0 };
	struct offender o = { NULL, never_reads, &probe, false };

	(void)state;
	scene_start(&sc);
	probe.daemon = sc.d.pid;
	o.sock = sc.d.sock;
	assert_int_equal(test_run_child(offender_main, &o, CHILD_MS), 0);
	/* Dropped ("ring full: replies not read") or left waiting: that is the offender's. */
	scene_finish(&sc, ubd_stat(&sc.d, "ring protocol errors"));
}

static int doorbell_flood(struct ring_client *h, void *arg)
{
	struct cpu_probe *probe = arg;
	uint64_t one = 1;
	long t0 = now_us(), c0 = proc_cpu_ms(probe->daemon), mine0 = proc_cpu_ms(getpid()), mine;
	unsigned rings = 0;

	while (now_us() - t0 < 1000000L) {
		CHECK(write(h->bell, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN);
		rings++;
	}
	probe->daemon_ms = proc_cpu_ms(probe->daemon) - c0;
	mine = proc_cpu_ms(getpid()) - mine0;
	fprintf(stderr, "# doorbell_flood: %u rings in 1 s; daemon CPU %ld ms, ours %ld ms\n",
		rings, probe->daemon_ms, mine);
	/* The doorbell is muted after a few empty rings (conn_ring.c): the
	 * flood costs the daemon less than half of what it costs us (unmuted,
	 * each ring would cost it a wakeup and a read, more than our write).
	 * No finer ratio: CPU times come in scheduler ticks, and under load
	 * the daemon's share of them varies several-fold. */
	CHECK(probe->daemon_ms >= 0 && probe->daemon_ms * 2 < mine);
	/* Ringing for nothing is no lie: the ring still works, the muted
	 * doorbell's pending entries are taken by the unmute timer. */
	CHECK(!ring_client_dropped(h, 100));
	CHECK(good_call(h) == 0);
	return 0;
}

static void doorbell_flood_without_entries(void **state)
{
	struct scene sc;
	struct cpu_probe probe = { 0 };
	struct offender o = { NULL, doorbell_flood, &probe, false };

	(void)state;
	scene_start(&sc);
	probe.daemon = sc.d.pid;
	o.sock = sc.d.sock;
	assert_int_equal(test_run_child(offender_main, &o, CHILD_MS), 0);
	/* Counted in the hub's totals (and the process's: ubinderctl proc). */
	assert_true(ubd_stat(&sc.d, "ring doorbells muted (empty rings)") >= 1);
	scene_finish(&sc, 0);
}

/* --- the entry changes after the doorbell ----------------------------------------- */

static const uint8_t fill_a = 0x41, fill_b = 0x42;

/*
 * A call whose payload travels in the entry; once the daemon has answered its
 * first read (BR_TRANSACTION_COMPLETE: it took the entry), the whole request
 * area and our own copy of the payload are rewritten. The echo must carry
 * the bytes of the moment the daemon took them.
 */
static int rewrite_after_ringing(struct ring_client *h, void *arg)
{
	static uint8_t pkt[8192], data[1024], echo[1024], rd[512];
	struct binder_transaction_data tr = { .code = 1, .data_size = sizeof(data) };
	uint8_t cmds[sizeof(uint32_t) + sizeof(tr)];
	uint32_t bc = BC_TRANSACTION;
	size_t rlen = 0;
	bool replied = false;
	long len;

	(void)arg;
	memset(data, fill_a, sizeof(data));
	tr.data.ptr.buffer = (binder_uintptr_t)(uintptr_t)data;
	memcpy(cmds, &bc, sizeof(bc));
	memcpy(cmds + sizeof(bc), &tr, sizeof(tr));
	len = ring_client_build_bwr(pkt, sizeof(pkt), cmds, sizeof(cmds), data, sizeof(data),
				    sizeof(rd), false);
	CHECK(len > 0);
	CHECK(ring_client_bwr(h, pkt, (size_t)len, rd, sizeof(rd), &rlen, 5000) == 0);
	/* Everything the daemon could still look at, rewritten. */
	memset(h->req.data, fill_b, h->cap);
	memset(data, fill_b, sizeof(data));
	for (int i = 0; i < 8 && !replied; i++) {
		for (size_t off = 0; off + 4 <= rlen; off += 4) {
			uint32_t cmd;

			memcpy(&cmd, rd + off, sizeof(cmd));
			if (cmd == BR_REPLY && off + 4 + sizeof(tr) <= rlen) {
				memcpy(&tr, rd + off + 4, sizeof(tr));
				replied = true;
				break;
			}
			off += _IOC_SIZE(cmd);
		}
		if (replied)
			break;
		len = ring_client_build_bwr(pkt, sizeof(pkt), NULL, 0, NULL, 0, sizeof(rd), false);
		CHECK(ring_client_bwr(h, pkt, (size_t)len, rd, sizeof(rd), &rlen, 5000) == 0);
	}
	CHECK(replied);
	CHECK(tr.data_size == sizeof(data));
	memcpy(echo, (const void *)(uintptr_t)tr.data.ptr.buffer, sizeof(echo));
	for (size_t i = 0; i < sizeof(echo); i++)
		CHECK(echo[i] == fill_a);
	return 0;
}

static void entry_rewritten_after_ringing(void **state)
{
	struct scene sc;

	(void)state;
	/* Our rewrite of the area also clobbered the free room: no lie follows. */
	offend(&sc, rewrite_after_ringing, NULL, false, 0);
}

/*
 * A thread scribbles on the request area's free room while calls go through
 * the ring: everything from 2 KiB past our producer index to 2 KiB before it
 * again (the entries of a synchronous call in flight take a few hundred
 * bytes). The daemon reads only bytes we published: every call is served,
 * its echo intact.
 */
struct scribbler {
	struct ring_client *h;
	atomic_bool stop;
	atomic_uint rounds;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint32_t mask = s->h->cap - 1;
	uint8_t v = 0;

	while (!atomic_load(&s->stop)) {
		uint32_t own = __atomic_load_n(&s->h->req.own, __ATOMIC_ACQUIRE);

		for (uint32_t off = 2048; off < s->h->cap - 2048; off += 8)
			__atomic_store_n(&s->h->req.data[(own + off) & mask], v, __ATOMIC_RELAXED);
		v++;
		atomic_fetch_add(&s->rounds, 1);
	}
	return NULL;
}

/* Waits (up to 5 s, yielding) until @s has finished more than @past rounds. */
static bool scribbled_past(struct scribbler *s, unsigned past)
{
	for (int i = 0; i < 5000 && atomic_load(&s->rounds) <= past; i++)
		poll(NULL, 0, 1);
	return atomic_load(&s->rounds) > past;
}

/* One echo call through the ring, its echo intact. */
static bool echoed(struct ring_client *h)
{
	uint8_t echo[sizeof(pattern)];

	memset(echo, 0, sizeof(echo));
	return ring_client_call(h, 1, pattern, sizeof(pattern), echo, sizeof(echo), 5000) ==
		       BR_REPLY &&
	       memcmp(echo, pattern, sizeof(pattern)) == 0;
}

/*
 * The calls and the scribbles overlap whatever the scheduler does: the
 * calls start once the scribbler has finished a round, and go on (beyond
 * the first 200) until it has finished two more, so that at least one
 * whole round ran while calls were in flight.
 */
static int race_the_daemon(struct ring_client *h, void *arg)
{
	struct scribbler s = { .h = h };
	pthread_t th;
	unsigned calls = 0, ok = 0, started;
	bool overlapped;

	(void)arg;
	CHECK(pthread_create(&th, NULL, scribble, &s) == 0);
	overlapped = scribbled_past(&s, 0);
	started = atomic_load(&s.rounds);
	while (overlapped && (calls < 200 || atomic_load(&s.rounds) < started + 2) &&
	       calls < 100000) {
		calls++;
		if (!echoed(h))
			break;
		ok++;
		if (calls % 50 == 0)
			sched_yield();
	}
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	fprintf(stderr, "# race_the_daemon: %u of %u calls served, %u scribbles (%u before)\n", ok,
		calls, atomic_load(&s.rounds), started);
	CHECK(overlapped);
	CHECK(calls >= 200 && ok == calls);
	CHECK(atomic_load(&s.rounds) >= started + 2);
	return 0;
}

static void free_room_scribbled_while_calling(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, race_the_daemon, NULL, false, 0);
}

/* --- the memfd, a forked child, an exiting thread --------------------------------- */

static int resize_the_memfd(struct ring_client *h, void *arg)
{
	int seals;

	(void)arg;
	CHECK(h->memfd >= 0);
	seals = fcntl(h->memfd, F_GET_SEALS);
	CHECK(seals >= 0);
	CHECK((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
	      (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	/* Shrinking would SIGBUS the daemon's mapping: refused. */
	CHECK(ftruncate(h->memfd, 0) < 0 && errno == EPERM);
	CHECK(ftruncate(h->memfd, (off_t)h->map_size / 2) < 0 && errno == EPERM);
	CHECK(ftruncate(h->memfd, (off_t)h->map_size * 2) < 0 && errno == EPERM);
	/* Nor can the seals be changed. */
	CHECK(fcntl(h->memfd, F_ADD_SEALS, F_SEAL_WRITE) < 0 && errno == EPERM);
	/* The ring still works. */
	CHECK(good_call(h) == 0);
	/* Punching the pages out reads as zeros, never a fault: the daemon sees
	 * its indices go back to 0 (a lie), or nothing to do. */
	CHECK(fallocate(h->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			(off_t)h->map_size) == 0);
	ring_client_publish(h, 0, true);
	(void)ring_client_dropped(h, 1000);
	return 0;
}

static void memfd_cannot_be_resized(void **state)
{
	struct scene sc;
	struct offender o = { NULL, resize_the_memfd, NULL, true };

	(void)state;
	scene_start(&sc);
	o.sock = sc.d.sock;
	assert_int_equal(test_run_child(offender_main, &o, CHILD_MS), 0);
	scene_finish(&sc, ubd_stat(&sc.d, "ring protocol errors"));
}

/* The real transport's ring (UBINDER_TRANSPORT unset): a forked child has no
 * mapping of it (MADV_DONTFORK), and gets a ring of its own. */
static int forked_child(void *arg)
{
	const char *sock = arg;
	struct rc c;

	CHECK(ring_mappings(getpid()) == 0);
	CHECK(rc_open(&c, sock, 1 << 20) == 0);
	CHECK(echo_call(sock, 100, 1, NULL) == BR_REPLY);
	rc_close(&c);
	return 0;
}

static int ring_parent(void *arg)
{
	const char *sock = arg;
	struct rc c;
	uint8_t data[64];
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t cmd = 0;

	unsetenv("UBINDER_TRANSPORT");
	memset(data, 7, sizeof(data));
	CHECK(rc_open(&c, sock, 1 << 20) == 0);
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, sizeof(data), NULL, 0);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0 && cmd == BR_REPLY);
	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	/* Our thread's ring is mapped here... */
	CHECK(ring_mappings(getpid()) >= 1);
	/* ...and not in a child, which writes nothing of ours. */
	CHECK(test_run_child(forked_child, arg, 10000) == 0);
	CHECK(ring_mappings(getpid()) >= 1);
	rc_close(&c);
	return 0;
}

static void forked_child_has_no_ring(void **state)
{
	struct scene sc;

	(void)state;
	scene_start(&sc);
	assert_int_equal(test_run_child(ring_parent, sc.d.sock, CHILD_MS), 0);
	scene_finish(&sc, 0);
}

/*
 * The thread hangs up and rings its doorbell while the daemon is stopped, so
 * that one epoll batch holds both events: the hang-up closes the connection
 * and its ring, then the doorbell's event comes (it once called through the
 * freed ring).
 */
struct hangup_arg {
	pid_t daemon;
};

static int hangup_then_ring(struct ring_client *h, void *arg)
{
	struct hangup_arg *a = arg;
	uint64_t one = 1;

	CHECK(kill(a->daemon, SIGSTOP) == 0);
	usleep(20000);
	close(h->c.t.sock);
	h->c.t.sock = -1;
	CHECK(write(h->bell, &one, sizeof(one)) == sizeof(one));
	usleep(20000);
	CHECK(kill(a->daemon, SIGCONT) == 0);
	usleep(100000);
	CHECK(kill(a->daemon, 0) == 0);
	return 0;
}

static void doorbell_in_the_batch_of_the_hangup(void **state)
{
	struct scene sc;
	struct hangup_arg a;
	struct offender o = { NULL, hangup_then_ring, &a, false };

	(void)state;
	scene_start(&sc);
	a.daemon = sc.d.pid;
	o.sock = sc.d.sock;
	assert_int_equal(test_run_child(offender_main, &o, CHILD_MS), 0);
	scene_finish(&sc, 0);
}

/* Leaves a call and reads in the ring and goes, reading nothing. */
/* --- lies about the completion ticket ------------------------------------------ */

/*
 * A claim on a ticket the daemon never offered: the word says TAKEN and the
 * request says it takes that generation. The daemon honours only tickets it
 * opened itself, so the request runs as any other and is answered (here a
 * BC_REPLY with nothing to answer: BR_FAILED_REPLY, as the kernel's), and
 * nothing is counted as a local completion.
 */
static int claim_without_an_offer(struct ring_client *h, void *arg)
{
	struct {
		uint32_t cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed)) reply = { BC_REPLY, { .data_size = 0 } };
	uint8_t pkt[512], read[256];
	struct ubw_write_read *wr = (struct ubw_write_read *)pkt;
	size_t read_len = 0;
	long n;

	(void)arg;
	for (uint32_t gen = 0; gen < 4; gen++) {
		__atomic_store_n(&h->hdr->tc_ticket, UBW_TICKET(gen, UBW_TICKET_TAKEN),
				 __ATOMIC_SEQ_CST);
		n = ring_client_build_bwr(pkt, sizeof(pkt), &reply, sizeof(reply), NULL, 0,
					  sizeof(read), false);
		CHECK(n > 0);
		wr->flags |= UBW_WR_TICKET | UBW_WR_OFFER;
		wr->ticket_gen = gen;
		CHECK(ring_client_bwr(h, pkt, (size_t)n, read, sizeof(read), &read_len, 5000) == 0);
		CHECK(read_len >= 8);
		{
			uint32_t br;

			memcpy(&br, read + 4, sizeof(br));
			CHECK(br == BR_FAILED_REPLY);
		}
	}
	/* The same claim written alone (no read) is answered too, and its
	 * BR_FAILED_REPLY waits for the next read, as the kernel's. */
	__atomic_store_n(&h->hdr->tc_ticket, UBW_TICKET(4, UBW_TICKET_TAKEN), __ATOMIC_SEQ_CST);
	n = ring_client_build_bwr(pkt, sizeof(pkt), &reply, sizeof(reply), NULL, 0, 0, false);
	CHECK(n > 0);
	wr->flags |= UBW_WR_TICKET | UBW_WR_OFFER;
	wr->ticket_gen = 4;
	CHECK(ring_client_bwr(h, pkt, (size_t)n, read, sizeof(read), &read_len, 5000) == 0);
	CHECK(read_len == 0);
	n = ring_client_build_bwr(pkt, sizeof(pkt), NULL, 0, NULL, 0, sizeof(read), false);
	CHECK(n > 0 &&
	      ring_client_bwr(h, pkt, (size_t)n, read, sizeof(read), &read_len, 5000) == 0);
	{
		uint32_t br;

		CHECK(read_len >= 8);
		memcpy(&br, read + 4, sizeof(br));
		CHECK(br == BR_FAILED_REPLY);
	}
	return good_call(h);
}

static void ticket_claimed_without_an_offer(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, claim_without_an_offer, NULL, false, 0);
}

static atomic_bool ticket_scribbler_stop;

/* Scribbles the ticket words while the owner's calls run. */
static void *scribble_ticket(void *arg)
{
	struct ring_client *h = arg;
	uint64_t seed = 12345;

	while (!atomic_load(&ticket_scribbler_stop)) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		__atomic_store_n(&h->hdr->tc_ticket, (uint32_t)(seed >> 32), __ATOMIC_RELAXED);
		__atomic_store_n(&h->hdr->tc_limit, (uint32_t)seed, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int calls_under_a_scribbled_ticket(struct ring_client *h, void *arg)
{
	pthread_t t;
	int err = 0;

	(void)arg;
	atomic_store(&ticket_scribbler_stop, false);
	CHECK(pthread_create(&t, NULL, scribble_ticket, h) == 0);
	for (int i = 0; i < 200 && !err; i++)
		err = good_call(h);
	atomic_store(&ticket_scribbler_stop, true);
	pthread_join(t, NULL);
	return err;
}

static void ticket_word_scribbled_while_calling(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, calls_under_a_scribbled_ticket, NULL, false, 0);
}

/*
 * A claimed ticket whose reply data is neither inline nor in the replier's
 * outbox (this client has none): a ticket covers only bytes the daemon holds
 * itself, so it refuses the claim (ticket writes refused) and runs the write
 * as any other, reading the replier's memory as for any reply, and answers
 * it. The caller then gets what the kernel would give it: BR_FAILED_REPLY
 * for a pointer that cannot be read, its bytes for one that can; the
 * replier gets its BR_TRANSACTION_COMPLETE from the daemon, not locally.
 */
#define CLAIMS	   2
#define CLAIM_SIZE 100

struct claimer {
	const char *sock;
	struct sync ready; /* claimer -> test: it manages the context and reads */
	struct sync done;  /* test -> claimer: the caller has its answer */
};

/* The first @code item of the read's @len bytes at @p, its payload to @tr. */
static bool read_has(const uint8_t *p, size_t len, uint32_t code,
		     struct binder_transaction_data *tr)
{
	for (size_t off = 0; off + sizeof(uint32_t) <= len;) {
		uint32_t cmd;

		memcpy(&cmd, p + off, sizeof(cmd));
		off += sizeof(cmd);
		if (cmd == code && off + _IOC_SIZE(cmd) <= len) {
			if (tr && _IOC_SIZE(cmd) == sizeof(*tr))
				memcpy(tr, p + off, sizeof(*tr));
			return true;
		}
		off += _IOC_SIZE(cmd);
	}
	return false;
}

/* BINDER_SET_CONTEXT_MGR through the ring (the thread's packets go there). */
static int become_manager(struct ring_client *h)
{
	struct {
		struct ubw_ioctl io;
		int32_t arg;
	} req = { .io = { .hdr = { UBW_IOCTL, 0 },
			  .cmd = BINDER_SET_CONTEXT_MGR,
			  .size = sizeof(int32_t) } },
	  rep;

	CHECK(ring_client_send(h, &req, sizeof(req)) == 0);
	CHECK(ring_client_recv(h, &rep, sizeof(rep), 5000) >= (long)sizeof(rep.io));
	CHECK(rep.io.hdr.type == (UBW_IOCTL | UBW_REPLY) && rep.io.hdr.error == 0);
	return 0;
}

/* The claimer's ring thread, the context manager and a looper. */
static int claimer_open(struct ring_client *h, struct claimer *cl)
{
	uint32_t enter = BC_ENTER_LOOPER;
	uint8_t pkt[256], read[64];
	size_t read_len;
	long n;

	setenv("UBINDER_TRANSPORT", "socket", 1);
	CHECK(ring_client_open(h, cl->sock, CAP, false) == 0);
	CHECK(become_manager(h) == 0);
	n = ring_client_build_bwr(pkt, sizeof(pkt), &enter, sizeof(enter), NULL, 0, 0, false);
	CHECK(n > 0 &&
	      ring_client_bwr(h, pkt, (size_t)n, read, sizeof(read), &read_len, 5000) == 0);
	sync_post(&cl->ready, 1);
	return 0;
}

/*
 * Waits for a call of CLAIM_SIZE bytes, asking for an offer: the call into
 * *@tr, its bytes into @echo, the offered ticket word into *@word. With
 * @asleep, also until the daemon asked for the doorbell (it is going to
 * sleep). The offer is stored once the daemon's loop settles, which may be
 * after this client saw the call (it polls the ring).
 */
static int wait_for_offered_call(struct ring_client *h, struct binder_transaction_data *tr,
				 uint8_t *echo, uint32_t *word, bool asleep)
{
	uint8_t pkt[256], read[256];
	struct ubw_write_read *wr = (struct ubw_write_read *)pkt;
	size_t read_len;
	long n = ring_client_build_bwr(pkt, sizeof(pkt), NULL, 0, NULL, 0, sizeof(read), false);

	CHECK(n > 0);
	wr->flags |= UBW_WR_OFFER;
	CHECK(ring_client_bwr(h, pkt, (size_t)n, read, sizeof(read), &read_len, 10000) == 0);
	CHECK(read_has(read, read_len, BR_TRANSACTION, tr));
	CHECK(tr->data_size == CLAIM_SIZE);
	memcpy(echo, (const void *)(uintptr_t)tr->data.ptr.buffer, CLAIM_SIZE);
	for (int spins = 0; spins < 100000; spins++) {
		*word = __atomic_load_n(&h->hdr->tc_ticket, __ATOMIC_ACQUIRE);
		if (UBW_TICKET_STATE(*word) == UBW_TICKET_OFFERED &&
		    (!asleep || __atomic_load_n(&h->hdr->req_bell, __ATOMIC_ACQUIRE)))
			break;
		sched_yield();
	}
	CHECK(UBW_TICKET_STATE(*word) == UBW_TICKET_OFFERED);
	CHECK(!asleep || __atomic_load_n(&h->hdr->req_bell, __ATOMIC_ACQUIRE) == 1);
	return 0;
}

/*
 * A ticket write into @pkt (@size bytes) for generation @gen: frees the
 * call's buffer and replies CLAIM_SIZE bytes at @data, carried inline when
 * @inline_data. Its length, or <= 0.
 */
static long build_claim(void *pkt, size_t size, const struct binder_transaction_data *call,
			uint64_t data, bool inline_data, uint32_t gen)
{
	struct {
		uint32_t free_cmd;
		binder_uintptr_t buffer;
		uint32_t reply_cmd;
		struct binder_transaction_data tr;
	} __attribute__((packed)) cmds;
	struct ubw_write_read *wr = pkt;
	long n;

	cmds.free_cmd = BC_FREE_BUFFER;
	cmds.buffer = call->data.ptr.buffer;
	cmds.reply_cmd = BC_REPLY;
	memset(&cmds.tr, 0, sizeof(cmds.tr));
	cmds.tr.data_size = CLAIM_SIZE;
	cmds.tr.data.ptr.buffer = data;
	n = ring_client_build_bwr(pkt, size, &cmds, sizeof(cmds),
				  inline_data ? (const void *)(uintptr_t)data : NULL,
				  inline_data ? CLAIM_SIZE : 0, 256, false);
	if (n > 0) {
		wr->flags |= UBW_WR_TICKET;
		wr->ticket_gen = gen;
	}
	return n;
}

static int claim_with_data_outside(void *arg)
{
	static uint8_t echo[CLAIM_SIZE];
	struct claimer *cl = arg;
	uint8_t pkt[1024], read[256];
	struct ring_client h;
	size_t read_len;

	CHECK(claimer_open(&h, cl) == 0);
	for (int i = 0; i < CLAIMS; i++) {
		struct binder_transaction_data tr;
		uint32_t word, gen;
		long n;

		CHECK(wait_for_offered_call(&h, &tr, echo, &word, false) == 0);
		gen = UBW_TICKET_GEN(word);
		CHECK(__atomic_compare_exchange_n(&h.hdr->tc_ticket, &word,
						  UBW_TICKET(gen, UBW_TICKET_TAKEN), false,
						  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
		/* The reply: first from an address nothing is mapped at, then from
		 * our own memory; neither carried inline nor in an outbox. */
		n = build_claim(pkt, sizeof(pkt), &tr, i == 0 ? 4096 : (uintptr_t)echo, false, gen);
		CHECK(n > 0);
		CHECK(ring_client_bwr(&h, pkt, (size_t)n, read, sizeof(read), &read_len, 5000) ==
		      0);
		/* As the kernel's: a reply that failed still completes for its
		 * sender; the caller got the failure. */
		CHECK(read_has(read, read_len, BR_TRANSACTION_COMPLETE, NULL));
	}
	ring_client_close(&h);
	return 0;
}

/*
 * A call of CLAIM_SIZE patterned bytes to handle 0, written with its read in
 * one BINDER_WRITE_READ as libbinder does, so that the caller already waits
 * when the call is delivered (an operation of its own would close the
 * offer). Returns the BR_ code that ended it; 0 if a reply's bytes differ
 * or the call could not be made.
 */
static uint32_t call_waiting(const char *sock)
{
	uint8_t data[CLAIM_SIZE], buf[512];
	struct cmdbuf w = { .len = 0 };
	struct binder_transaction_data tr;
	uint64_t rcons = 0;
	uint32_t cmd = 0;
	struct rc c;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	if (rc_open(&c, sock, 1 << 20) != 0)
		return 0;
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, sizeof(data), NULL, 0);
	if (rc_bwr(&c, w.buf, w.len, buf, sizeof(buf), NULL, &rcons) != 0)
		cmd = 0;
	else if (read_has(buf, rcons, BR_REPLY, &tr))
		cmd = BR_REPLY;
	else if (read_has(buf, rcons, BR_FAILED_REPLY, NULL))
		cmd = BR_FAILED_REPLY;
	else if (rc_wait_for(&c, &cmd, &tr) != 0)
		cmd = 0;
	if (cmd == BR_REPLY) {
		if (tr.data_size != sizeof(data) ||
		    memcmp((const void *)(uintptr_t)tr.data.ptr.buffer, data, sizeof(data)) != 0)
			cmd = 0;
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		if (rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) != 0)
			cmd = 0;
	}
	rc_close(&c);
	return cmd;
}

/* call_waiting in a child, so that a caller left waiting fails in bounded
 * time: exits 0 for BR_REPLY with its bytes, 1 for BR_FAILED_REPLY, else 2. */
static int caller_child(void *sock)
{
	uint32_t cmd = call_waiting(sock);

	return cmd == BR_REPLY ? 0 : cmd == BR_FAILED_REPLY ? 1 : 2;
}

/*
 * A daemon, and @claimer in a child as its context manager: the results of
 * the caller_child calls run meanwhile must be @want[0..ncalls), then the
 * stats must show @refused ticket writes refused and @local local
 * completions, none broken, no ring lie, nothing left.
 */
static void claim_scene(int (*claimer)(void *), const int *want, int ncalls, long refused,
			long local)
{
	struct claimer cl;
	struct ubd d;
	pid_t pid;
	int fds;

	assert_int_equal(ubd_start(&d, NULL), 0);
	fds = ubd_settled_fds(&d);
	cl.sock = d.sock;
	sync_init(&cl.ready);
	sync_init(&cl.done);
	pid = spawn(claimer, &cl);
	assert_int_equal(sync_wait(&cl.ready, 10000), 1);
	for (int i = 0; i < ncalls; i++)
		assert_int_equal(test_run_child(caller_child, (void *)d.sock, 10000), want[i]);
	sync_post(&cl.done, 1);
	assert_int_equal(reap(pid, CHILD_MS), 0);
	assert_int_equal(ubd_stat(&d, "ticket writes refused"), refused);
	assert_int_equal(ubd_stat(&d, "local completions"), local);
	assert_int_equal(ubd_stat(&d, "local completions broken"), 0);
	assert_int_equal(ubd_stat(&d, "ring protocol errors"), 0);
	echo_assert_clean(&d, fds);
	assert_int_equal(ubd_stop(&d), 0);
}

static void ticket_claimed_with_data_outside_the_outbox(void **state)
{
	const int want[CLAIMS] = { 1, 0 }; /* BR_FAILED_REPLY, then the bytes */

	(void)state;
	claim_scene(claim_with_data_outside, want, CLAIMS, CLAIMS, 0);
}

/*
 * A claim posted, without the doorbell, by a thread that then hangs up at
 * once (its process lives on): its ioctl returned the reply as done, so the
 * daemon must run that write before the thread's close, though the
 * socket's end is all it is woken for (it is asleep: req_bell set, the ring
 * not polled). The caller gets its reply. A daemon that closes first
 * loses it: the caller waits as for a thread that vanished mid-call, until
 * the process goes (BR_DEAD_REPLY then), so it fails here by the bound.
 */
static int claim_then_hang_up(void *arg)
{
	static uint8_t echo[CLAIM_SIZE];
	struct claimer *cl = arg;
	struct binder_transaction_data tr;
	struct ring_client h;
	uint8_t pkt[1024];
	struct iovec iov;
	uint32_t word, gen;
	long n;

	CHECK(claimer_open(&h, cl) == 0);
	CHECK(wait_for_offered_call(&h, &tr, echo, &word, true) == 0);
	/* It stores the bell, looks at the ring once more, then sleeps: past
	 * that look, only the socket's end wakes it. */
	usleep(50 * 1000);
	gen = UBW_TICKET_GEN(word);
	n = build_claim(pkt, sizeof(pkt), &tr, (uintptr_t)echo, true, gen);
	CHECK(n > 0);
	/* The entry, then the claim, as the transport does; no doorbell. */
	iov = (struct iovec){ pkt, (size_t)n };
	CHECK(ubw_ring_put(&h.req, &iov, 1, (size_t)n) == 0);
	CHECK(__atomic_compare_exchange_n(&h.hdr->tc_ticket, &word,
					  UBW_TICKET(gen, UBW_TICKET_TAKEN), false,
					  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	/* The reply counts as done: the thread hangs up at once; the process
	 * (its session) lives on, as when a pool thread exits. */
	close(h.c.t.sock);
	CHECK(sync_wait(&cl->done, 10000) == 1);
	return 0;
}

static void claimed_reply_then_hang_up(void **state)
{
	const int want[1] = { 0 }; /* the reply's bytes */

	(void)state;
	claim_scene(claim_then_hang_up, want, 1, 0, 1);
}

static int exit_with_requests(struct ring_client *h, void *arg)
{
	static uint8_t pkt[4096];
	struct binder_transaction_data tr = { .code = 1, .data_size = sizeof(pattern) };
	uint8_t cmds[sizeof(uint32_t) + sizeof(tr)];
	uint32_t bc = BC_TRANSACTION;
	long len;

	(void)arg;
	tr.data.ptr.buffer = (binder_uintptr_t)(uintptr_t)pattern;
	memcpy(cmds, &bc, sizeof(bc));
	memcpy(cmds + sizeof(bc), &tr, sizeof(tr));
	len = ring_client_build_bwr(pkt, sizeof(pkt), cmds, sizeof(cmds), pattern, sizeof(pattern),
				    256, false);
	CHECK(len > 0 && ring_client_send(h, pkt, (size_t)len) == 0);
	len = ring_client_build_bwr(pkt, sizeof(pkt), NULL, 0, NULL, 0, 256, false);
	for (int i = 0; i < 3; i++)
		CHECK(ring_client_send(h, pkt, (size_t)len) == 0);
	/* The process exits with all of it queued (ring_client_close, then exit). */
	return 0;
}

static void thread_exits_with_requests_in_its_ring(void **state)
{
	struct scene sc;

	(void)state;
	offend(&sc, exit_with_requests, NULL, false, 0);
}

/* With an argument, only the tests whose names match it (cmocka's filter). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_beyond_the_ring),
		cmocka_unit_test(index_moving_backwards),
		cmocka_unit_test(index_unaligned),
		cmocka_unit_test(entry_length_zero),
		cmocka_unit_test(entry_length_unaligned),
		cmocka_unit_test(entry_past_the_published_bytes),
		cmocka_unit_test(entry_past_the_end_of_the_area),
		cmocka_unit_test(entry_larger_than_the_ring),
		cmocka_unit_test(marker_without_a_socket_packet),
		cmocka_unit_test(garbage_packet_in_a_good_entry),
		cmocka_unit_test(replies_never_read),
		cmocka_unit_test(doorbell_flood_without_entries),
		cmocka_unit_test(entry_rewritten_after_ringing),
		cmocka_unit_test(free_room_scribbled_while_calling),
		cmocka_unit_test(memfd_cannot_be_resized),
		cmocka_unit_test(forked_child_has_no_ring),
		cmocka_unit_test(thread_exits_with_requests_in_its_ring),
		cmocka_unit_test(ticket_claimed_without_an_offer),
		cmocka_unit_test(ticket_word_scribbled_while_calling),
		cmocka_unit_test(ticket_claimed_with_data_outside_the_outbox),
		cmocka_unit_test(claimed_reply_then_hang_up),
		cmocka_unit_test(doorbell_in_the_batch_of_the_hangup),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
