/* SPDX-License-Identifier: MIT */
/*
 * The ring of a thread connection (UBW_RING): the second way a connection's
 * packets travel, beside its socket. The daemon creates the memfd (sealed,
 * so the client cannot shrink it under the daemon's mapping) and the
 * doorbell eventfd, hands both to the client, and from then on takes the
 * connection's packets from the ring, in order with those a marker entry
 * announces on the socket, and sends its replies there (src/wire/ring.h,
 * docs/protocol.md "The ring").
 *
 * Everything in the ring is the client's to scribble on: each entry is
 * copied out once into the daemon's buffer before it is looked at, every
 * index the client writes is read once and bounded, and a lie costs the
 * connection, as a malformed packet does. A client that stops reading its
 * replies fills only its own ring; then replies go over the socket, queued
 * as conn.c queues them.
 *
 * Owns: struct conn_ring (the mapping, the doorbell, the wake-ups to send
 * after the batch), the hub's polled rings and their spin (the loop's
 * poller: the rings just served are polled instead of their doorbells until
 * the loop sleeps), the lazy reads and the completion tickets, and its
 * counters.
 * May call: conn, loop, wire/ring, wire/packet, common/log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "daemon/conn.h"

/*
 * Handles UBW_RING {cap} on @conn: answers it (with the memfd and the
 * doorbell on success) and, from then on, carries the connection's packets
 * through the ring. @enabled: ubinderd --rings.
 */
void conn_ring_open(struct conn *conn, uint32_t cap, uint32_t flags, bool enabled);

/*
 * Makes @hub's loop poll the rings it drained empty instead of waiting for
 * their doorbells, spinning up to @spin_ns (0: never; ubinderd --spin)
 * before it sleeps, and send the futex wake-ups it owes in io_uring
 * batches if @wake_batch and the kernel can (else in pairs). Without it,
 * the hub refuses rings.
 */
void conn_ring_hub_init(struct conn_hub *hub, uint32_t spin_ns, bool wake_batch);

/*
 * The lazy read (docs/protocol.md, "The lazy read"). The thread on @conn
 * just read a completion and its next read would wait: arm its ring, so
 * that the client may post that read without ringing the doorbell. Nothing
 * without a ring.
 */
void conn_ring_arm_lazy(struct conn *conn);

/*
 * Before any operation of the driver. First every open completion ticket
 * closes (the daemon's compare-and-swap against the client's); the ticket
 * writes of those the clients claimed are handed to the driver, each
 * marked in its conn_rx, and the role is told of those that closed
 * unclaimed (ticket_closed). Then every armed ring is disarmed, and a
 * pure read its client posted meanwhile is handed to the driver now, as if
 * it had arrived just before. So the driver never acts while a lazily
 * posted read or a claimed reply waits in a ring, and no ticket outlives
 * the state it was offered in. Anything else found there is left for the
 * ring's ordinary drain, after the batch. Re-entered (from the driver
 * call it makes) it does nothing.
 */
void conn_hub_take_lazy_reads(struct conn_hub *hub);

/*
 * The local completion (docs/protocol.md, "The local completion"). The
 * thread on @conn asked for tickets and its read ended: it may be offered
 * one once the loop settles (conn_hub_next_offer_wanted gives the
 * connections in turn). Nothing without a ring.
 */
void conn_ring_want_offer(struct conn *conn);
struct conn *conn_hub_next_offer_wanted(struct conn_hub *hub);
/*
 * Publishes a ticket of a new generation in @conn's ring for a reply of up
 * to @limit bytes (the role made the promise behind it); it stays open
 * until the ring's next entry or the driver's next operation, whichever
 * comes first. False (no ticket) without a ring, or with one open.
 */
bool conn_ring_offer(struct conn *conn, uint32_t limit);
