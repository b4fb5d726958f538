/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's baseline: exact best fit with a red-black tree of free
 * extents by (size, offset) and a red-black tree of all extents by offset,
 * which is the algorithm of both kernel Binder drivers, plus the same page
 * bookkeeping as ours (exact active pages, a per-page LRU list) and oneway
 * accounting, so that the comparison is of the range index alone. Written for
 * the benchmark; not used by ubinder.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/page_math.h"

struct baseline;

/* NULL on a bad size or out of memory. */
struct baseline *baseline_new(size_t region_size, struct page_geometry geo);
void baseline_free(struct baseline *b);

/* Reserves ALIGN(size, 8) bytes (at least 8): 0 and *offset, or -ENOSPC/-ENOMEM. */
int baseline_alloc(struct baseline *b, size_t size, bool async, size_t *offset);

/* Frees the buffer at @offset: 0, or -ENOENT. */
int baseline_release(struct baseline *b, size_t offset);
