/* SPDX-License-Identifier: MIT */
/*
 * The ring's producer and consumer (wire/ring.c): exhaustive small-ring
 * properties against a model queue (every start position, every length,
 * every consumer lag: wrap, pad, full, empty, markers), and every lie a
 * hostile peer could write into the shared words, with the data area
 * allocated to its exact size so that a read past it is caught (ASan).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire/ring.h"

/* A ring pair over one data area: @p produces, @c consumes. */
struct pair {
	uint8_t *data;
	uint32_t cap;
	uint32_t tail, head; /* the shared words */
	struct ubw_ring p, c;
};

static void pair_init(struct pair *x, uint32_t cap, uint32_t start)
{
	x->data = malloc(cap);
	assert_non_null(x->data);
	memset(x->data, 0xa5, cap);
	x->cap = cap;
	x->tail = x->head = start;
	x->p = (struct ubw_ring){ x->data, cap, start, &x->tail, &x->head };
	x->c = (struct ubw_ring){ x->data, cap, start, &x->head, &x->tail };
}

static void pair_free(struct pair *x)
{
	free(x->data);
}

static int put_bytes(struct pair *x, uint8_t seed, size_t len)
{
	uint8_t buf[UBW_RING_MAX_CAP];
	struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7);
	return ubw_ring_put(&x->p, iov, 2, len);
}

