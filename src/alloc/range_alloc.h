/* SPDX-License-Identifier: MIT */
/*
 * The range allocator of one receive region, and the state of its pages.
 *
 * The region (N bytes, a whole number of pages) is split into extents that
 * cover it exactly, in address order: free extents and buffers. A buffer is
 * *live* from reserve to release: first RESERVED (the daemon fills it), then
 * DELIVERED (the receiver has it and may free it), then FREEING once the
 * receiver asked to free it (no second user free can succeed) until the
 * daemon releases it.
 *
 * Buffer size = ALIGN(data, 8) + ALIGN(offsets, 8) + ALIGN(extra, 8), at
 * least 8 bytes. Placement is near best fit through a two-level segregated
 * index (free_index.h), always at the start of the chosen free extent, so
 * the first buffer of an empty region is at 0 and consecutive buffers are
 * contiguous; frees coalesce with free neighbours. Completeness: a reserve
 * fails with -ENOSPC only when no free extent is large enough.
 *
 * Pages. Exact at every moment, for each page of the region:
 *   - *active* iff at least one live buffer touches it;
 *   - else *lru* iff it is installed (the caller put memory behind it and it
 *     has not been released since): it is then on the shared page_lru;
 *   - else *free*.
 * Installed pages are tracked apart from wanted (active) ones: a reserve
 * makes pages active at once and returns the range of its pages that are not
 * installed; the caller installs them (outside this pure module) and reports
 * how many succeeded. An active page can thus be uninstalled for a while; it
 * counts as active.
 *
 * All metadata lives outside the region. Reserve and release are O(1)
 * amortised plus O(pages whose state changes) — the fallback scan of one bin
 * aside, which only runs when nothing above the request's bin is free.
 *
 * Errors are negative errno values, kernel style. No I/O, no system calls, no
 * global state. NOT THREAD SAFE: the daemon's single event-loop thread owns
 * every allocator and the LRU they share.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/free_index.h"
#include "alloc/offset_map.h"
#include "alloc/page_lru.h"
#include "alloc/u64_map.h"
#include "common/page_math.h"

_Static_assert(sizeof(size_t) >= 8, "the allocator assumes a 64-bit size_t");

/* Largest region an allocator manages: 64 GiB. */
#define RANGE_ALLOC_SIZE_MAX	 ((size_t)64 << 30)
/* Every buffer is a multiple of this, and at least this large. */
#define RANGE_ALLOC_ALIGN	 8u
/* Oneway spam: a sender holding more than this many async buffers is suspect. */
#define RANGE_ALLOC_SPAM_BUFFERS 50u

enum range_buffer_state {
	RANGE_BUFFER_FREE = 0,	/* internal: a free extent, never seen by callers */
	RANGE_BUFFER_RESERVED,	/* being filled by the daemon */
	RANGE_BUFFER_DELIVERED, /* the receiver has it; it may free it */
	RANGE_BUFFER_FREEING,	/* the receiver freed it; the daemon releases it */
};

/*
 * A buffer. The pointer is stable from reserve to release. Every field but
 * @owner is the allocator's and read-only for callers.
 */
struct range_buffer {
	void *owner;	     /* the daemon's per-buffer data; never touched here */
	size_t offset;	     /* from the region start; a multiple of 8 */
	size_t size;	     /* bytes in use: the aligned sum, >= 8 */
	size_t data_size;    /* as requested, unaligned */
	size_t offsets_size; /* as requested, unaligned */
	size_t extra_size;   /* as requested, unaligned */
	int32_t pid;	     /* the sender that caused the allocation */
	uint8_t state;	     /* enum range_buffer_state */
	bool async;	     /* charged to the oneway space */
	bool spam_suspect;   /* this allocation flagged its sender */
};

/* How pages leave memory: the caller's, called only from page_lru_shrink(). */
struct range_alloc_backend {
	/*
	 * Releases pages [first_page, first_page + count) of the region, all lru.
	 * Returns 0 or a negative errno; on failure they stay lru and the shrink
	 * that called it stops. Must not call into the allocator or the LRU.
	 */
	int (*release)(void *ctx, size_t first_page, size_t count);
	void *ctx;
};

/*
 * A release hook for allocators whose pages have no memory behind them
 * (trace replay, benchmarks): releasing always succeeds and does nothing.
 */
int range_alloc_release_nothing(void *ctx, size_t first_page, size_t count);

struct range_extent;
struct range_pid_usage;

/* Extent record chunks: chunk k holds 64 << k records (range_extent.h). */
#define RANGE_ALLOC_CHUNKS 25

struct range_alloc {
	struct page_geometry geo;
	size_t size;  /* region bytes: a whole number of pages */
	size_t pages; /* size >> geo.shift */

