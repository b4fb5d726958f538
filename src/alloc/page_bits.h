/* SPDX-License-Identifier: MIT */
/*
 * Bitmaps over page indices: one bit a page, 64 pages a word.
 *
 * Pure inline helpers for the allocator's exact page-state maps. Callers own
 * the storage (bits_words(n) words for n pages) and keep every index below n;
 * bits past n in the last word are kept clear so that whole-word scans never
 * see them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BITS_PER_WORD 64u

static inline size_t bits_words(size_t nbits)
{
	return (nbits + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

static inline bool bits_test(const uint64_t *map, size_t i)
{
	return (map[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1u;
}

static inline void bits_set(uint64_t *map, size_t i)
{
	map[i / BITS_PER_WORD] |= (uint64_t)1 << (i % BITS_PER_WORD);
}

static inline void bits_clear(uint64_t *map, size_t i)
{
	map[i / BITS_PER_WORD] &= ~((uint64_t)1 << (i % BITS_PER_WORD));
}

/*
 * Index of the first bit in [from, limit) equal to @value, or @limit if none.
 * Word at a time: O((limit - from) / 64 + 1).
 */
static inline size_t bits_find(const uint64_t *map, size_t from, size_t limit, bool value)
{
	uint64_t flip = value ? 0 : ~(uint64_t)0;
	size_t w;
	uint64_t word;

	if (from >= limit)
		return limit;
	w = from / BITS_PER_WORD;
	word = (map[w] ^ flip) & (~(uint64_t)0 << (from % BITS_PER_WORD));
	for (;;) {
		if (word) {
			size_t i = w * BITS_PER_WORD + (size_t)__builtin_ctzll(word);

			return i < limit ? i : limit;
		}
		if (++w * BITS_PER_WORD >= limit)
			return limit;
		word = map[w] ^ flip;
	}
}

/*
 * Index of the last bit in [from, limit) equal to @value, or @limit if none.
 */
static inline size_t bits_find_last(const uint64_t *map, size_t from, size_t limit, bool value)
{
	uint64_t flip = value ? 0 : ~(uint64_t)0;
	size_t last, w;
	uint64_t word;
	unsigned int top;

	if (from >= limit)
		return limit;
	last = limit - 1;
	w = last / BITS_PER_WORD;
	top = (unsigned int)(last % BITS_PER_WORD);
	word = (map[w] ^ flip) & (~(uint64_t)0 >> (BITS_PER_WORD - 1 - top));
	for (;;) {
		if (word) {
			size_t i = w * BITS_PER_WORD + 63u - (size_t)__builtin_clzll(word);

			return i >= from ? i : limit;
		}
		if (w == 0 || w * BITS_PER_WORD <= from)
			return limit;
		word = map[--w] ^ flip;
	}
}
