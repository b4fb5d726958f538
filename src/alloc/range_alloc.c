/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "alloc/offset_map.h"
#include "alloc/page_bits.h"
#include "alloc/range_alloc.h"
#include "alloc/range_extent.h"

/* Index of the first record of chunk @k; records in the first @k chunks. */
static inline uint32_t chunk_start(unsigned int k)
{
	return (((uint32_t)1 << k) - 1) << EXTENT_CHUNK0_LOG2;
}

/*
 * Makes sure take_record() has a record to give: a recycled one, a fresh one
 * in the last chunk, or a new chunk (twice the size of the one before).
 * -ENOMEM when out of memory or of record indices.
 */
static inline int ensure_spare_record(struct range_alloc *a)
{
	unsigned int k;

	if ((a->spare != 0) | (a->records < a->capacity))
		return 0;
	k = 31u - (unsigned int)__builtin_clz(a->records + EXTENT_CHUNK0) - EXTENT_CHUNK0_LOG2;
	if (k >= RANGE_ALLOC_CHUNKS)
		return -ENOMEM;
	/* Fresh records are handed out in order, so a large chunk's memory is
	 * touched only as it is used. */
	a->chunks[k] = aligned_alloc(sizeof(struct range_extent),
				     (size_t)(chunk_start(k + 1) - chunk_start(k)) *
					     sizeof(struct range_extent));
	if (!a->chunks[k])
		return -ENOMEM;
	a->chunk_base[k] =
		(uintptr_t)a->chunks[k] - (uintptr_t)chunk_start(k) * sizeof(struct range_extent);
	a->capacity = chunk_start(k + 1);
	return 0;
}

/*
 * A record index, after ensure_spare_record(): the last recycled one, else a
 * fresh one. The record is uninitialised. No branch: with no spare record,
 * the sentinel's link is read and not used.
 */
static inline uint32_t take_record(struct range_alloc *a)
{
	uint32_t spare = a->spare, fresh = a->records;
	uint32_t next = extent_at(a, spare)->next;

	a->spare = spare ? next : 0;
	a->records = fresh + (spare == 0);
	return spare ? spare : fresh;
}

static inline void put_record(struct range_alloc *a, uint32_t i, struct range_extent *e)
{
	e->next = a->spare;
	a->spare = i;
}

/* The sentinel's state: never free, never a buffer. */
#define EXTENT_HEAD_STATE 0xffu

/* Extent @i (@e) becomes free: it joins the index under its current size. */
static inline void make_free(struct range_alloc *a, uint32_t i, struct range_extent *e)
{
	/* A free extent is offset, size, state and bin fields; the rest is stale. */
	e->buf.state = RANGE_BUFFER_FREE;
	extent_bin_insert(a, i, e, free_index_bin(e->buf.size));
}

/* Takes extent @i (@e) out of the address-order list and recycles its record. */
static inline void unlink_extent(struct range_alloc *a, uint32_t i, struct range_extent *e)
{
	extent_at(a, e->prev)->next = e->next;
	extent_at(a, e->next)->prev = e->prev;
	put_record(a, i, e);
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
	struct range_extent *sentinel, *all;
	size_t words;

	*a = (struct range_alloc){ .geo = geo };
	offset_map_init(&a->by_offset);
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
	/* The LRU nodes (32 bytes a page, most of an idle region's cost) wait
	 * for the first reservation: see ensure_lru_nodes(). */
	a->lru_owner.release = release_lru_pages;
	/* The first chunk has room for the sentinel and the first extents. */
	if (!a->active || !a->installed || free_index_init(&a->free, region_size) ||
	    ensure_spare_record(a) || offset_map_reserve(&a->by_offset, 1)) {
		range_alloc_deinit(a);
		return -ENOMEM;
	}
	sentinel = extent_at(a, take_record(a));
	all = extent_at(a, take_record(a));
	*sentinel = (struct range_extent){ .buf = { .state = EXTENT_HEAD_STATE },
					   .prev = 1,
					   .next = 1 };
	*all = (struct range_extent){ .buf = { .offset = 0, .size = region_size } };
	make_free(a, 1, all);
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
	offset_map_deinit(&a->by_offset);
	for (unsigned int k = 0; k < RANGE_ALLOC_CHUNKS; k++)
		free(a->chunks[k]);
	free_index_deinit(&a->free);
	free(a->active);
	free(a->installed);
	free(a->lru_owner.nodes);
	*a = (struct range_alloc){ 0 };
}

static inline int align_up_8(size_t x, size_t *out)
{
	if (x > SIZE_MAX - (RANGE_ALLOC_ALIGN - 1))
		return -EINVAL;
	*out = (x + RANGE_ALLOC_ALIGN - 1) & ~(size_t)(RANGE_ALLOC_ALIGN - 1);
	return 0;
}

