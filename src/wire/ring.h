/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory ring of a thread connection (UBW_RING, docs/protocol.md
 * "The ring"): its layout, and a single-producer single-consumer byte ring
 * that each side drives for one direction. Shared by the daemon and the
 * client side; knows nothing of what the packets mean.
 *
 * The memfd holds a header (the indices and the wake-up words, each on its
 * own cache line) and two data areas of @cap bytes each (a power of two):
 * client -> daemon requests, then daemon -> client replies. The request
 * area starts in the header's page, so a quiet thread's ring (whose
 * entries start over at the beginning of each area) is two pages. An entry is a
 * struct ubw_ring_entry and the packet, padded to 8 bytes; an entry never
 * wraps: a pad entry sends the consumer back to the start of the area. A
 * marker entry says "the next packet is on the socket" (a packet with
 * descriptors, or larger than UBW_RING_MAX_PACKET(cap)), so that order is
 * kept across both channels.
 *
 * Indices are free-running 32-bit byte counts (position = index & (cap - 1)).
 * Each side keeps its own copy of the index it owns and only publishes it;
 * the other side's index is read once per operation and checked (the
 * daemon's peer is hostile): an index more than @cap away from ours, or not
 * 8-aligned, and any entry that does not fit the bytes published, is a lie
 * (-EPROTO). The consumer copies each packet out once, reading every shared
 * word exactly once, before anyone looks at it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The header: the first bytes of the memfd; the request area follows. */
#define UBW_RING_HEADER_SIZE	 256u
#define UBW_RING_MIN_CAP	 4096u
#define UBW_RING_MAX_CAP	 (256u * 1024u) /* its largest packet fits UBW_MAX_MESSAGE */
#define UBW_RING_DEFAULT_CAP	 (64u * 1024u)
/* The largest packet a ring of @cap bytes carries; larger ones go over the socket. */
#define UBW_RING_MAX_PACKET(cap) ((cap) / 2u - 8u)

/* The length words of the two special entries; a packet's is its length. */
#define UBW_RING_PAD	0xffffffffu /* skip to the start of the area */
#define UBW_RING_MARKER 0xfffffffeu /* the next packet is on the socket */

/* Values of ubw_ring_header.rep_sleep (written by the client, swapped to 0 by the daemon). */
#define UBW_RING_AWAKE	     0u /* the client will look at the ring by itself */
#define UBW_RING_FUTEX	     1u /* waits in FUTEX_WAIT on rep_tail: wake it */
#define UBW_RING_SOCKET_WAIT 2u /* waits in recvmsg on the socket: send there */

struct ubw_ring_entry {
	uint32_t len; /* bytes of the packet that follows, or UBW_RING_PAD / _MARKER */
	uint32_t reserved;
};

/* The shared header. Every word is written by one side only, except the two
 * wake-up words, which the waiter sets and the waker swaps back to 0, and
 * the ticket, which both sides move only by compare-and-swap. */
struct ubw_ring_header {
	/* Requests (client -> daemon). */
	_Alignas(64) uint32_t req_tail; /* client */
	_Alignas(64) uint32_t req_head; /* daemon */
	/* 1: the daemon is going back to sleep and wants the doorbell (eventfd)
	 * for the next request; the client that rings swaps it to 0. */
	uint32_t req_bell;
	/* 1: the daemon takes this ring's next request by itself, before its
	 * next driver operation, without the doorbell; the client may then post
	 * a pure read without ringing (docs/protocol.md, "The lazy read").
	 * Written by the daemon only; a hint to the client, never read back. */
	uint32_t req_lazy;
	/*
	 * The completion ticket (docs/protocol.md, "The local completion"):
	 * UBW_TICKET(gen, state). The daemon stores OFFERED(g) (after tc_limit)
	 * before it publishes the reply that delivered a transaction; the
	 * client's compare-and-swap OFFERED(g) -> TAKEN(g) and the daemon's
	 * OFFERED(g) -> CLOSED(g) decide who won; once a claimed write ran, the
	 * daemon stores CLOSED(g) over TAKEN(g) (the client may then reuse
	 * what the write staged). Nothing else writes it.
	 */
	uint32_t tc_ticket;
	uint32_t tc_limit; /* the largest reply data an offer covers, in bytes */
	/* Replies (daemon -> client). rep_tail is also the futex word. */
	_Alignas(64) uint32_t rep_tail; /* daemon */
	_Alignas(64) uint32_t rep_head; /* client */
	uint32_t rep_sleep;		/* UBW_RING_AWAKE, _FUTEX or _SOCKET_WAIT */
};