static void expect_packet(struct pair *x, uint8_t seed, size_t len)
{
	uint8_t buf[UBW_RING_MAX_CAP];
	ssize_t n = ubw_ring_get(&x->c, buf, sizeof(buf));

	assert_int_equal(n, (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(buf[i], (uint8_t)(seed + i * 7));
}

/* A model of what is queued: lengths (0 for a marker) and seeds. */
struct model {
	size_t len[256];
	uint8_t seed[256];
	size_t first, n;
};

static void consume_one(struct pair *x, struct model *m)
{
	size_t i = m->first % 256;

	if (m->len[i] == 0)
		assert_int_equal(ubw_ring_get(&x->c, NULL, 0), UBW_RING_GOT_MARKER);
	else
		expect_packet(x, m->seed[i], m->len[i]);
	m->first++;
	m->n--;
}

/*
 * Every start position (wraps of the 32-bit indices included), every packet
 * length, with the consumer lagging by 0 to 3 packets: what goes in comes
 * out, in order; a full ring says -ENOSPC and then still takes a marker.
 */
static void exhaustive_small_ring(void **state)
{
	const uint32_t cap = 128, max = UBW_RING_MAX_PACKET(cap);
	const uint32_t bases[] = { 0, 0x7ffffff8u, 0xffffff80u };

	(void)state;
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		for (uint32_t start = 0; start < cap; start += 8) {
			for (uint32_t len = 1; len <= max; len++) {
				for (int lag = 0; lag < 4; lag++) {
					struct model m = { .first = 0 };
					struct pair x;

					pair_init(&x, cap, bases[b] + start);
					assert_int_equal(ubw_ring_get(&x.c, NULL, 0),
							 UBW_RING_EMPTY);
					for (int round = 0; round < 24; round++) {
						uint32_t l = 1 + (len + (uint32_t)round * 5) % max;
						int err = put_bytes(&x, (uint8_t)round, l);

						if (err == -ENOSPC) {
							assert_true(m.n > 0);
							/* Markers fill the kept room too: then the
							 * producer waits for the consumer. */
							if (ubw_ring_put_marker(&x.p) == -ENOSPC) {
								consume_one(&x, &m);
								assert_int_equal(
									ubw_ring_put_marker(&x.p),
									0);
							}
							m.len[(m.first + m.n) % 256] = 0;
						} else {
							assert_int_equal(err, 0);
							m.len[(m.first + m.n) % 256] = l;
							m.seed[(m.first + m.n) % 256] =
								(uint8_t)round;
						}
						m.n++;
						while (m.n > (size_t)lag)
							consume_one(&x, &m);
						/* Indices never drift apart by more than the area. */
						assert_true(x.tail - x.head <= cap);
					}
					while (m.n)
						consume_one(&x, &m);
					assert_int_equal(ubw_ring_get(&x.c, NULL, 0),
							 UBW_RING_EMPTY);
					assert_false(ubw_ring_pending(&x.c));
					pair_free(&x);
				}
			}
		}
	}
}

/* Too large and empty packets are the producer's own mistake: refused. */
static void producer_refuses_bad_sizes(void **state)
{
	struct pair x;

	(void)state;
	pair_init(&x, 4096, 0);
	assert_int_equal(put_bytes(&x, 1, 0), -EMSGSIZE);
	assert_int_equal(put_bytes(&x, 1, UBW_RING_MAX_PACKET(4096) + 1), -EMSGSIZE);
	assert_int_equal(put_bytes(&x, 1, UBW_RING_MAX_PACKET(4096)), 0);
	expect_packet(&x, 1, UBW_RING_MAX_PACKET(4096));
	pair_free(&x);
}

/* Filling up: data stops 8 bytes short, a marker takes those, then nothing. */
static void full_ring_keeps_room_for_one_marker(void **state)
{
	struct pair x;
	int n = 0;

	(void)state;
	pair_init(&x, 4096, 0);
	while (put_bytes(&x, 2, 8) == 0)
		n++;
	assert_int_equal(n, (4096 - 8) / 16);
	/* The 16 bytes left: two markers, then none. */
	assert_int_equal(ubw_ring_put_marker(&x.p), 0);
	assert_int_equal(put_bytes(&x, 2, 1), -ENOSPC);
	assert_int_equal(ubw_ring_put_marker(&x.p), 0);
	assert_int_equal(ubw_ring_put_marker(&x.p), -ENOSPC);
	assert_int_equal(put_bytes(&x, 2, 8), -ENOSPC);
	for (int i = 0; i < n; i++)
		expect_packet(&x, 2, 8);
	assert_int_equal(ubw_ring_get(&x.c, NULL, 0), UBW_RING_GOT_MARKER);
	assert_int_equal(ubw_ring_get(&x.c, NULL, 0), UBW_RING_GOT_MARKER);
	assert_int_equal(ubw_ring_get(&x.c, NULL, 0), UBW_RING_EMPTY);
	pair_free(&x);
}

/* The consumer's index, as a hostile consumer writes it: the producer sees the lie. */
static void producer_bounds_the_consumers_index(void **state)
{
	struct pair x;

	(void)state;
	for (uint32_t lie = 1; lie < 4096 + 64; lie++) {
		/* Ahead of what was produced: always a lie. */
		pair_init(&x, 4096, 1000 * 8);
		x.head = x.tail + lie;
		assert_int_equal(put_bytes(&x, 3, 8), -EPROTO);
		assert_int_equal(ubw_ring_put_marker(&x.p), -EPROTO);
		pair_free(&x);
		/* Behind: more than the area, or not on an entry boundary. */
		pair_init(&x, 4096, 1000 * 8);
		x.head = x.tail - lie;
		if (lie > 4096 || lie % 8) {
			assert_int_equal(put_bytes(&x, 3, 8), -EPROTO);
			assert_int_equal(ubw_ring_put_marker(&x.p), -EPROTO);
		} else {
			int err = put_bytes(&x, 3, 8);

			assert_true(err == 0 || err == -ENOSPC);
		}
		pair_free(&x);
	}
}

/*
 * Every published tail and every length word at every position of a small
 * ring: the consumer returns a packet that lies wholly inside the published
 * bytes and the area, or -EPROTO, and never reads outside the area.
 */
static void consumer_survives_every_lie(void **state)
{
	const uint32_t cap = 64;
	const uint32_t words[] = { 0,
				   1,
				   7,
				   8,
				   9,
				   16,
				   23,
				   24,
				   25,
				   31,
				   32,
				   40,
				   56,
				   64,
				   65,
				   UBW_RING_PAD,
				   UBW_RING_MARKER,
				   0x80000000u,
				   0xfffffffdu };

	(void)state;
	for (uint32_t own = 0; own < cap; own += 8) {
		for (uint32_t avail = 0; avail <= 2 * cap + 9; avail++) {
			for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
				for (size_t size = 0; size <= 32; size += 16) {
					uint8_t buf[32];
					struct pair x;
					ssize_t n;
					uint32_t before;

					pair_init(&x, cap, own);
					/* The word at every position: pads lead anywhere. */
					for (uint32_t at = 0; at < cap; at += 8)
						memcpy(x.data + at, &words[w], 4);
					x.tail = own + avail;
					before = x.c.own;
					n = ubw_ring_get(&x.c, buf, size);
					if (avail == 0) {
						assert_int_equal(n, UBW_RING_EMPTY);
					} else if (avail > cap || avail % 8) {
						assert_int_equal(n, -EPROTO);
					} else if (n > 0) {
						assert_true((size_t)n <= size);
						assert_true(words[w] == (uint32_t)n);
					} else {
						assert_true(n == -EPROTO ||
							    n == UBW_RING_GOT_MARKER ||
							    n == UBW_RING_EMPTY);
					}
					/* Never consumed more than was published. */
					assert_true(x.c.own - before <= avail);
					assert_int_equal(x.head, x.c.own);
					pair_free(&x);
				}
			}
		}
	}
}