	/*
	 * Extent records, one 64-byte line each, named by 32-bit indices across
	 * chunks that never move. Record 0 heads the circular list of extents in
	 * address order; they tile [0, size) and no two free ones touch.
	 */
	struct range_extent *chunks[RANGE_ALLOC_CHUNKS];
	uintptr_t chunk_base[RANGE_ALLOC_CHUNKS]; /* chunks[k] - its first index, in bytes */
	uint32_t records;	     /* records handed out from the chunks, record 0 included */
	uint32_t capacity;	     /* records the chunks hold */
	uint32_t spare;		     /* recycled records, linked through next; 0: none */
	struct free_index free;	     /* every free extent, by size */
	struct offset_map by_offset; /* live buffer start offset / 8 -> record index */
	size_t freeing_slot;	     /* by_offset slot of the last prepare_user_free */
	size_t buffers;		     /* live buffers */

	/* Oneway space: free_async_space == size / 2 - sum of live async sizes. */
	size_t free_async_space;
	struct u64_map async_by_pid; /* pid -> usage, for pids holding async buffers */
	bool spam_detected;	     /* reported once; re-armed as the kernel does */

	/*
	 * Page state. active bit: a live buffer touches the page. installed bit:
	 * memory was reported installed and not released since. lru == installed
	 * and not active, and exactly those pages are on @lru.
	 */
	uint64_t *active;
	uint64_t *installed;
	size_t pages_active;
	size_t pages_lru;
	size_t pages_high; /* 1 + the highest page index ever active; 0 if none */
	struct page_lru *lru;
	struct page_lru_owner lru_owner; /* nodes: one per page */
	struct range_alloc_backend backend;
};

/*
 * Prepares @a for a region of @region_size bytes with pages of geometry @geo
 * (1 page to RANGE_ALLOC_SIZE_MAX, a whole number of pages): one free extent,
 * every page free. Pages that become lru go on @lru, which must outlive @a.
 * Errors: -EINVAL (bad size or geometry, no release hook), -ENOMEM.
 * On error @a is left deinitialised (range_alloc_deinit is harmless on it).
 */
int range_alloc_init(struct range_alloc *a, size_t region_size, struct page_geometry geo,
		     struct page_lru *lru, const struct range_alloc_backend *backend);

/*
 * Each page of @a weighs 2^@shift units on its LRU (page_lru_owner): the LRU
 * of a daemon counts base pages, and a region of huge pages puts pages of
 * 2^shift base pages on it. Before the first reservation only.
 */
static inline void range_alloc_set_lru_weight(struct range_alloc *a, unsigned int shift)
{
	a->lru_owner.weight_shift = shift;
}

/*
 * Forgets everything, as at process death: live buffers are dropped (their
 * records freed: release the owners' data first, e.g. with
 * range_alloc_first_buffer()), every lru page leaves the LRU without the
 * release hook being called (the region goes away with the allocator), and
 * all metadata is freed. Safe on a zeroed or deinitialised allocator.
 */
void range_alloc_deinit(struct range_alloc *a);

/*
 * The aligned buffer size for these sizes into *size: the sum of each
 * rounded up to 8, at least 8. -EINVAL on arithmetic overflow.
 */
int range_alloc_buffer_size(size_t data_size, size_t offsets_size, size_t extra_size, size_t *size);

struct range_reservation {
	struct range_buffer *buffer; /* RESERVED */
	size_t offset;		     /* == buffer->offset */
	bool spam_suspect;	     /* report BR_ONEWAY_SPAM_SUSPECT to the sender */
	/*
	 * Pages of the buffer that are not installed, as one range (it may
	 * include installed pages in between; installing those again is
	 * harmless). count == 0: nothing to install (e.g. pages taken back from
	 * the LRU). Install them, then call range_alloc_installed().
	 */
	struct page_range install;
};

/*
 * Reserves a buffer for a transaction of @pid. Oneway (@is_async) buffers are
 * charged to the oneway space, half the region. When an async reserve leaves
 * less than a tenth of the region for async, the sender is suspect if it then
 * holds more than 50 async buffers or more than a quarter of the region in
 * them; only the first detection is reported, and an async reserve that
 * leaves at least a tenth re-arms detection (kernel semantics).
 *
 * Errors: -EINVAL arithmetic overflow only; -ENOSPC no free extent large
 * enough (also larger than the region), or oneway space exhausted; -ENOMEM
 * metadata. On error nothing changed.
 */
int range_alloc_reserve(struct range_alloc *a, size_t data_size, size_t offsets_size,
			size_t extra_size, bool is_async, int32_t pid,
			struct range_reservation *out);

