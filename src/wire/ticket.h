/* SPDX-License-Identifier: MIT */
/*
 * The local completion (docs/protocol.md, "The local completion"): which
 * BINDER_WRITE_READ may take a completion ticket. Both sides decide it with
 * this one function, each on its own copy of the write buffer: the client
 * before it takes a ticket, the daemon before it honours one.
 *
 * A ticket write is a whole, well-formed command stream of BC_FREE_BUFFERs
 * followed by exactly one BC_REPLY that carries no objects (offsets_size 0)
 * and at most @limit bytes of data. Whatever those commands do, the
 * replier's read then returns [BR_NOOP, BR_TRANSACTION_COMPLETE] when the
 * daemon's offer said so.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/android/binder.h>

#include "wire/wire.h"

/*
 * The read room a ticket needs: the BR_NOOP, then room for the largest item
 * (the kernel's read loop stops short of it), which the completion takes.
 */
#define UBW_TICKET_MIN_READ (4u + sizeof(struct binder_transaction_data_secctx) + 4u)

/*
 * The reply data an offer covers (tc_limit): at least UBW_TICKET_LIMIT (one
 * page of parcel and a little), or as much as the replier's last reply
 * needed, up to UBW_TICKET_MAX_LIMIT (the daemon chooses; the client obeys
 * what the offer says).
 */
#define UBW_TICKET_LIMIT     4096u
#define UBW_TICKET_MAX_LIMIT (256u * 1024u)

/*
 * Whether @w (@len bytes) is a ticket write for @limit; on success the
 * reply's data pointer and size are in *data and *data_size (the caller
 * checks that those bytes are carried inline or staged in the outbox).
 */
bool ubw_ticket_write(const uint8_t *w, size_t len, uint32_t limit, uint64_t *data,
		      uint64_t *data_size);

/*
 * Whether the request header @h may claim a ticket: UBW_WR_TICKET (and
 * perhaps UBW_WR_OFFER) only, the whole write carried (no overrun), no
 * descriptors, a blocking read from the start with UBW_TICKET_MIN_READ
 * bytes of room.
 */
bool ubw_ticket_request(const struct ubw_write_read *h);
