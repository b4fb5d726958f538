/* SPDX-License-Identifier: MIT */
/*
 * The allocator's invariants, verified from scratch. Slow on purpose: it
 * recomputes everything from the extent list and compares.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc/page_bits.h"
#include "alloc/range_alloc.h"
#include "alloc/range_extent.h"

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EUCLEAN;
}

static int check_extents(const struct range_alloc *a, char *why, size_t len, size_t *free_count,
			 uint64_t *active)
{
	size_t expect = 0, buffers = 0, async_bytes = 0, extents = 0, spare = 0;
	const struct range_extent *head, *prev = NULL;
	uint32_t prev_index = 0;

	if (!a->chunks[0] || a->records < 2 || a->records > EXTENT_RECORDS_MAX)
		return fail(why, len, "no records (%u)", a->records);
	head = extent_at(a, 0);
	if (head->buf.state == RANGE_BUFFER_FREE || !head->next || !head->prev)
		return fail(why, len, "extent list has no proper head");
	for (uint32_t i = head->next; i; prev_index = i, i = extent_at(a, i)->next) {
		const struct range_extent *e = extent_at(a, i);
		const struct range_buffer *b = &e->buf;

		if (i >= a->records || ++extents >= a->records)
			return fail(why, len, "extent list runs past the records");
		if (e->prev != prev_index)
			return fail(why, len, "extent %zu: broken prev link", b->offset);
		if (b->offset != expect)
			return fail(why, len, "extent at %zu, expected %zu", b->offset, expect);
		if (b->size == 0 || b->size % RANGE_ALLOC_ALIGN || b->size > a->size - b->offset)
			return fail(why, len, "extent %zu: bad size %zu", b->offset, b->size);
		expect += b->size;
		if (b->state == RANGE_BUFFER_FREE) {
			if (prev && prev->buf.state == RANGE_BUFFER_FREE)
				return fail(why, len, "free extents %zu and %zu touch",
					    prev->buf.offset, b->offset);
			(*free_count)++;
			prev = e;
			continue;
		}
		prev = e;
		if (b->state > RANGE_BUFFER_FREEING)
			return fail(why, len, "buffer %zu: bad state %u", b->offset, b->state);
		if (offset_map_find(&a->by_offset, b->offset / RANGE_ALLOC_ALIGN) != i)
			return fail(why, len, "buffer %zu: not found by offset", b->offset);
		{
			size_t want;

			if (range_alloc_buffer_size(b->data_size, b->offsets_size, b->extra_size,
						    &want) ||
			    want != b->size)
				return fail(why, len, "buffer %zu: size %zu does not match request",
					    b->offset, b->size);
		}
		if (b->async) {
			async_bytes += b->size;
			if (!u64_map_find(&a->async_by_pid, (uint64_t)(uint32_t)b->pid))
				return fail(why, len, "async buffer %zu: no pid usage", b->offset);
		}
		{
			struct page_range t = geo_pages_touched(a->geo, b->offset, b->size);

			for (size_t p = t.first; p < t.first + t.count; p++)
				bits_set(active, p);
		}
		buffers++;
	}
	if (head->prev != prev_index)
		return fail(why, len, "extent list head: prev is not the last extent");
	if (expect != a->size)
		return fail(why, len, "extents end at %zu, region is %zu", expect, a->size);
	if (buffers != a->buffers || a->by_offset.used != buffers)
		return fail(why, len, "%zu buffers, counted %zu, map holds %zu", buffers,
			    a->buffers, a->by_offset.used);
	{
		size_t live = 0, dead = 0, capacity = offset_map_capacity(&a->by_offset);

		for (size_t s = 0; s < capacity; s++) {
			live += offset_map_slot_value(a->by_offset.slots[s]) != 0;
			dead += a->by_offset.slots[s] == OFFSET_MAP_TOMBSTONE;
		}
		if (live != a->by_offset.used || dead != a->by_offset.dead ||
		    live + dead > capacity / 2)
			return fail(why, len,
				    "offset map: %zu keys, %zu tombstones, counted %zu %zu",
				    a->by_offset.used, a->by_offset.dead, live, dead);
	}
	if (async_bytes > a->size / 2 || a->free_async_space != a->size / 2 - async_bytes)
		return fail(why, len, "free async space %zu, async bytes %zu", a->free_async_space,
			    async_bytes);
	/* Every record is the sentinel, an extent, or spare. */
	for (uint32_t i = a->spare; i; i = extent_at(a, i)->next)
		if (i >= a->records || ++spare + extents + 1 > a->records)
			return fail(why, len, "spare list runs past the records");
	if (spare + extents + 1 != a->records)
		return fail(why, len, "%u records: %zu extents and %zu spare", a->records, extents,
			    spare);
	return 0;
}