/*
 * Reports that the first @installed pages of @range (a reservation's
 * install range) now have memory behind them. Pages no live buffer touches
 * any more (the buffer was released meanwhile) go to the LRU. The rest of the
 * range stays uninstalled: after a partial install, release the buffer
 * (abort), and its installed pages end up lru, the others free.
 * Report before the next reserve on the same allocator.
 */
void range_alloc_installed(struct range_alloc *a, struct page_range range, size_t installed);

/* RESERVED -> DELIVERED. -EPERM if @b is not reserved. */
int range_alloc_deliver(struct range_alloc *a, struct range_buffer *b);

/*
 * The receiver frees the buffer that starts at @offset (BC_FREE_BUFFER).
 * On success *out is the buffer, now FREEING: do the per-buffer clean-up
 * (owner data, fds, TF_CLEAR_BUF over [offset, offset + size)), then
 * range_alloc_release() it. Errors: -ENOENT no live buffer starts at
 * @offset; -EPERM the buffer is reserved (not delivered) or already being
 * freed. O(1).
 */
int range_alloc_prepare_user_free(struct range_alloc *a, size_t offset, struct range_buffer **out);

/* The live buffer that starts exactly at @offset, or NULL. O(1). */
struct range_buffer *range_alloc_find(const struct range_alloc *a, size_t offset);

/*
 * Daemon-side free of a live buffer in any state (abort path, user free,
 * process death): refunds oneway space, coalesces, and puts pages no live
 * buffer touches any more on the LRU (installed) or back to free. @b is
 * invalid afterwards. Cannot fail.
 */
void range_alloc_release(struct range_alloc *a, struct range_buffer *b);

/*
 * Trims a RESERVED synchronous buffer to smaller sizes in place: its offset
 * stays, the bytes past the new size become free (coalescing with a free
 * neighbour), and pages no live buffer touches any more go to the LRU
 * (installed) or back to free. The daemon reserves room for a promised
 * reply before it knows the reply's size, then trims it to the reply.
 * Errors: -EINVAL (not reserved, async, larger than the buffer, overflow),
 * -ENOMEM (a record for the freed tail); never after a successful
 * range_alloc_trim_prepare() with no reserve or trim on @a since.
 */
int range_alloc_trim(struct range_alloc *a, struct range_buffer *b, size_t data_size,
		     size_t offsets_size, size_t extra_size);
/* Makes sure the next trim of @a needs no memory: 0 or -ENOMEM. */
int range_alloc_trim_prepare(struct range_alloc *a);

enum range_page_state {
	RANGE_PAGE_FREE = 0,
	RANGE_PAGE_LRU,
	RANGE_PAGE_ACTIVE,
};

static inline enum range_page_state range_alloc_page_state(const struct range_alloc *a,
							   size_t index)
{
	uint64_t bit = (uint64_t)1 << (index % 64);

	if (a->active[index / 64] & bit)
		return RANGE_PAGE_ACTIVE;
	return (a->installed[index / 64] & bit) ? RANGE_PAGE_LRU : RANGE_PAGE_FREE;
}

/*
 * The first maximal run of non-active pages (lru or free) at or after page
 * @from, into *out. Returns false when there is none. For the daemon's hole
 * punching over whole non-active ranges; see range_alloc_pages_released().
 */
bool range_alloc_next_inactive(const struct range_alloc *a, size_t from, struct page_range *out);

/*
 * The caller punched a hole over @range outside of a shrink: its lru pages
 * become free (they leave the LRU). Errors: -EINVAL past the end, -EBUSY if
 * an active page is in @range (nothing changes: never punch active pages).
 */
int range_alloc_pages_released(struct range_alloc *a, struct page_range range);

struct range_alloc_stats {
	size_t pages_active;
	size_t pages_lru;
	size_t pages_free;
	size_t pages_high; /* high watermark: 1 + highest page index ever active */
	size_t buffers;	   /* live */
	size_t free_async_space;
	size_t free_extents;
};

void range_alloc_get_stats(const struct range_alloc *a, struct range_alloc_stats *s);

/* Live buffers in address order: first, then next until NULL. O(extents). */
struct range_buffer *range_alloc_first_buffer(const struct range_alloc *a);
struct range_buffer *range_alloc_next_buffer(const struct range_alloc *a,
					     const struct range_buffer *b);

/* The largest free extent in bytes (0 if none). O(free extents in the top bin). */
size_t range_alloc_largest_free(const struct range_alloc *a);

/*
 * Verifies every invariant stated above and in the data structures (tiling,
 * coalescing, bins and bitmaps, the offset map, page bits and counters, the
 * LRU links, oneway accounting). O(extents + pages). For tests and fuzzing.
 * Returns 0, or -EUCLEAN with a reason in @why.
 */
int range_alloc_check(const struct range_alloc *a, char *why, size_t why_len);
