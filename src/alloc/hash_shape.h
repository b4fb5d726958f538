/* SPDX-License-Identifier: MIT */
/*
 * What the allocator's two open-addressing maps (u64_map, offset_map) share:
 * a power-of-two capacity, at most half full, and Fibonacci hashing, which
 * keeps the top log2(capacity) bits of key * 2^64 / phi and so spreads keys
 * that differ in their low bits only.
 */
#pragma once

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define HASH_MIN_CAPACITY 16u

/* The home slot of @key in a table of 2^(64 - @shift) slots. */
static inline size_t hash_home(uint64_t key, unsigned int shift)
{
	return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> shift);
}

/*
 * Makes room for @extra more keys in a table of @capacity slots (0: none yet)
 * that holds @count, at most half full. Returns 0 when there is room already;
 * 1 with a new zeroed table of *new_capacity slots of @slot_size bytes in
 * *table (64 - log2 of its capacity in *shift), into which the caller moves
 * the keys; or -ENOMEM.
 */
static inline int hash_grow(size_t capacity, size_t count, size_t extra, size_t slot_size,
			    void **table, size_t *new_capacity, unsigned int *shift)
{
	size_t want = count + extra, n = capacity ? capacity : HASH_MIN_CAPACITY;
	unsigned int bits = 0;

	if (want < count)
		return -ENOMEM;
	if (capacity && want <= capacity / 2)
		return 0;
	while (want > n / 2) {
		if (n > SIZE_MAX / 4 / slot_size)
			return -ENOMEM;
		n *= 2;
	}
	*table = calloc(n, slot_size);
	if (!*table)
		return -ENOMEM;
	while (((size_t)1 << bits) < n)
		bits++;
	*new_capacity = n;
	*shift = 64 - bits;
	return 1;
}
