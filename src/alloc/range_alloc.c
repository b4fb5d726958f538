/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "alloc/page_bits.h"
#include "alloc/range_alloc.h"
#include "alloc/range_extent.h"

/* Extent records come from chunks of this many, recycled through a_spare. */
#define EXTENTS_PER_CHUNK 63u

struct extent_chunk {
	struct extent_chunk *next;
	struct range_extent records[EXTENTS_PER_CHUNK];
};

static int ensure_spare_record(struct range_alloc *a)
{
	struct extent_chunk *chunk;

	if (a->spare)
		return 0;
	chunk = malloc(sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	chunk->next = a->chunks;
	a->chunks = chunk;
	for (size_t i = 0; i < EXTENTS_PER_CHUNK; i++) {
		chunk->records[i].next = a->spare;
		a->spare = &chunk->records[i];
	}
	return 0;
}

static struct range_extent *take_record(struct range_alloc *a)
{
	struct range_extent *e = a->spare;

	a->spare = e->next;
	return e;
}

static void put_record(struct range_alloc *a, struct range_extent *e)
{
	e->next = a->spare;
	a->spare = e;
}

static void free_records(struct range_alloc *a)
{
	struct extent_chunk *chunk = a->chunks;

	while (chunk) {
		struct extent_chunk *next = chunk->next;

		free(chunk);
		chunk = next;
	}
	a->chunks = NULL;
	a->spare = NULL;
	a->first = NULL;
}

/* An extent becomes free: it joins the index under its current size. */
static void index_free_extent(struct range_alloc *a, struct range_extent *e)
{
	e->buf = (struct range_buffer){ .offset = e->buf.offset, .size = e->buf.size };
	e->free.size = e->buf.size;
	free_index_insert(&a->free, &e->free);
}

static struct page_range intersect(struct page_range x, struct page_range y)
{
	size_t first = x.first > y.first ? x.first : y.first;
	size_t end_x = x.first + x.count, end_y = y.first + y.count;
	size_t end = end_x < end_y ? end_x : end_y;

	return (struct page_range){ first, end > first ? end - first : 0 };
}

int range_alloc_release_nothing(void *ctx, size_t first_page, size_t count)
{
	(void)ctx;
	(void)first_page;
	(void)count;
	return 0;
}

/* The LRU calls this to give lru pages back; see page_lru_owner. */
static int release_lru_pages(struct page_lru_owner *owner, size_t first, size_t count)
{
	struct range_alloc *a = container_of(owner, struct range_alloc, lru_owner);
	int r = a->backend.release(a->backend.ctx, first, count);

	if (r != 0)
		return r < 0 ? r : -EIO;
	for (size_t p = first; p < first + count; p++)
		bits_clear(a->installed, p);
	a->pages_lru -= count;
	return 0;
}

int range_alloc_init(struct range_alloc *a, size_t region_size, struct page_geometry geo,
		     struct page_lru *lru, const struct range_alloc_backend *backend)
{
	struct range_extent *all;
	size_t words;

	*a = (struct range_alloc){ .geo = geo };
	u64_map_init(&a->by_offset);
	u64_map_init(&a->async_by_pid);
	if (geo.shift < PAGE_SHIFT_MIN || geo.shift > PAGE_SHIFT_MAX || !lru || !backend ||
	    !backend->release || region_size == 0 || region_size > RANGE_ALLOC_SIZE_MAX ||
	    !geo_is_aligned(geo, region_size))
		return -EINVAL;
	a->size = region_size;
	a->pages = region_size >> geo.shift;
	a->free_async_space = region_size / 2;
	a->lru = lru;
	a->backend = *backend;
	words = bits_words(a->pages);
	a->active = calloc(words, sizeof(uint64_t));
	a->installed = calloc(words, sizeof(uint64_t));
	/* Large and mostly untouched: calloc maps it lazily. */
	a->lru_owner.nodes = calloc(a->pages, sizeof(struct lru_node));
	a->lru_owner.release = release_lru_pages;
	if (!a->active || !a->installed || !a->lru_owner.nodes ||
	    free_index_init(&a->free, region_size) || ensure_spare_record(a)) {
		range_alloc_deinit(a);
		return -ENOMEM;
	}
	all = take_record(a);
	*all = (struct range_extent){ .buf = { .offset = 0, .size = region_size } };
	a->first = all;
	index_free_extent(a, all);
	return 0;
}

void range_alloc_deinit(struct range_alloc *a)
{
	if (a->active && a->installed && a->lru_owner.nodes) {
		for (size_t w = 0; w < bits_words(a->pages); w++) {
			uint64_t lru_bits = a->installed[w] & ~a->active[w];

			while (lru_bits) {
				size_t p = w * BITS_PER_WORD + (size_t)__builtin_ctzll(lru_bits);

				page_lru_del(a->lru, &a->lru_owner, p);
				lru_bits &= lru_bits - 1;
			}
		}
	}
	if (a->async_by_pid.slots)
		for (size_t i = 0; i <= a->async_by_pid.mask; i++)
			free(a->async_by_pid.slots[i].value);
	u64_map_deinit(&a->async_by_pid);
	u64_map_deinit(&a->by_offset);
	free_records(a);
	free_index_deinit(&a->free);
	free(a->active);
	free(a->installed);
	free(a->lru_owner.nodes);
	*a = (struct range_alloc){ 0 };
}

static int align_up_8(size_t x, size_t *out)
{
	if (x > SIZE_MAX - (RANGE_ALLOC_ALIGN - 1))
		return -EINVAL;
	*out = (x + RANGE_ALLOC_ALIGN - 1) & ~(size_t)(RANGE_ALLOC_ALIGN - 1);
	return 0;
}

int range_alloc_buffer_size(size_t data_size, size_t offsets_size, size_t extra_size, size_t *size)
{
	size_t d, o, e, sum;

	if (align_up_8(data_size, &d) || align_up_8(offsets_size, &o) ||
	    align_up_8(extra_size, &e) || __builtin_add_overflow(d, o, &sum) ||
	    __builtin_add_overflow(sum, e, &sum))
		return -EINVAL;
	*size = sum < RANGE_ALLOC_ALIGN ? RANGE_ALLOC_ALIGN : sum;
	return 0;
}

/*
 * Buffer [offset, offset + size) was carved from the free extent
 * [free_offset, free_offset + free_size). Pages wholly inside that free
 * extent were not active; those the buffer touches become active (lru ones
 * leave the LRU). Pages of the buffer outside it were already active, shared
 * with a live neighbour. Returns the range of the buffer's uninstalled pages.
 */
static struct page_range activate_pages(struct range_alloc *a, size_t offset, size_t size,
					size_t free_offset, size_t free_size)
{
	struct page_range touched = geo_pages_touched(a->geo, offset, size);
	struct page_range now =
		intersect(touched, geo_pages_inside(a->geo, free_offset, free_size));
	size_t end = touched.first + touched.count;
	size_t first_missing, last_missing;

	for (size_t p = now.first; p < now.first + now.count; p++) {
		bits_set(a->active, p);
		if (bits_test(a->installed, p)) {
			page_lru_del(a->lru, &a->lru_owner, p);
			a->pages_lru--;
		}
	}
	a->pages_active += now.count;
	if (end > a->pages_high)
		a->pages_high = end;
	first_missing = bits_find(a->installed, touched.first, end, false);
	if (first_missing == end)
		return (struct page_range){ touched.first, 0 };
	last_missing = bits_find_last(a->installed, first_missing, end, false);
	return (struct page_range){ first_missing, last_missing - first_missing + 1 };
}

/*
 * Buffer [offset, offset + size) was freed and merged into the free extent
 * [free_offset, free_offset + free_size). Pages the buffer touched that lie
 * wholly inside that extent are no longer touched by any live buffer: a page
 * reaching outside it meets a live neighbour, since free extents never touch.
 */
static void deactivate_pages(struct range_alloc *a, size_t offset, size_t size, size_t free_offset,
			     size_t free_size)
{
	struct page_range done = intersect(geo_pages_touched(a->geo, offset, size),
					   geo_pages_inside(a->geo, free_offset, free_size));

	for (size_t p = done.first; p < done.first + done.count; p++) {
		bits_clear(a->active, p);
		if (bits_test(a->installed, p)) {
			page_lru_add(a->lru, &a->lru_owner, p);
			a->pages_lru++;
		}
	}
	a->pages_active -= done.count;
}

/* Looks up, or creates and maps, the usage record of @pid. NULL: out of memory. */
static struct range_pid_usage *prepare_pid_usage(struct range_alloc *a, int32_t pid)
{
	uint64_t key = (uint64_t)(uint32_t)pid;
	struct range_pid_usage *usage = u64_map_find(&a->async_by_pid, key);

	if (usage)
		return usage;
	if (u64_map_reserve(&a->async_by_pid, 1))
		return NULL;
	usage = calloc(1, sizeof(*usage));
	if (usage)
		u64_map_insert(&a->async_by_pid, key, usage);
	return usage;
}

/*
 * Charges @size to the oneway space and to @usage, and says whether the
 * sender is to be reported as a spam suspect (kernel semantics: checked when
 * less than a tenth of the region is left for async; reported once; an async
 * reserve leaving at least a tenth re-arms).
 */
static bool charge_async(struct range_alloc *a, struct range_pid_usage *usage, size_t size)
{
	a->free_async_space -= size;
	usage->buffers++;
	usage->bytes += size;
	if (a->free_async_space >= a->size / 10) {
		a->spam_detected = false;
		return false;
	}
	if (usage->buffers <= RANGE_ALLOC_SPAM_BUFFERS && usage->bytes <= a->size / 4)
		return false;
	if (a->spam_detected)
		return false;
	a->spam_detected = true;
	return true;
}

int range_alloc_reserve(struct range_alloc *a, size_t data_size, size_t offsets_size,
			size_t extra_size, bool is_async, int32_t pid,
			struct range_reservation *out)
{
	struct range_pid_usage *usage = NULL;
	struct free_node *node;
	struct range_extent *e;
	size_t size, free_offset, free_size;
	int r;

	r = range_alloc_buffer_size(data_size, offsets_size, extra_size, &size);
	if (r)
		return r;
	if (size > a->size || (is_async && a->free_async_space < size))
		return -ENOSPC;
	node = free_index_find(&a->free, size);
	if (!node)
		return -ENOSPC;
	/* Everything that can fail comes before the first change. */
	if (ensure_spare_record(a) || u64_map_reserve(&a->by_offset, 1) ||
	    (is_async && !(usage = prepare_pid_usage(a, pid))))
		return -ENOMEM;

	e = container_of(node, struct range_extent, free);
	free_offset = e->buf.offset;
	free_size = e->buf.size;
	if (free_size > size) {
		/*
		 * The buffer takes the front in a new record; the free record keeps
		 * the rest and, most often, its bin: no index work at all.
		 */
		struct range_extent *b = take_record(a);

		b->prev = e->prev;
		b->next = e;
		if (e->prev)
			e->prev->next = b;
		else
			a->first = b;
		e->prev = b;
		e->buf.offset += size;
		e->buf.size -= size;
		free_index_resize(&a->free, &e->free, e->buf.size);
		e = b;
	} else {
		free_index_remove(&a->free, node);
	}
	e->buf = (struct range_buffer){
		.offset = free_offset,
		.size = size,
		.data_size = data_size,
		.offsets_size = offsets_size,
		.extra_size = extra_size,
		.pid = pid,
		.state = RANGE_BUFFER_RESERVED,
		.async = is_async,
	};
	e->usage = usage;
	u64_map_insert(&a->by_offset, e->buf.offset, e);
	a->buffers++;
	if (is_async)
		e->buf.spam_suspect = charge_async(a, usage, size);

	*out = (struct range_reservation){
		.buffer = &e->buf,
		.offset = e->buf.offset,
		.spam_suspect = e->buf.spam_suspect,
		.install = activate_pages(a, free_offset, size, free_offset, free_size),
	};
	return 0;
}

void range_alloc_installed(struct range_alloc *a, struct page_range range, size_t installed)
{
	size_t end;

	if (installed > range.count)
		installed = range.count;
	if (range.first >= a->pages)
		return;
	end = range.first +
	      (installed < a->pages - range.first ? installed : a->pages - range.first);
	for (size_t p = range.first; p < end; p++) {
		if (bits_test(a->installed, p))
			continue;
		bits_set(a->installed, p);
		if (!bits_test(a->active, p)) {
			page_lru_add(a->lru, &a->lru_owner, p);
			a->pages_lru++;
		}
	}
}

int range_alloc_deliver(struct range_alloc *a, struct range_buffer *b)
{
	(void)a;
	if (b->state != RANGE_BUFFER_RESERVED)
		return -EPERM;
	b->state = RANGE_BUFFER_DELIVERED;
	return 0;
}

struct range_buffer *range_alloc_find(const struct range_alloc *a, size_t offset)
{
	struct range_extent *e = u64_map_find(&a->by_offset, offset);

	return e ? &e->buf : NULL;
}

int range_alloc_prepare_user_free(struct range_alloc *a, size_t offset, struct range_buffer **out)
{
	struct range_buffer *b = range_alloc_find(a, offset);

	if (!b)
		return -ENOENT;
	if (b->state != RANGE_BUFFER_DELIVERED)
		return -EPERM;
	b->state = RANGE_BUFFER_FREEING;
	*out = b;
	return 0;
}

static void unlink_extent(struct range_alloc *a, struct range_extent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		a->first = e->next;
	if (e->next)
		e->next->prev = e->prev;
	put_record(a, e);
}

void range_alloc_release(struct range_alloc *a, struct range_buffer *b)
{
	struct range_extent *e = container_of(b, struct range_extent, buf);
	struct range_extent *prev = e->prev, *next = e->next;
	bool prev_free = prev && prev->buf.state == RANGE_BUFFER_FREE;
	bool next_free = next && next->buf.state == RANGE_BUFFER_FREE;
	size_t offset = b->offset, size = b->size;
	struct range_extent *merged;

	u64_map_remove(&a->by_offset, offset);
	a->buffers--;
	if (b->async) {
		struct range_pid_usage *usage = e->usage;

		a->free_async_space += size;
		usage->bytes -= size;
		if (--usage->buffers == 0)
			free(u64_map_remove(&a->async_by_pid, (uint64_t)(uint32_t)b->pid));
	}
	/* Coalesce into a free neighbour's record, which mostly keeps its bin. */
	if (prev_free) {
		size_t merged_size = prev->buf.size + size + (next_free ? next->buf.size : 0);

		if (next_free) {
			free_index_remove(&a->free, &next->free);
			unlink_extent(a, next);
		}
		unlink_extent(a, e);
		prev->buf.size = merged_size;
		free_index_resize(&a->free, &prev->free, merged_size);
		merged = prev;
	} else if (next_free) {
		unlink_extent(a, e);
		next->buf.offset = offset;
		next->buf.size += size;
		free_index_resize(&a->free, &next->free, next->buf.size);
		merged = next;
	} else {
		index_free_extent(a, e);
		merged = e;
	}
	deactivate_pages(a, offset, size, merged->buf.offset, merged->buf.size);
}

bool range_alloc_next_inactive(const struct range_alloc *a, size_t from, struct page_range *out)
{
	size_t first = bits_find(a->active, from, a->pages, false);

	if (first >= a->pages)
		return false;
	out->first = first;
	out->count = bits_find(a->active, first, a->pages, true) - first;
	return true;
}

int range_alloc_pages_released(struct range_alloc *a, struct page_range range)
{
	size_t end;

	if (range.first > a->pages || range.count > a->pages - range.first)
		return -EINVAL;
	end = range.first + range.count;
	if (bits_find(a->active, range.first, end, true) != end)
		return -EBUSY;
	for (size_t p = bits_find(a->installed, range.first, end, true); p < end;
	     p = bits_find(a->installed, p + 1, end, true)) {
		bits_clear(a->installed, p);
		page_lru_del(a->lru, &a->lru_owner, p);
		a->pages_lru--;
	}
	return 0;
}

void range_alloc_get_stats(const struct range_alloc *a, struct range_alloc_stats *s)
{
	*s = (struct range_alloc_stats){
		.pages_active = a->pages_active,
		.pages_lru = a->pages_lru,
		.pages_free = a->pages - a->pages_active - a->pages_lru,
		.pages_high = a->pages_high,
		.buffers = a->buffers,
		.free_async_space = a->free_async_space,
		.free_extents = a->free.blocks,
	};
}

static struct range_buffer *live_from(struct range_extent *e)
{
	while (e && e->buf.state == RANGE_BUFFER_FREE)
		e = e->next;
	return e ? &e->buf : NULL;
}

struct range_buffer *range_alloc_first_buffer(const struct range_alloc *a)
{
	return live_from(a->first);
}

struct range_buffer *range_alloc_next_buffer(const struct range_alloc *a,
					     const struct range_buffer *b)
{
	(void)a;
	return live_from(container_of(b, struct range_extent, buf)->next);
}

size_t range_alloc_largest_free(const struct range_alloc *a)
{
	unsigned int fl, sl;
	size_t largest = 0;

	if (!a->free.fl_map)
		return 0;
	fl = 63u - (unsigned int)__builtin_clzll(a->free.fl_map);
	sl = 31u - (unsigned int)__builtin_clz(a->free.sl_map[fl]);
	for (struct free_node *n = free_index_bin_head(&a->free, fl, sl); n; n = n->next)
		if (n->size > largest)
			largest = n->size;
	return largest;
}
