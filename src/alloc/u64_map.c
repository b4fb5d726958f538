/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "alloc/hash_shape.h"
#include "alloc/u64_map.h"

/* Fibonacci hashing: multiplies, keeps the top bits, spreads aligned keys. */
static inline size_t slot_of(const struct u64_map *m, uint64_t key)
{
	return hash_home(key, m->shift);
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
	size_t capacity = m->slots ? m->mask + 1 : 0, new_capacity;
	struct u64_map_slot *old = m->slots;
	void *table;
	int r = hash_grow(capacity, m->count, extra, sizeof(*old), &table, &new_capacity,
			  &m->shift);

	if (r <= 0)
		return r;
	m->slots = table;
	m->mask = new_capacity - 1;
	for (size_t i = 0; i < capacity; i++)
		if (old[i].value)
			place(m, old[i].key, old[i].value);
	free(old);
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
