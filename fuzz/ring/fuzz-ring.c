/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the ring decoder (src/wire/ring.c), what the daemon does
 * with the bytes and indices a client writes into its ring. The input is a
 * script of operations by a hostile peer, interleaved with ours: it writes
 * any bytes anywhere in the data area, publishes any index, and we consume
 * (and produce, against its consumer index) between its moves. The data
 * area is allocated to its exact size, so a read or write past it shows up
 * under ASan; every packet returned is read in full; the consumer never
 * takes more bytes than were published, nor the producer more room than
 * the peer's index gives. ubw_ring_get_if (the daemon's lazy take) is driven
 * the same way: it consumes nothing but pads and what it accepts, and never
 * reports a lie (ubw_ring_get finds it).
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

/* Accepts packets whose first byte is even: the decision is made on the copy. */
static bool accept_even(const void *packet, size_t len)
{
	return len > 0 && (*(const uint8_t *)packet & 1) == 0;
}

static uint32_t take32(const uint8_t **p, const uint8_t *end)
{
	uint32_t v = 0;

	for (int i = 0; i < 4 && *p < end; i++)
		v |= (uint32_t) * (*p)++ << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	uint32_t cap, tail, head, start, peer_head, our_tail;
	struct ubw_ring in, out;
	uint8_t *area, *area2;
	static uint8_t buf[UBW_RING_MAX_CAP], src[UBW_RING_MAX_CAP];

	if (size < 9)
		return 0;
	cap = UBW_RING_MIN_CAP << (*p++ % 3); /* 4, 8 or 16 KiB: small rings, deep scripts */
	start = take32(&p, end) & ~7u;
	area = malloc(cap);
	area2 = malloc(cap);
	if (!area || !area2)
		abort();
	memset(area, 0, cap);
	memset(area2, 0, cap);
	tail = head = start;
	/* in: the peer produces into area; out: we produce into area2. */
	in = (struct ubw_ring){ area, cap, start, &head, &tail };
	peer_head = our_tail = start;
	out = (struct ubw_ring){ area2, cap, start, &our_tail, &peer_head };

	while (p < end) {
		uint8_t op = *p++;

		switch (op % 7) {
		case 0: { /* the peer writes bytes at an offset */
			uint32_t off = take32(&p, end) % cap;
			size_t n = (size_t)(end - p) < 16 ? (size_t)(end - p) : 16;

			if (n > cap - off)
				n = cap - off;
			memcpy(area + off, p, n);
			p += n;
			break;
		}
		case 1: /* the peer publishes any tail */
			tail = take32(&p, end);
			break;
		case 2: { /* we consume */
			uint32_t before = in.own, published = tail - before;
			size_t room = op & 0x80 ? sizeof(buf) : (size_t)(op & 0x7f);
			ssize_t n = ubw_ring_get(&in, buf, room);

			if (n > 0) {
				assert((size_t)n <= room && n <= (ssize_t)UBW_RING_MAX_PACKET(cap));
				for (ssize_t i = 0; i < n; i++)
					sink ^= buf[i];
			}
			/* Never past what was published (a lie is refused first). */
			if (published <= cap)
				assert((uint32_t)(in.own - before) <= published);
			assert(head == in.own);
			break;
		}
		case 3: /* the peer writes a length word where the next entry goes */
			memcpy(area + (in.own & (cap - 1)), p, (size_t)(end - p) < 4 ? 0 : 4);
			p += (size_t)(end - p) < 4 ? 0 : 4;
			break;
		case 4: /* the peer publishes any consumer index for our replies */
			peer_head = take32(&p, end);
			break;
		case 6: { /* we take if accepted (the lazy take) */
			uint32_t before = in.own, published = tail - before;
			size_t room = op & 0x80 ? sizeof(buf) : (size_t)(op & 0x7f);
			ssize_t n = ubw_ring_get_if(&in, buf, room, accept_even);

			assert(n != -EPROTO && n != UBW_RING_GOT_MARKER);
			if (n > 0) {
				assert((size_t)n <= room && n <= (ssize_t)UBW_RING_MAX_PACKET(cap));
				assert((buf[0] & 1) == 0);
			}
			if (published <= cap)
				assert((uint32_t)(in.own - before) <= published);
			assert(head == in.own);
			break;
		}
		case 5: { /* we produce a packet or a marker */
			uint32_t len = take32(&p, end) % (cap / 2);
			struct iovec iov = { src, len };
			uint32_t before = out.own;
			int err =
				len ? ubw_ring_put(&out, &iov, 1, len) : ubw_ring_put_marker(&out);

			if (err == 0)
				assert((uint32_t)(out.own - peer_head) <= cap);
			else
				assert(out.own == before);
			assert(our_tail == out.own);
			break;
		}
		}
	}
	free(area);
	free(area2);
	return 0;
}
