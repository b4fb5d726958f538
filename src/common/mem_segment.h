/* SPDX-License-Identifier: MIT */
/*
 * A run of a client's memory that came inline with a request: a copy of
 * [addr, addr + length) of the sender's address space. The wire decoder
 * produces these; the driver core reads transactions from them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct mem_segment {
	uint64_t addr;
	uint64_t length;
	const uint8_t *bytes;
};

/*
 * Makes @segs (@n of them) an index for mem_segments_find(): sorted by
 * address, without the segments that lie inside another (any range inside
 * one of those is inside the other: where two claims about the same bytes
 * differ, the larger one wins). Returns how many segments remain; O(n log n).
 */
size_t mem_segments_index(struct mem_segment *segs, size_t n);

/*
 * The segment holding all of [addr, addr + len), or NULL. Up to
 * MEM_SEGMENTS_SCAN segments are searched one by one, in any order; more
 * must be an index (mem_segments_index), searched in O(log n), so that a
 * request of many segments costs no more per lookup than one of few.
 */
#define MEM_SEGMENTS_SCAN 16
const struct mem_segment *mem_segments_find(const struct mem_segment *segs, size_t n, uint64_t addr,
					    uint64_t len);
