/* SPDX-License-Identifier: MIT */
/*
 * Encoding of a UBW_WRITE_READ body (wire.h), the inverse of decode.h: the
 * write section, then the descriptor numbers, then the inline segments, each
 * padded with zeros to UBW_ALIGN. Pure: no allocation, no system calls.
 *
 * The client builds a body in place: it reads the write section straight
 * into the start of the body and each segment into a list of its own
 * (ubw_encode_segment), and ubw_encode_write_read() then lays out the rest.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

/* The bytes a segment of @length takes in a body: its header, its bytes and
 * their padding. */
static inline uint64_t ubw_segment_size(uint64_t length)
{
	return sizeof(struct ubw_segment) + UBW_ALIGN_UP(length);
}

/* Writes the header of a segment of @length bytes of our memory at @addr to
 * @dst, and zeroes its padding. Its bytes go to dst + sizeof(struct
 * ubw_segment), before or after. */
void ubw_encode_segment(uint8_t *dst, uint64_t addr, uint64_t length);

/* The sections of a body. */
struct ubw_write_read_body {
	/* The write section: write_len bytes of commands, then write_overrun
	 * bytes that follow them in the caller's memory. */
	uint32_t write_len;
	uint32_t write_overrun;
	const int32_t *fds; /* numbers of the descriptors attached, in order */
	size_t nfds;
	/* nsegments segments, ubw_encode_segment()'s output back to back */
	const uint8_t *segments;
	size_t segments_len;
	uint32_t nsegments;
};

/* Where the descriptor numbers start in the body of @b. */
static inline uint64_t ubw_write_read_fds_offset(const struct ubw_write_read_body *b)
{
	return UBW_ALIGN_UP((uint64_t)b->write_len + b->write_overrun);
}

/* The size of the body of @b. */
static inline uint64_t ubw_write_read_body_size(const struct ubw_write_read_body *b)
{
	return ubw_write_read_fds_offset(b) + UBW_ALIGN_UP((uint64_t)b->nfds * sizeof(int32_t)) +
	       b->segments_len;
}

/*
 * Lays out @b in @body, which has room for ubw_write_read_body_size(@b)
 * bytes and holds the write section already, and fills the fields of @hdr
 * that describe the body (write_len, write_overrun, body_size, nfds,
 * nsegments). ubw_decode_write_read() of the result gives @b back.
 */
void ubw_encode_write_read(struct ubw_write_read *hdr, uint8_t *body,
			   const struct ubw_write_read_body *b);