static int check_pid_usage(const struct range_alloc *a, char *why, size_t len)
{
	size_t total_buffers = 0, total_bytes = 0, async_buffers = 0, async_bytes = 0;

	for (uint32_t i = extent_at(a, 0)->next; i; i = extent_at(a, i)->next) {
		const struct range_extent *e = extent_at(a, i);

		if (e->buf.state != RANGE_BUFFER_FREE && e->buf.async) {
			async_buffers++;
			async_bytes += e->buf.size;
		}
	}
	if (a->async_by_pid.slots)
		for (size_t s = 0; s <= a->async_by_pid.mask; s++) {
			const struct range_pid_usage *u = a->async_by_pid.slots[s].value;
			size_t n = 0, bytes = 0;

			if (!u)
				continue;
			for (uint32_t i = extent_at(a, 0)->next; i; i = extent_at(a, i)->next) {
				const struct range_extent *e = extent_at(a, i);

				if (e->buf.state != RANGE_BUFFER_FREE && e->buf.async &&
				    (uint64_t)(uint32_t)e->buf.pid ==
					    a->async_by_pid.slots[s].key) {
					n++;
					bytes += e->buf.size;
				}
			}
			if (u->buffers != n || u->bytes != bytes || n == 0)
				return fail(why, len, "pid %d: usage %zu/%zu, counted %zu/%zu",
					    (int)a->async_by_pid.slots[s].key, u->buffers, u->bytes,
					    n, bytes);
			total_buffers += n;
			total_bytes += bytes;
		}
	if (total_buffers != async_buffers || total_bytes != async_bytes)
		return fail(why, len, "pid usage covers %zu of %zu async buffers", total_buffers,
			    async_buffers);
	return 0;
}

static int check_index(const struct range_alloc *a, char *why, size_t len, size_t free_count)
{
	const struct free_index *x = &a->free;
	size_t blocks = 0;

	for (unsigned int fl = 0; fl < x->fl_count; fl++) {
		uint32_t sl_map = 0;

		for (unsigned int sl = 0; sl < FREE_INDEX_SL_COUNT; sl++) {
			uint32_t prev = 0;

			for (uint32_t i = free_index_bin_head(x, fl, sl); i;
			     prev = i, i = extent_at(a, i)->bin.next) {
				const struct range_extent *e;
				unsigned int f, s;

				if (i >= a->records)
					return fail(why, len, "bin %u/%u: bad record index %u", fl,
						    sl, i);
				e = extent_at(a, i);
				free_index_bin_of(e->buf.size, &f, &s);
				if (f != fl || s != sl ||
				    e->bin.number != free_index_bin(e->buf.size) ||
				    e->bin.prev != prev || e->buf.state != RANGE_BUFFER_FREE)
					return fail(why, len, "bin %u/%u: bad block of size %zu",
						    fl, sl, e->buf.size);
				sl_map |= (uint32_t)1 << sl;
				if (++blocks > free_count)
					return fail(why, len,
						    "bins hold more blocks than free extents");
			}
		}
		if (x->sl_map[fl] != sl_map || !!(x->fl_map & ((uint64_t)1 << fl)) != !!sl_map)
			return fail(why, len, "bin bitmaps of level %u are wrong", fl);
	}
	if (blocks != free_count || x->blocks != free_count)
		return fail(why, len, "%zu free extents, bins hold %zu, count %zu", free_count,
			    blocks, x->blocks);
	return 0;
}

static int check_pages(const struct range_alloc *a, char *why, size_t len, const uint64_t *active)
{
	size_t n_active = 0, n_lru = 0, high = 0;

	for (size_t p = 0; p < a->pages; p++) {
		bool is_active = bits_test(active, p);
		bool installed = bits_test(a->installed, p);

		if (is_active != bits_test(a->active, p))
			return fail(why, len, "page %zu: active bit %d, should be %d", p,
				    bits_test(a->active, p), is_active);
		if (is_active) {
			n_active++;
			high = p + 1;
		}
		if (installed && !a->lru_owner.nodes)
			return fail(why, len, "page %zu: installed before any reservation", p);
		if (a->lru_owner.nodes &&
		    !!page_lru_contains(&a->lru_owner, p) != (installed && !is_active))
			return fail(why, len, "page %zu: on the LRU %d, installed %d, active %d", p,
				    page_lru_contains(&a->lru_owner, p), installed, is_active);
		if (installed && !is_active) {
			n_lru++;
			if (a->lru_owner.nodes[p].owner != &a->lru_owner)
				return fail(why, len, "page %zu: LRU node of another owner", p);
		}
	}
	for (size_t w = bits_words(a->pages) * BITS_PER_WORD, p = a->pages; p < w; p++)
		if (bits_test(a->active, p) || bits_test(a->installed, p))
			return fail(why, len, "bit past the last page set");
	if (n_active != a->pages_active || n_lru != a->pages_lru)
		return fail(why, len, "pages active %zu lru %zu, counted %zu %zu", a->pages_active,
			    a->pages_lru, n_active, n_lru);
	if (high > a->pages_high || a->pages_high > a->pages)
		return fail(why, len, "pages high %zu, active up to %zu", a->pages_high, high);
	return 0;
}

int range_alloc_check(const struct range_alloc *a, char *why, size_t why_len)
{
	uint64_t *active = calloc(bits_words(a->pages) + 1, sizeof(uint64_t));
	size_t free_count = 0;
	int r;

	if (!active)
		return fail(why, why_len, "out of memory while checking");
	r = check_extents(a, why, why_len, &free_count, active);
	if (!r)
		r = check_pid_usage(a, why, why_len);
	if (!r)
		r = check_index(a, why, why_len, free_count);
	if (!r)
		r = check_pages(a, why, why_len, active);
	free(active);
	return r;
}
