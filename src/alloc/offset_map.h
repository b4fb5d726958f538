/* SPDX-License-Identifier: MIT */
/*
 * The allocator's map from a buffer's start offset to its record index:
 * open addressing with linear probing and tombstones, at most half full
 * (tombstones included), each slot one 64-bit word holding key and value
 * together.
 *
 * Keys are granule numbers (offset / 8) below 2^33, which covers regions up
 * to 64 GiB; values are record indices from 1 to OFFSET_MAP_VALUE_MAX. A slot
 * is (key << 31) | value, and 0 when empty, so eight slots share a cache line
 * and a lookup that hits reads the value from the slot it compared, without
 * touching the record. A removal leaves a tombstone (no loop, no branch: the
 * backward shift it replaces was a loop of unpredictable length), which an
 * insertion on the same run reuses. Lookups, insertions and removals are O(1)
 * expected; when keys and tombstones fill half the table, it is rebuilt
 * without tombstones, twice as large if the keys alone fill a quarter, O(1)
 * amortised. Rebuilding is the only step that can fail: a separate call
 * (offset_map_reserve) that callers make before they change anything else.
 *
 * The hot operations are inline. Not thread safe. No global state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/hash_shape.h"

#define OFFSET_MAP_VALUE_BITS 31u
#define OFFSET_MAP_VALUE_MAX  ((uint32_t)((UINT64_C(1) << OFFSET_MAP_VALUE_BITS) - 1))
#define OFFSET_MAP_KEY_MAX    ((UINT64_C(1) << (64 - OFFSET_MAP_VALUE_BITS)) - 1)

/* A removed entry in a probe run: key bits all set, value 0 (live values are not 0). */
#define OFFSET_MAP_TOMBSTONE (OFFSET_MAP_KEY_MAX << OFFSET_MAP_VALUE_BITS)

struct offset_map {
	uint64_t *slots;	/* 2^size_log2 of them; NULL until the first reserve */
	size_t used;		/* slots holding a key */
	size_t dead;		/* tombstones; used + dead <= half the slots */
	unsigned int size_log2; /* 0 until the first reserve */
};

void offset_map_init(struct offset_map *m);
void offset_map_deinit(struct offset_map *m);

static inline size_t offset_map_capacity(const struct offset_map *m)
{
	return m->slots ? (size_t)1 << m->size_log2 : 0;
}

/* The slow path of offset_map_reserve(): a larger or a clean table. */
int offset_map_grow(struct offset_map *m, size_t extra);

/* Makes room for @extra more keys. Returns 0, or -ENOMEM with @m unchanged. */
static inline int offset_map_reserve(struct offset_map *m, size_t extra)
{
	if (m->slots && extra <= offset_map_capacity(m) / 2 - m->used - m->dead)
		return 0;
	return offset_map_grow(m, extra);
}

static inline size_t offset_map_home(const struct offset_map *m, uint64_t key)
{
	return hash_home(key, 64 - m->size_log2);
}

static inline uint64_t offset_map_slot_key(uint64_t slot)
{
	return slot >> OFFSET_MAP_VALUE_BITS;
}

static inline uint32_t offset_map_slot_value(uint64_t slot)
{
	return (uint32_t)(slot & OFFSET_MAP_VALUE_MAX);
}

/* The slot holding @key, or false. */
static inline bool offset_map_lookup(const struct offset_map *m, uint64_t key, size_t *slot)
{
	size_t mask = offset_map_capacity(m) - 1;

	if (!m->slots)
		return false;
	for (size_t i = offset_map_home(m, key);; i = (i + 1) & mask) {
		uint64_t s = m->slots[i];

		if (!s)
			return false;
		if (offset_map_slot_key(s) == key && offset_map_slot_value(s)) {
			*slot = i;
			return true;
		}
	}
}

/* The value of @key, or 0. */
static inline uint32_t offset_map_find(const struct offset_map *m, uint64_t key)
{
	size_t i;

	return offset_map_lookup(m, key, &i) ? offset_map_slot_value(m->slots[i]) : 0;
}

/* Adds @key (<= OFFSET_MAP_KEY_MAX), which must be absent, with @value
 * (1 to OFFSET_MAP_VALUE_MAX), in the first empty slot or tombstone of its
 * probe run. Room must be reserved. */
static inline void offset_map_insert(struct offset_map *m, uint64_t key, uint32_t value)
{
	size_t i = offset_map_home(m, key), mask = offset_map_capacity(m) - 1;

	while (offset_map_slot_value(m->slots[i]))
		i = (i + 1) & mask;
	m->dead -= m->slots[i] != 0;
	m->slots[i] = key << OFFSET_MAP_VALUE_BITS | value;
	m->used++;
}

/*
 * Empties slot @hole: a tombstone, so that later entries of the probe run
 * stay reachable, unless the next slot is empty (no run goes through). No
 * loop and no branch.
 */
static inline void offset_map_remove_slot(struct offset_map *m, size_t hole)
{
	size_t mask = offset_map_capacity(m) - 1;
	bool run_goes_on = m->slots[(hole + 1) & mask] != 0;

	m->slots[hole] = run_goes_on ? OFFSET_MAP_TOMBSTONE : 0;
	m->dead += run_goes_on;
	m->used--;
}

/*
 * Removes @key and returns its value, or returns 0 if it was absent. @hint:
 * the slot a lookup of @key found before (any value will do): when it still
 * holds @key, no probing.
 */
static inline uint32_t offset_map_remove(struct offset_map *m, uint64_t key, size_t hint)
{
	size_t i = hint;
	uint32_t value;

	if ((i >= offset_map_capacity(m) || !offset_map_slot_value(m->slots[i]) ||
	     offset_map_slot_key(m->slots[i]) != key) &&
	    !offset_map_lookup(m, key, &i))
		return 0;
	value = offset_map_slot_value(m->slots[i]);
	offset_map_remove_slot(m, i);
	return value;
}