static inline int buffer_size(size_t data_size, size_t offsets_size, size_t extra_size,
			      size_t *size)
{
	size_t d, o, e, sum;

	if (((data_size | offsets_size | extra_size) >> 61) == 0) {
		/* Three aligned sizes below 2^61 cannot overflow. */
		sum = ((data_size + 7) & ~(size_t)7) + ((offsets_size + 7) & ~(size_t)7) +
		      ((extra_size + 7) & ~(size_t)7);
		*size = sum < RANGE_ALLOC_ALIGN ? RANGE_ALLOC_ALIGN : sum;
		return 0;
	}
	if (align_up_8(data_size, &d) || align_up_8(offsets_size, &o) ||
	    align_up_8(extra_size, &e) || __builtin_add_overflow(d, o, &sum) ||
	    __builtin_add_overflow(sum, e, &sum))
		return -EINVAL;
	*size = sum < RANGE_ALLOC_ALIGN ? RANGE_ALLOC_ALIGN : sum;
	return 0;
}

int range_alloc_buffer_size(size_t data_size, size_t offsets_size, size_t extra_size, size_t *size)
{
	return buffer_size(data_size, offsets_size, extra_size, size);
}

/* Pages [first, end) become active; the installed ones leave the LRU. */
static void activate_range(struct range_alloc *a, size_t first, size_t end)
{
	for (size_t p = first; p < end; p++) {
		bits_set(a->active, p);
		if (bits_test(a->installed, p)) {
			page_lru_del(a->lru, &a->lru_owner, p);
			a->pages_lru--;
		}
	}
	a->pages_active += end - first;
}

/* Pages [first, end) become inactive; the installed ones join the LRU. */
static void deactivate_range(struct range_alloc *a, size_t first, size_t end)
{
	for (size_t p = first; p < end; p++) {
		bits_clear(a->active, p);
		if (bits_test(a->installed, p)) {
			page_lru_add(a->lru, &a->lru_owner, p);
			a->pages_lru++;
		}
	}
	a->pages_active -= end - first;
}

/* The uninstalled pages of [first, end) (end > first) as one range from the first to the last. */
static inline struct page_range missing_pages(const struct range_alloc *a, size_t first, size_t end)
{
	size_t w = first / BITS_PER_WORD, last;

	if (w == (end - 1) / BITS_PER_WORD) {
		/* One bitmap word, the common case. */
		uint64_t mask = (~(uint64_t)0 << (first % BITS_PER_WORD)) &
				(~(uint64_t)0 >> (BITS_PER_WORD - 1 - (end - 1) % BITS_PER_WORD));
		uint64_t missing = ~a->installed[w] & mask;

		if (!missing)
			return (struct page_range){ first, 0 };
		first = w * BITS_PER_WORD + (size_t)__builtin_ctzll(missing);
		last = w * BITS_PER_WORD + 63u - (size_t)__builtin_clzll(missing);
		return (struct page_range){ first, last - first + 1 };
	}
	w = bits_find(a->installed, first, end, false);
	if (w == end)
		return (struct page_range){ first, 0 };
	last = bits_find_last(a->installed, w, end, false);
	return (struct page_range){ w, last - w + 1 };
}

/*
 * Clamps the pages [*first, *end) of a buffer to those lying wholly inside
 * the free extent [free_offset, free_end) it was carved from or merged
 * into: no other live buffer touches them, since free extents never touch.
 */
static inline void clamp_inside_free(const struct range_alloc *a, size_t *first, size_t *end,
				     size_t free_offset, size_t free_end)
{
	unsigned int shift = a->geo.shift;
	size_t inside = (free_offset + ((size_t)1 << shift) - 1) >> shift;
	size_t inside_end = free_end >> shift;

	if (*first < inside)
		*first = inside;
	if (*end > inside_end)
		*end = inside_end;
}

/*
 * A buffer of @size bytes was carved from the front of the free extent
 * [offset, offset + free_size). Pages wholly inside that free extent were not
 * active; those the buffer touches become active (lru ones leave the LRU).
 * Pages of the buffer outside it were already active, shared with a live
 * neighbour. Returns the range of the buffer's uninstalled pages.
 */
static inline struct page_range activate_pages(struct range_alloc *a, size_t offset, size_t size,
					       size_t free_size)
{
	size_t first = geo_page_index(a->geo, offset);
	size_t end = geo_page_index(a->geo, offset + size - 1) + 1;
	size_t now = first, now_end = end;

	clamp_inside_free(a, &now, &now_end, offset, offset + free_size);
	if (now < now_end)
		activate_range(a, now, now_end);
	if (end > a->pages_high)
		a->pages_high = end;
	return missing_pages(a, first, end);
}

