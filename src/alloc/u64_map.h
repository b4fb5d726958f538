/* SPDX-License-Identifier: MIT */
/*
 * A map from 64-bit keys to non-NULL pointers: open addressing with linear
 * probing and backward-shift deletion, at most half full.
 *
 * The allocator finds the oneway usage of a sender pid through one of these
 * (live buffers by start offset go through offset_map.h), and the trace tool
 * its buffer ids. Lookups, insertions and removals are O(1) expected; growth
 * doubles the table and is O(1) amortised. Growth is the only step that can fail, so it is a separate
 * call (u64_map_reserve) that callers make before they change anything else:
 * after it succeeds, the next @extra insertions cannot fail.
 *
 * Not thread safe. No global state.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct u64_map_slot {
	uint64_t key;
	void *value; /* NULL: the slot is empty */
};

struct u64_map {
	struct u64_map_slot *slots; /* NULL until the first reserve */
	size_t mask;		    /* capacity - 1; capacity is a power of two */
	size_t count;		    /* occupied slots; count <= capacity / 2 */
	unsigned int shift;	    /* 64 - log2(capacity): the hash keeps the top bits */
};

void u64_map_init(struct u64_map *m);
void u64_map_deinit(struct u64_map *m);

/* Makes room for @extra more keys. Returns 0, or -ENOMEM with @m unchanged. */
int u64_map_reserve(struct u64_map *m, size_t extra);

/* Adds @key, which must be absent, with a non-NULL @value. Room must be reserved. */
void u64_map_insert(struct u64_map *m, uint64_t key, void *value);

/* The value of @key, or NULL. */
void *u64_map_find(const struct u64_map *m, uint64_t key);

/* Removes @key and returns its value, or returns NULL if it was absent. */
void *u64_map_remove(struct u64_map *m, uint64_t key);