/* A pad in the right place skips to the start; the packet there is read. */
static void pad_then_packet(void **state)
{
	struct pair x;
	uint32_t len = 5;

	(void)state;
	pair_init(&x, 4096, 4096 - 16);
	/* 16 bytes before the end: a 24-byte entry cannot fit, a pad goes there. */
	assert_int_equal(put_bytes(&x, 4, 16), 0);
	assert_int_equal(x.tail, 4096u + 24u);
	expect_packet(&x, 4, 16);
	/* Empty, and far from the start: the next entry starts over. */
	x.p.own = x.c.own = x.tail = x.head = 2048;
	assert_int_equal(put_bytes(&x, 5, len), 0);
	assert_int_equal(x.tail, 4096u + 16u);
	expect_packet(&x, 5, len);
	pair_free(&x);
}

/* An empty ring starts over only with room to spare: the packet that
 * follows before the consumer wakes still fits in the ring. */
static void start_over_keeps_room_for_the_next(void **state)
{
	const uint32_t cap = 64 * 1024, first = 296, second = 72;
	struct pair x;

	(void)state;
	/* Empty, just past where the entry would fit before the offset: a
	 * start over would leave 16 bytes free, too few for the second. */
	pair_init(&x, cap, 8 + first + 16);
	assert_int_equal(put_bytes(&x, 2, first), 0);
	assert_int_equal(x.tail, 2 * (8 + first) + 16);
	assert_int_equal(put_bytes(&x, 3, second), 0);
	expect_packet(&x, 2, first);
	expect_packet(&x, 3, second);
	/* Far enough: it starts over, and the next still fits behind it. */
	x.p.own = x.c.own = x.tail = x.head = 2048;
	assert_int_equal(put_bytes(&x, 4, first), 0);
	assert_int_equal(x.tail, cap + 8 + first);
	assert_int_equal(put_bytes(&x, 5, second), 0);
	expect_packet(&x, 4, first);
	expect_packet(&x, 5, second);
	pair_free(&x);
}

static bool accept_seed_1(const void *packet, size_t len)
{
	return len > 0 && *(const uint8_t *)packet == 1;
}

/* ubw_ring_get_if consumes only what it accepts; a marker, a packet too large
 * for the buffer and a lie are declined and left for ubw_ring_get. */