/*
 * Buffer [offset, offset + size) was freed and merged into the free extent
 * [free_offset, free_end): the pages it touched that lie wholly inside that
 * extent are no longer touched by any live buffer.
 */
static inline void deactivate_pages(struct range_alloc *a, size_t offset, size_t size,
				    size_t free_offset, size_t free_end)
{
	size_t first = geo_page_index(a->geo, offset);
	size_t end = geo_page_index(a->geo, offset + size - 1) + 1;

	clamp_inside_free(a, &first, &end, free_offset, free_end);
	if (first < end)
		deactivate_range(a, first, end);
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

/*
 * The LRU nodes, allocated by the first reservation: a region that never
 * receives (an idle client's) costs no node. No page is installed, so none
 * is on the LRU, before them.
 */
static inline int ensure_lru_nodes(struct range_alloc *a)
{
	if (__builtin_expect(a->lru_owner.nodes != NULL, 1))
		return 0;
	a->lru_owner.nodes = calloc(a->pages, sizeof(struct lru_node));
	return a->lru_owner.nodes ? 0 : -ENOMEM;
}

int range_alloc_reserve(struct range_alloc *a, size_t data_size, size_t offsets_size,
			size_t extra_size, bool is_async, int32_t pid,
			struct range_reservation *out)
{
	struct range_pid_usage *usage = NULL;
	struct range_extent *e, *b;
	size_t size, free_offset, free_size;
	uint32_t f, i;
	int r;

	r = buffer_size(data_size, offsets_size, extra_size, &size);
	if (r)
		return r;
	if ((size > a->size) | (is_async & (a->free_async_space < size)))
		return -ENOSPC;
	f = extent_bin_find(a, size);
	if (!f)
		return -ENOSPC;
	/* Everything that can fail comes before the first change. */
	if (ensure_lru_nodes(a) || ensure_spare_record(a) || offset_map_reserve(&a->by_offset, 1) ||
	    (is_async && !(usage = prepare_pid_usage(a, pid))))
		return -ENOMEM;

	e = extent_at(a, f);
	free_offset = e->buf.offset;
	free_size = e->buf.size;
	if (free_size > size) {
		/*
		 * The buffer takes the front in a new record; the free record keeps
		 * the rest and, when it is large, its bin: no index work at all.
		 */
		i = take_record(a);
		b = extent_at(a, i);
		b->prev = e->prev;
		b->next = f;
		extent_at(a, e->prev)->next = i;
		e->prev = i;
		e->buf.offset += size;
		extent_bin_resize(a, f, e, free_size - size);
	} else {
		extent_bin_remove(a, e);
		i = f;
		b = e;
	}
	b->buf = (struct range_buffer){
		.offset = free_offset,
		.size = size,
		.data_size = data_size,
		.offsets_size = offsets_size,
		.extra_size = extra_size,
		.pid = pid,
		.state = RANGE_BUFFER_RESERVED,
		.async = is_async,
	};
	offset_map_insert(&a->by_offset, free_offset / RANGE_ALLOC_ALIGN, i);
	a->buffers++;
	if (is_async)
		b->buf.spam_suspect = charge_async(a, usage, size);

	*out = (struct range_reservation){
		.buffer = &b->buf,
		.offset = free_offset,
		.spam_suspect = b->buf.spam_suspect,
		.install = activate_pages(a, free_offset, size, free_size),
	};
	return 0;
}

void range_alloc_installed(struct range_alloc *a, struct page_range range, size_t installed)
{
	size_t end;

	if (installed > range.count)
		installed = range.count;
	if (!installed || range.first >= a->pages)
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
	size_t slot;

	/* Buffers start at multiples of 8 inside the region; the map keys offset / 8. */
	if (offset % RANGE_ALLOC_ALIGN || offset >= a->size ||
	    !offset_map_lookup(&a->by_offset, offset / RANGE_ALLOC_ALIGN, &slot))
		return NULL;
	return &extent_at(a, offset_map_slot_value(a->by_offset.slots[slot]))->buf;
}

int range_alloc_prepare_user_free(struct range_alloc *a, size_t offset, struct range_buffer **out)
{
	struct range_buffer *b;
	size_t slot;

	if (offset % RANGE_ALLOC_ALIGN || offset >= a->size ||
	    !offset_map_lookup(&a->by_offset, offset / RANGE_ALLOC_ALIGN, &slot))
		return -ENOENT;
	b = &extent_at(a, offset_map_slot_value(a->by_offset.slots[slot]))->buf;
	if (b->state != RANGE_BUFFER_DELIVERED)
		return -EPERM;
	b->state = RANGE_BUFFER_FREEING;
	/* The release that follows finds the buffer's slot without probing. */
	a->freeing_slot = slot;
	*out = b;
	return 0;
}

void range_alloc_release(struct range_alloc *a, struct range_buffer *b)
{
	struct range_extent *e = container_of(b, struct range_extent, buf);
	uint32_t pi = e->prev, ni = e->next;
	struct range_extent *prev = extent_at(a, pi), *next = extent_at(a, ni);
	bool prev_free = extent_is_free(prev), next_free = extent_is_free(next);
	size_t offset = b->offset, size = b->size, merged_offset, merged_size;
	/* The map gives the record's index back. */
	uint32_t i = offset_map_remove(&a->by_offset, offset / RANGE_ALLOC_ALIGN, a->freeing_slot);

	a->buffers--;
	if (b->async) {
		uint64_t key = (uint64_t)(uint32_t)b->pid;
		struct range_pid_usage *usage = u64_map_find(&a->async_by_pid, key);

		a->free_async_space += size;
		usage->bytes -= size;
		if (--usage->buffers == 0)
			free(u64_map_remove(&a->async_by_pid, key));
	}
	/* Coalesce into a free neighbour's record, which mostly keeps its bin. */
	if (prev_free) {
		merged_offset = prev->buf.offset;
		merged_size = prev->buf.size + size + (next_free ? next->buf.size : 0);
		if (next_free) {
			extent_bin_remove(a, next);
			unlink_extent(a, ni, next);
		}
		unlink_extent(a, i, e);
		extent_bin_resize(a, pi, prev, merged_size);
	} else if (next_free) {
		merged_offset = offset;
		merged_size = next->buf.size + size;
		unlink_extent(a, i, e);
		next->buf.offset = offset;
		extent_bin_resize(a, ni, next, merged_size);
	} else {
		merged_offset = offset;
		merged_size = size;
		make_free(a, i, e);
	}
	deactivate_pages(a, offset, size, merged_offset, merged_offset + merged_size);
}

int range_alloc_trim_prepare(struct range_alloc *a)
{
	return ensure_spare_record(a);
}

int range_alloc_trim(struct range_alloc *a, struct range_buffer *b, size_t data_size,
		     size_t offsets_size, size_t extra_size)
{
	struct range_extent *e = container_of(b, struct range_extent, buf);
	uint32_t ni = e->next;
	struct range_extent *next = extent_at(a, ni);
	size_t size, tail, tail_offset, free_end;
	int r = buffer_size(data_size, offsets_size, extra_size, &size);

	if (r)
		return r;
	if (b->state != RANGE_BUFFER_RESERVED || b->async || size > b->size)
		return -EINVAL;
	tail = b->size - size;
	if (tail && !extent_is_free(next) && ensure_spare_record(a))
		return -ENOMEM;
	b->data_size = data_size;
	b->offsets_size = offsets_size;
	b->extra_size = extra_size;
	if (!tail)
		return 0;
	tail_offset = b->offset + size;
	if (extent_is_free(next)) {
		/* The free neighbour grows downwards over the tail. */
		free_end = next->buf.offset + next->buf.size;
		next->buf.offset = tail_offset;
		extent_bin_resize(a, ni, next, free_end - tail_offset);
	} else {
		uint32_t i = next->prev, fi = take_record(a);
		struct range_extent *f = extent_at(a, fi);

		f->prev = i;
		f->next = ni;
		e->next = fi;
		next->prev = fi;
		f->buf.offset = tail_offset;
		f->buf.size = tail;
		make_free(a, fi, f);
		free_end = tail_offset + tail;
	}
	b->size = size;
	deactivate_pages(a, tail_offset, tail, tail_offset, free_end);
	return 0;
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

/* The first live buffer at or after extent @i in address order. */
static struct range_buffer *live_from(const struct range_alloc *a, uint32_t i)
{
	while (i && extent_is_free(extent_at(a, i)))
		i = extent_at(a, i)->next;
	return i ? &extent_at(a, i)->buf : NULL;
}

struct range_buffer *range_alloc_first_buffer(const struct range_alloc *a)
{
	return a->chunks[0] ? live_from(a, extent_at(a, 0)->next) : NULL;
}

struct range_buffer *range_alloc_next_buffer(const struct range_alloc *a,
					     const struct range_buffer *b)
{
	return live_from(a, container_of(b, const struct range_extent, buf)->next);
}

size_t range_alloc_largest_free(const struct range_alloc *a)
{
	unsigned int fl, sl;
	size_t largest = 0;

	if (!a->free.fl_map)
		return 0;
	fl = 63u - (unsigned int)__builtin_clzll(a->free.fl_map);
	sl = 31u - (unsigned int)__builtin_clz(a->free.sl_map[fl]);
	for (uint32_t n = free_index_bin_head(&a->free, fl, sl); n; n = extent_at(a, n)->bin.next)
		if (extent_at(a, n)->buf.size > largest)
			largest = extent_at(a, n)->buf.size;
	return largest;
}
