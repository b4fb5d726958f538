/* SPDX-License-Identifier: MIT */
/*
 * A reference model of the allocator and a driver that checks the real one
 * against it, operation by operation. Shared by the property test (random
 * bytes from seeds) and the libFuzzer target (fuzz bytes). Tests only.
 *
 * The bytes choose a page size (4K, 16K or 64K), two regions of 1 to 48
 * pages sharing one LRU, then operations: reserve (any sizes, including ones
 * that overflow or exceed the region; sync or async; four pids), partial
 * installs, deliver, user free of real and bogus offsets, release, shrink
 * with release hooks that fail, punching inactive ranges, and process death.
 *
 * The model is deliberately naive: buffers in a sorted array, pages as bytes,
 * the LRU as an array, spam detection by walking buffers. After every
 * operation it requires: the same result code; no overlap and offsets inside
 * the region (a success lands at the start of a free gap large enough);
 * completeness (ENOSPC only when no gap is large enough or the oneway space
 * is short); the exact install range; the page map, the LRU order and every
 * release call equal to the model's; stats and the buffer iterator equal;
 * oneway accounting and spam flags exact; and range_alloc_check() clean.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Returns 0, or -1 with the first discrepancy described in @why. */
int alloc_model_run(const uint8_t *data, size_t size, char *why, size_t why_len);