_Static_assert(sizeof(struct ubw_ring_header) <= UBW_RING_HEADER_SIZE, "header fits");

/* The ticket word: a generation (30 bits, wrapping) and a state. */
#define UBW_TICKET_NONE	       0u
#define UBW_TICKET_OFFERED     1u
#define UBW_TICKET_TAKEN       2u
#define UBW_TICKET_CLOSED      3u
#define UBW_TICKET(gen, state) (((uint32_t)(gen) << 2) | (state))
#define UBW_TICKET_GEN(word)   ((word) >> 2)
#define UBW_TICKET_STATE(word) ((word)&3u)

/* Bytes of the memfd for a ring of @cap bytes per direction: whole pages. */
static inline size_t ubw_ring_map_size(uint32_t cap)
{
	return (UBW_RING_HEADER_SIZE + 2 * (size_t)cap + 4095u) & ~(size_t)4095u;
}

/* A valid capacity: a power of two in [UBW_RING_MIN_CAP, UBW_RING_MAX_CAP]. */
static inline bool ubw_ring_cap_ok(uint64_t cap)
{
	return cap >= UBW_RING_MIN_CAP && cap <= UBW_RING_MAX_CAP && (cap & (cap - 1)) == 0;
}

/*
 * One side's view of one direction. @own is the index this side owns (its
 * private copy: the shared word is only ever written from it); @peer the
 * shared word of the other side, read once per call.
 */
struct ubw_ring {
	uint8_t *data;
	uint32_t cap;
	uint32_t own;
	uint32_t *own_shared;
	const uint32_t *peer_shared;
};

/*
 * The views of both directions for the client (requests produced, replies
 * consumed) or the daemon (the other way round), over the mapping @map of
 * ubw_ring_map_size(@cap) bytes, starting from the indices found there.
 * The daemon starts from 0 (a new memfd); it never trusts what it finds.
 */
void ubw_ring_views(void *map, uint32_t cap, bool daemon, struct ubw_ring *out,
		    struct ubw_ring *in);

/*
 * Producer: appends the packet @iov (@len bytes, at most
 * UBW_RING_MAX_PACKET(cap)) and publishes it (release). -ENOSPC when the
 * consumer has not made room (8 bytes are always kept back for a marker),
 * -EPROTO when its index lies.
 */
int ubw_ring_put(struct ubw_ring *r, const struct iovec *iov, int iovcnt, size_t len);
/* A marker entry, which may use the 8 bytes ubw_ring_put keeps back. */
int ubw_ring_put_marker(struct ubw_ring *r);

/* ubw_ring_get's results besides a packet's length. */
#define UBW_RING_EMPTY	    0
#define UBW_RING_GOT_MARKER (-1000)

/*
 * Consumer: copies the next packet into @buf (room for @size bytes) and
 * frees its room (release). Returns its length (> 0), UBW_RING_EMPTY,
 * UBW_RING_GOT_MARKER (consumed), or -EPROTO when the producer's index or
 * entry lies (an empty packet, one larger than @size or than
 * UBW_RING_MAX_PACKET(cap), an entry past the published bytes or the area's
 * end). After -EPROTO the ring is unusable.
 */
ssize_t ubw_ring_get(struct ubw_ring *r, void *buf, size_t size);

/* ubw_ring_get_if's result for a packet @accept declined (left in the ring). */
#define UBW_RING_DECLINED (-1001)

/*
 * Consumer: as ubw_ring_get, but the packet is copied into @buf and shown to
 * @accept first; only a packet it accepts is consumed (its length returned).
 * Anything else is left where it is, for ubw_ring_get: a declined packet
 * (UBW_RING_DECLINED), a marker, an entry that does not fit @size, and any
 * lie (UBW_RING_DECLINED too: ubw_ring_get will find it). Pad entries on the
 * way are consumed. @buf is the only copy @accept and the caller look at.
 */
ssize_t ubw_ring_get_if(struct ubw_ring *r, void *buf, size_t size,
			bool (*accept)(const void *packet, size_t len));

/* Whether the producer has published bytes we have not consumed (acquire). */
bool ubw_ring_pending(const struct ubw_ring *r);
