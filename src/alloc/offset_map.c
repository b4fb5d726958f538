/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "alloc/offset_map.h"

void offset_map_init(struct offset_map *m)
{
	*m = (struct offset_map){ .slots = NULL, .used = 0, .size_log2 = 0 };
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
	int r = hash_grow(capacity, m->used, extra, sizeof(*old), &table, &n, &shift);

	if (r <= 0)
		return r;
	m->slots = table;
	m->size_log2 = 64 - shift;
	m->used = 0;
	for (size_t i = 0; i < capacity; i++)
		if (old[i])
			offset_map_insert(m, offset_map_slot_key(old[i]),
					  offset_map_slot_value(old[i]));
	free(old);
	return 0;
}
