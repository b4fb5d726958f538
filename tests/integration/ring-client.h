/* SPDX-License-Identifier: MIT */
/*
 * A raw ring client for the hostile-ring tests: a Binder thread that asks
 * for its ring through the real protocol (UBW_RING on its thread socket,
 * docs/protocol.md "The ring") and then drives the shared pages itself, so
 * that a test can write into them whatever a hostile client could: any
 * index, any entry length, any bytes, at any moment.
 *
 * The well-behaved operations follow the protocol exactly (the entry, then
 * the index, then the doorbell when the daemon asked for it; replies read
 * from the ring or, after a marker, from the socket); the others are the
 * test's to compose from the mapping and rc_ring_publish().
 *
 * Tests only. The process must not have a ring on this thread already: the
 * client is opened with UBINDER_TRANSPORT=socket in the environment.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "wire/ring.h"

struct ring_client {
	struct rc c; /* session, thread (socket), region */
	uint32_t cap;
	void *map;
	size_t map_size;
	struct ubw_ring_header *hdr;
	struct ubw_ring req, rep; /* requests we produce, replies we consume */
	int bell;		  /* the doorbell eventfd */
	int memfd;		  /* the ring's memfd when kept (keep_memfd), else -1 */
};

/*
 * Opens a raw client on @sock and asks for a ring of @cap bytes. The memfd is
 * closed once mapped unless @keep_memfd. The mapping is MADV_DONTFORK, as
 * the transport's. Returns 0 or the daemon's (or a system call's) -errno.
 */
int ring_client_open(struct ring_client *h, const char *sock, uint32_t cap, bool keep_memfd);
void ring_client_close(struct ring_client *h);

/* Publishes @tail as the request ring's producer index, and rings the doorbell
 * if the daemon asked for it (or always, with @force_bell). */
void ring_client_publish(struct ring_client *h, uint32_t tail, bool force_bell);

/* Puts the packet @p (@len bytes) in the request ring and rings: 0 or -errno. */
int ring_client_send(struct ring_client *h, const void *p, size_t len);

/*
 * Waits @timeout_ms at most for the next reply packet, from the ring or
 * (after a marker) from the socket, skipping the daemon's kicks. Returns its
 * length, -ECONNRESET when the daemon closed the thread connection,
 * -ETIMEDOUT, or -EPROTO when the daemon's ring lies.
 */
long ring_client_recv(struct ring_client *h, void *buf, size_t size, int timeout_ms);

/* Whether the daemon closed the thread connection within @timeout_ms. */
bool ring_client_dropped(struct ring_client *h, int timeout_ms);

/*
 * A UBW_WRITE_READ through the ring: @cmds (@cmds_len bytes of BC_*
 * commands), with an inline copy of our memory [@seg, @seg + @seg_len) when
 * @seg_len, and a read of @read_size bytes (UBW_WR_NONBLOCK with @nonblock).
 * Builds the packet in @pkt (room for @pkt_size bytes): its length, or
 * -ENOSPC.
 */
long ring_client_build_bwr(void *pkt, size_t pkt_size, const void *cmds, size_t cmds_len,
			   const void *seg, size_t seg_len, uint64_t read_size, bool nonblock);

/*
 * Sends a packet built by ring_client_build_bwr and waits (@timeout_ms) for
 * its outcome: the reply's error (0 or the ioctl's -errno), or what
 * ring_client_recv failed with; the read's bytes into @read (room for
 * @read_size), their count into *@read_len.
 */
int ring_client_bwr(struct ring_client *h, const void *pkt, size_t len, void *read,
		    size_t read_size, size_t *read_len, int timeout_ms);

/*
 * A call to handle 0 (the echo manager) with @size bytes at @data, carried
 * inline in the ring entry; waits for its BR_REPLY, copies at most
 * @echo_size of its bytes into @echo, frees the buffer. Returns the BR_ code
 * that ended it, 0 on a broken connection or a timeout (@timeout_ms per
 * read).
 */
uint32_t ring_client_call(struct ring_client *h, uint32_t code, const void *data, size_t size,
			  void *echo, size_t echo_size, int timeout_ms);

/* Mappings of ring memfds ("memfd:ubinder-ring") in process @pid. */
int ring_mappings(pid_t pid);
