/* SPDX-License-Identifier: MIT */
/*
 * Zeroed allocations for objects made and freed on every call.
 *
 * glibc 2.36 (Debian 12's) serves calloc() from its arenas, never from the
 * per-thread cache that malloc() and free() use, so each calloc() on the hot
 * path cost about 250 instructions and pushed its later free() past the cache
 * as well (measured with callgrind on the daemon: 8 per call, a fifth of its
 * instructions). malloc() and memset() reach the cache; the empty asm keeps
 * the compiler from fusing them back into calloc(), which gcc does at -O2.
 * Anything allocated once (a process, a context) keeps plain calloc().
 */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* @size zeroed bytes, or NULL. */
static inline void *zalloc(size_t size)
{
	void *p = malloc(size);

	__asm__("" : "+r"(p));
	if (p)
		memset(p, 0, size);
	return p;
}

/* @n zeroed elements of @size bytes, or NULL (also when n * size overflows). */
static inline void *zalloc_array(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return zalloc(n * size);
}
