/* SPDX-License-Identifier: MIT */
/*
 * A run of a client's memory that came inline with a request: a copy of
 * [addr, addr + length) of the sender's address space. The wire decoder
 * produces these; the driver core reads transactions from them.
 */
#pragma once

#include <stdint.h>

struct mem_segment {
	uint64_t addr;
	uint64_t length;
	const uint8_t *bytes;
};