static void get_if_takes_only_what_it_accepts(void **state)
{
	struct pair x;
	uint8_t buf[64];
	uint32_t at;

	(void)state;
	pair_init(&x, UBW_RING_MIN_CAP, 0);
	assert_int_equal(ubw_ring_get_if(&x.c, buf, sizeof(buf), accept_seed_1), UBW_RING_EMPTY);
	assert_int_equal(put_bytes(&x, 2, 24), 0);
	at = x.c.own;
	assert_int_equal(ubw_ring_get_if(&x.c, buf, sizeof(buf), accept_seed_1), UBW_RING_DECLINED);
	assert_int_equal(x.c.own, at);
	assert_int_equal(x.head, at);
	expect_packet(&x, 2, 24); /* still there for the ordinary consumer */
	assert_int_equal(put_bytes(&x, 1, 100), 0);
	assert_int_equal(ubw_ring_get_if(&x.c, buf, sizeof(buf), accept_seed_1), UBW_RING_DECLINED);
	expect_packet(&x, 1, 100); /* too large for the buffer: declined, not a lie */
	assert_int_equal(put_bytes(&x, 1, 40), 0);
	assert_int_equal(ubw_ring_get_if(&x.c, buf, sizeof(buf), accept_seed_1), 40);
	assert_int_equal(x.head, x.c.own);
	assert_int_equal(ubw_ring_put_marker(&x.p), 0);
	assert_int_equal(ubw_ring_get_if(&x.c, buf, sizeof(buf), accept_seed_1), UBW_RING_DECLINED);
	assert_int_equal(ubw_ring_get(&x.c, buf, sizeof(buf)), UBW_RING_GOT_MARKER);
	/* A lie (an index not 8-aligned) is declined; ubw_ring_get reports it. */
	x.tail = x.c.own + 4;
	assert_int_equal(ubw_ring_get_if(&x.c, buf, sizeof(buf), accept_seed_1), UBW_RING_DECLINED);
	assert_int_equal(ubw_ring_get(&x.c, buf, sizeof(buf)), -EPROTO);
	pair_free(&x);
}

/* The client's and the daemon's views of one mapping are each other's peers. */
static void views_of_one_mapping(void **state)
{
	const uint32_t cap = UBW_RING_MIN_CAP;
	void *map = calloc(1, ubw_ring_map_size(cap));
	struct ubw_ring creq, crep, dreq, drep;
	struct iovec iov = { "ping", 4 };
	char buf[8];

	(void)state;
	assert_non_null(map);
	ubw_ring_views(map, cap, false, &creq, &crep);
	ubw_ring_views(map, cap, true, &drep, &dreq);
	assert_int_equal(ubw_ring_put(&creq, &iov, 1, 4), 0);
	assert_true(ubw_ring_pending(&dreq));
	assert_int_equal(ubw_ring_get(&dreq, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	iov.iov_base = "pong";
	assert_int_equal(ubw_ring_put(&drep, &iov, 1, 4), 0);
	assert_int_equal(ubw_ring_get(&crep, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	assert_false(ubw_ring_cap_ok(0));
	assert_false(ubw_ring_cap_ok(UBW_RING_MIN_CAP / 2));
	assert_false(ubw_ring_cap_ok(UBW_RING_MIN_CAP + 8));
	assert_false(ubw_ring_cap_ok(UBW_RING_MAX_CAP * 2));
	assert_true(ubw_ring_cap_ok(UBW_RING_DEFAULT_CAP));
	free(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exhaustive_small_ring),
		cmocka_unit_test(producer_refuses_bad_sizes),
		cmocka_unit_test(full_ring_keeps_room_for_one_marker),
		cmocka_unit_test(producer_bounds_the_consumers_index),
		cmocka_unit_test(consumer_survives_every_lie),
		cmocka_unit_test(pad_then_packet),
		cmocka_unit_test(start_over_keeps_room_for_the_next),
		cmocka_unit_test(views_of_one_mapping),
		cmocka_unit_test(get_if_takes_only_what_it_accepts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
