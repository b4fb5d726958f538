/* SPDX-License-Identifier: MIT */
/*
 * Private to the allocator (range_alloc.c and its checker): the record of one
 * extent of the region, free or a buffer. Callers only see the embedded
 * range_buffer.
 */
#pragma once

#include <stddef.h>

#include "alloc/free_index.h"
#include "alloc/range_alloc.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Per-pid oneway usage, for spam detection without walking buffers. */
struct range_pid_usage {
	size_t buffers; /* live async buffers of the pid; > 0 once charged */
	size_t bytes;	/* their sizes summed */
};

struct range_extent {
	/* offset and size describe every extent; the rest only buffers. */
	struct range_buffer buf;
	/* Address order: prev->buf.offset + prev->buf.size == buf.offset. */
	struct range_extent *prev;
	struct range_extent *next; /* also links spare records */
	union {
		struct free_node free;	       /* free extents: bin links, free.size == buf.size */
		struct range_pid_usage *usage; /* async buffers: the sender's usage */
	};
};
