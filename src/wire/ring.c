/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "wire/ring.h"

#define ENTRY_HDR	   ((uint32_t)sizeof(struct ubw_ring_entry))
#define ALIGN8(x)	   (((x) + 7u) & ~7u)
/* Room ubw_ring_put leaves for one marker. */
#define MARKER_KEEP	   ENTRY_HDR
/*
 * Free bytes an empty ring must keep after starting over. The pad to the
 * end counts as used until the consumer passes it, so starting over as soon
 * as the new entry fitted before the old offset could leave 8 bytes free:
 * the next packet, put before the consumer woke (a reply, then the read for
 * the next work), went over the socket behind a marker. It did for one call
 * in eight of the /dev/binder emulation's replier.
 */
#define RESTART_SLACK(cap) ((cap) / 4u < 1024u ? (cap) / 4u : 1024u)

_Static_assert(sizeof(struct ubw_ring_entry) == 8, "entries keep packets 8-aligned");

void ubw_ring_views(void *map, uint32_t cap, bool daemon, struct ubw_ring *out, struct ubw_ring *in)
{
	struct ubw_ring_header *h = map;
	uint8_t *req = (uint8_t *)map + UBW_RING_HEADER_SIZE, *rep = req + cap;

	if (daemon) {
		*in = (struct ubw_ring){ req, cap, 0, &h->req_head, &h->req_tail };
		*out = (struct ubw_ring){ rep, cap, 0, &h->rep_tail, &h->rep_head };
	} else {
		/* The daemon's indices start where it left them: 0, in a new ring. */
		*out = (struct ubw_ring){ req, cap, __atomic_load_n(&h->req_tail, __ATOMIC_RELAXED),
					  &h->req_tail, &h->req_head };
		*in = (struct ubw_ring){ rep, cap, __atomic_load_n(&h->rep_head, __ATOMIC_RELAXED),
					 &h->rep_head, &h->rep_tail };
	}
}

static void publish(struct ubw_ring *r)
{
	__atomic_store_n(r->own_shared, r->own, __ATOMIC_RELEASE);
}

static void put_word(struct ubw_ring *r, uint32_t off, uint32_t len)
{
	struct ubw_ring_entry e = { .len = len };

	memcpy(r->data + off, &e, sizeof(e));
}

/* Bytes the consumer has not freed yet, from its index read once; -1 if it lies. */
static int64_t producer_used(const struct ubw_ring *r)
{
	uint32_t used = r->own - __atomic_load_n(r->peer_shared, __ATOMIC_ACQUIRE);

	if (used > r->cap || (used & 7u))
		return -1;
	return used;
}

int ubw_ring_put(struct ubw_ring *r, const struct iovec *iov, int iovcnt, size_t len)
{
	int64_t used = producer_used(r);
	uint32_t off = r->own & (r->cap - 1), entry, skip = 0, at;

	if (used < 0)
		return -EPROTO;
	if (len == 0 || len > UBW_RING_MAX_PACKET(r->cap))
		return -EMSGSIZE;
	entry = ENTRY_HDR + ALIGN8((uint32_t)len);
	if (r->cap - off < entry)
		skip = r->cap - off; /* an entry never wraps */
	else if (used == 0 && off != 0 && off >= entry + MARKER_KEEP + RESTART_SLACK(r->cap))
		skip = r->cap - off; /* empty: start over, so a quiet ring touches few pages */
	if ((uint64_t)skip + entry + MARKER_KEEP > r->cap - (uint64_t)used)
		return -ENOSPC;
	if (skip) {
		put_word(r, off, UBW_RING_PAD);
		r->own += skip;
		off = 0;
	}
	put_word(r, off, (uint32_t)len);
	at = off + ENTRY_HDR;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(r->data + at, iov[i].iov_base, iov[i].iov_len);
		at += (uint32_t)iov[i].iov_len;
	}
	r->own += entry;
	publish(r);
	return 0;
}

int ubw_ring_put_marker(struct ubw_ring *r)
{
	int64_t used = producer_used(r);

	if (used < 0)
		return -EPROTO;
	/* Positions are 8-aligned, so 8 bytes are always left before the end. */
	if (r->cap - (uint64_t)used < ENTRY_HDR)
		return -ENOSPC;
	put_word(r, r->own & (r->cap - 1), UBW_RING_MARKER);
	r->own += ENTRY_HDR;
	publish(r);
	return 0;
}

/*
 * The next entry: a packet copied into @buf (consumed unless @accept declines
 * it), a marker (consumed unless @accept is set), or a lie. With @accept,
 * nothing but pads is consumed unless it accepts, and a lie or a packet too
 * large for @buf is declined rather than reported.
 */
static ssize_t take(struct ubw_ring *r, void *buf, size_t size,
		    bool (*accept)(const void *packet, size_t len))
{
	const ssize_t lie = accept ? UBW_RING_DECLINED : -EPROTO;
	uint32_t tail = __atomic_load_n(r->peer_shared, __ATOMIC_ACQUIRE);

	for (;;) {
		uint32_t avail = tail - r->own, off = r->own & (r->cap - 1), len, entry;

		if (avail == 0)
			return UBW_RING_EMPTY;
		if (avail > r->cap || (avail & 7u))
			return lie;
		/* Each shared word is read once, into a local, and only that is used. */
		len = __atomic_load_n((const uint32_t *)(const void *)(r->data + off),
				      __ATOMIC_RELAXED);
		if (len == UBW_RING_PAD) {
			uint32_t skip = r->cap - off;

			if (skip > avail)
				return lie;
			r->own += skip;
			publish(r);
			continue; /* avail shrank: the loop ends */
		}
		if (len == UBW_RING_MARKER) {
			if (accept)
				return UBW_RING_DECLINED;
			r->own += ENTRY_HDR;
			publish(r);
			return UBW_RING_GOT_MARKER;
		}
		if (len == 0 || len > UBW_RING_MAX_PACKET(r->cap) || len > size)
			return lie;
		entry = ENTRY_HDR + ALIGN8(len);
		if (entry > avail || entry > r->cap - off)
			return lie;
		memcpy(buf, r->data + off + ENTRY_HDR, len);
		if (accept && !accept(buf, len))
			return UBW_RING_DECLINED;
		r->own += entry;
		publish(r);
		return len;
	}
}

ssize_t ubw_ring_get(struct ubw_ring *r, void *buf, size_t size)
{
	return take(r, buf, size, NULL);
}

ssize_t ubw_ring_get_if(struct ubw_ring *r, void *buf, size_t size,
			bool (*accept)(const void *packet, size_t len))
{
	return take(r, buf, size, accept);
}

bool ubw_ring_pending(const struct ubw_ring *r)
{
	return __atomic_load_n(r->peer_shared, __ATOMIC_ACQUIRE) != r->own;
}
