/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "alloc/u64_map.h"

#define U64_MAP_MIN_CAPACITY 16u

/* Fibonacci hashing: multiplies, keeps the top bits, spreads aligned keys. */
static inline size_t slot_of(const struct u64_map *m, uint64_t key)
{
	return (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> m->shift);
}

void u64_map_init(struct u64_map *m)
{
	*m = (struct u64_map){ .slots = NULL, .mask = 0, .count = 0, .shift = 64 };
}

void u64_map_deinit(struct u64_map *m)
{
	free(m->slots);
	u64_map_init(m);
}

static void place(struct u64_map *m, uint64_t key, void *value)
{
	size_t i = slot_of(m, key);

	while (m->slots[i].value)
		i = (i + 1) & m->mask;
	m->slots[i].key = key;
	m->slots[i].value = value;
}

int u64_map_reserve(struct u64_map *m, size_t extra)
{
	size_t capacity = m->slots ? m->mask + 1 : 0;
	size_t want = m->count + extra;
	size_t new_capacity = capacity ? capacity : U64_MAP_MIN_CAPACITY;
	struct u64_map old = *m;
	unsigned int bits = 0;

	if (want < m->count)
		return -ENOMEM;
	if (m->slots && want <= capacity / 2)
		return 0;
	while (want > new_capacity / 2) {
		if (new_capacity > SIZE_MAX / 4 / sizeof(struct u64_map_slot))
			return -ENOMEM;
		new_capacity *= 2;
	}
	m->slots = calloc(new_capacity, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	while (((size_t)1 << bits) < new_capacity)
		bits++;
	m->mask = new_capacity - 1;
	m->shift = 64 - bits;
	for (size_t i = 0; i < capacity; i++)
		if (old.slots[i].value)
			place(m, old.slots[i].key, old.slots[i].value);
	free(old.slots);
	return 0;
}

void u64_map_insert(struct u64_map *m, uint64_t key, void *value)
{
	place(m, key, value);
	m->count++;
}

static bool lookup(const struct u64_map *m, uint64_t key, size_t *slot)
{
	size_t i;

	if (!m->slots)
		return false;
	for (i = slot_of(m, key); m->slots[i].value; i = (i + 1) & m->mask) {
		if (m->slots[i].key == key) {
			*slot = i;
			return true;
		}
	}
	return false;
}

void *u64_map_find(const struct u64_map *m, uint64_t key)
{
	size_t i;

	return lookup(m, key, &i) ? m->slots[i].value : NULL;
}

void *u64_map_remove(struct u64_map *m, uint64_t key)
{
	size_t hole, i;
	void *value;

	if (!lookup(m, key, &hole))
		return NULL;
	value = m->slots[hole].value;
	m->slots[hole].value = NULL;
	m->count--;
	/*
	 * Backward shift: move later entries of the probe run into the hole when
	 * their home slot does not lie cyclically in (hole, i].
	 */
	for (i = (hole + 1) & m->mask; m->slots[i].value; i = (i + 1) & m->mask) {
		size_t home = slot_of(m, m->slots[i].key);

		if (((i - home) & m->mask) >= ((i - hole) & m->mask)) {
			m->slots[hole] = m->slots[i];
			m->slots[i].value = NULL;
			hole = i;
		}
	}
	return value;
}
