/* SPDX-License-Identifier: MIT */
/* Helpers shared by the allocator's tests. Tests only. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test-util.h"
#include "alloc/range_alloc.h"

#define GEO_4K	((struct page_geometry){ 12 })
#define GEO_16K ((struct page_geometry){ 14 })
#define GEO_64K ((struct page_geometry){ 16 })
#define GEO_2M	((struct page_geometry){ 21 })

/* SplitMix64: the next of a seeded stream of pseudo-random numbers. */
static inline uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A backend that records what it released, and can be told to fail. */
struct fake_backend {
	size_t calls;
	size_t pages;	   /* released, summed */
	size_t last_first; /* of the last successful call */
	size_t last_count;
	size_t fail_after;	/* calls that succeed before failures start; 0: never fail */
	unsigned char *punched; /* optional: one byte a page, set on release */
};

static inline int fake_release(void *ctx, size_t first, size_t count)
{
	struct fake_backend *f = ctx;

	if (f->fail_after && f->calls >= f->fail_after)
		return -EIO;
	f->calls++;
	f->pages += count;
	f->last_first = first;
	f->last_count = count;
	if (f->punched)
		memset(f->punched + first, 1, count);
	return 0;
}

static inline struct range_alloc_backend fake_backend_of(struct fake_backend *f)
{
	return (struct range_alloc_backend){ .release = fake_release, .ctx = f };
}

/* Fails the test with the checker's reason if an invariant is broken. */
#define assert_alloc_consistent(a)                                    \
	do {                                                          \
		char why_[256] = "";                                  \
		if (range_alloc_check((a), why_, sizeof(why_)) != 0)  \
			fail_msg("allocator inconsistent: %s", why_); \
	} while (0)

/* Reserves @size bytes of data (sync, pid 1) and reports every page installed. */
static inline struct range_buffer *reserve_installed(struct range_alloc *a, size_t size, bool async)
{
	struct range_reservation res;
	int r = range_alloc_reserve(a, size, 0, 0, async, 1, &res);

	if (r)
		return NULL;
	range_alloc_installed(a, res.install, res.install.count);
	return res.buffer;
}

/* One character a page: A active, L lru, . free. @out has room for pages + 1. */
static inline void page_map(const struct range_alloc *a, char *out)
{
	static const char letters[] = { '.', 'L', 'A' };

	for (size_t p = 0; p < a->pages; p++)
		out[p] = letters[range_alloc_page_state(a, p)];
	out[a->pages] = '\0';
}
