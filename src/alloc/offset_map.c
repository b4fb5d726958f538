/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "alloc/offset_map.h"

void offset_map_init(struct offset_map *m)
{
	*m = (struct offset_map){ .slots = NULL, .used = 0, .dead = 0, .size_log2 = 0 };
}

void offset_map_deinit(struct offset_map *m)
{
	free(m->slots);
	offset_map_init(m);
}

int offset_map_grow(struct offset_map *m, size_t extra)
{
	size_t capacity = offset_map_capacity(m), n;
	uint64_t *old = m->slots;
	unsigned int shift;
	void *table;
	/*
	 * Sized for twice the live keys, so that a rebuild leaves them at most a
	 * quarter of the table and tombstones room to gather: the same size
	 * again when tombstones filled it, twice as large when keys did.
	 */
	int r = m->used > SIZE_MAX / 4 || extra > SIZE_MAX / 4
			? -ENOMEM
			: hash_grow(0, 2 * m->used, 2 * extra, sizeof(*old), &table, &n, &shift);

	if (r < 0)
		return -ENOMEM;
	m->slots = table;
	m->size_log2 = 64 - shift;
	m->used = 0;
	m->dead = 0;
	for (size_t i = 0; i < capacity; i++)
		if (offset_map_slot_value(old[i]))
			offset_map_insert(m, offset_map_slot_key(old[i]),
					  offset_map_slot_value(old[i]));
	free(old);
	return 0;
}
