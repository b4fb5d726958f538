/* SPDX-License-Identifier: MIT */
/*
 * Decoding of a UBW_WRITE_READ body (wire.h) into its sections, with every
 * length checked against the body. Pure: no allocation, no system calls, so
 * that it can be fuzzed on its own.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/mem_segment.h"
#include "wire/wire.h"

struct ubw_decoded_write_read {
	const uint8_t *write; /* write_len bytes, then write_overrun more */
	size_t write_len;
	size_t write_overrun;
	const int32_t *sender_fds; /* nfds numbers, 4-byte aligned inside the body */
	size_t nfds;
	size_t nsegments;
};

/*
 * Checks the body of @hdr (body_size bytes at @body, 8-byte aligned) that
 * came with @nfds descriptors, and fills @out. Segments are then read with
 * ubw_decode_segments(). Returns 0 or -EPROTO. On success every count is
 * bounded by the body: out->nsegments * sizeof(struct ubw_segment) and
 * out->nfds * sizeof(int32_t) each fit in body_size, so a caller may size
 * memory by them.
 */
int ubw_decode_write_read(const struct ubw_write_read *hdr, const uint8_t *body, size_t nfds,
			  struct ubw_decoded_write_read *out);

/*
 * Fills @segs (room for @max) with the body's segments, whose bytes point
 * into the body. Returns the number
 * of segments, or -EPROTO if the body does not hold hdr->nsegments valid
 * segments or there are more than @max.
 */
int ubw_decode_segments(const struct ubw_write_read *hdr, const uint8_t *body,
			struct mem_segment *segs, size_t max);
