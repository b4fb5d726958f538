/* SPDX-License-Identifier: MIT */
/*
 * Buffer memory: the only module that touches a process's receive region
 * (src/region) and its range allocator (src/alloc). Everything else in the
 * driver reserves, looks up, delivers and releases buffers through this
 * interface, as the kernel's binder_alloc keeps buffer memory behind one.
 *
 *   buffer_pool   one per driver: the LRU of installed pages no buffer uses
 *                 (shared by every region), its budget, and reclaim counters.
 *   buffer_space  one per process: the region, its allocator, and the
 *                 mapping's state and address in the client.
 *
 * Mapping states: NONE (never mapped) -> PENDING (region created, the client
 * is mapping it) -> READY (buffers can be reserved) -> GONE (unmapped, no
 * second map). PENDING goes back to NONE when the client's mmap failed.
 * Only READY spaces take new buffers; buffers that exist outlive GONE until
 * they are released.
 *
 * Page counts leaving this module (stats, budgets, the pool's counters, the
 * headroom asked) are in base pages, the machine's: a region of huge pages
 * (buffer_pool.huge) counts each of its pages as the base pages it holds.
 *
 * Functions return 0 or a negative errno unless said otherwise. Single
 * threaded (the event loop), except that copy workers write into a
 * reserved buffer's memory (buffer_space_mem) while it is reserved.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alloc/page_lru.h"
#include "alloc/range_alloc.h"
#include "region/region.h"

/* Why lru pages were given back (counted per pool and per space). */
enum reclaim_cause {
	RECLAIM_PRESSURE,	 /* the PSI trigger */
	RECLAIM_BUDGET,		 /* --max-lru-pages or --max-installed-pages */
	RECLAIM_DECAY,		 /* unused longer than the decay time */
	RECLAIM_ADMIN,		 /* ubinderctl shrink */
	RECLAIM_INSTALL_FAILURE, /* an install failed: make room and retry */
	RECLAIM_LIMIT,		 /* an install would pass the memory cgroup's limit */
	RECLAIM_CAUSES
};

/* "pressure", "budget", "decay", "admin", "install failure", "cgroup limit". */
extern const char *const reclaim_cause_names[RECLAIM_CAUSES];

struct buffer_pool_stats {
	uint64_t pages_installed; /* ever */
	uint64_t install_failures;
	uint64_t shrink_on_install_failure;
	uint64_t budget_failures; /* reservations refused at --max-installed-pages */
	uint64_t limit_failures;  /* reservations refused at the memory cgroup's limit */
	uint64_t pages_reclaimed; /* all causes */
	uint64_t reclaimed[RECLAIM_CAUSES];
	uint64_t holes_punched; /* non-active ranges released by the hole sweep */
};

struct buffer_pool {
	struct page_lru lru; /* in base pages; its clock: milliseconds of pool->now_ms */
	/* Pages of new regions whose size is a multiple of it: huge pages
	 * (region_init_pages); shift 0: base pages only. */
	struct page_geometry huge;
	uint64_t huge_regions;	    /* regions created with huge pages, ever */
	uint64_t base_regions;	    /* regions created with base pages while huge was set */
	char huge_status[256];	    /* what buffer_pool_set_huge found, for the stats; "" off */
	size_t max_lru_pages;	    /* shrink above this many lru pages; 0: no budget */
	size_t max_installed_pages; /* active + lru pages, all regions; 0: no cap */
	size_t installed_pages;	    /* active + lru pages now, all regions */
	uint64_t decay_ms;	    /* release lru pages unused this long; 0: never */
	uint64_t (*now_ms)(void);   /* monotonic clock (tests replace it) */
	enum reclaim_cause cause;   /* of the shrink running now */
	struct buffer_pool_stats stats;
	/* Pages the memory cgroup can still be charged (it may read memory.stat
	 * when fewer than @wanted are free); NULL: no limit to respect. */
	size_t (*headroom)(void *ctx, size_t wanted);
	void *headroom_ctx;
};

void buffer_pool_init(struct buffer_pool *pool, size_t max_lru_pages);

/* buffer_pool_set_huge(): the page size the kernel gives, whatever it is. */
#define BUFFER_POOL_HUGE_AUTO SIZE_MAX

/*
 * Asks for regions of huge pages of @size bytes (a power of two above the
 * machine's page, at most 2 MiB; BUFFER_POOL_HUGE_AUTO: the size the kernel
 * gives), off by default. Probes what the kernel gives a shmem mapping
 * advised MADV_HUGEPAGE (region/huge_probe.h): when it is @size, later
 * regions whose size is a multiple of it use it and 0 is returned; when the
 * kernel refuses (base pages, or another size), the pool keeps base pages,
 * pool->huge_status says why (the policy read from sysfs) and -EOPNOTSUPP
 * is returned; -EINVAL for a bad @size. Before the first region.
 */
int buffer_pool_set_huge(struct buffer_pool *pool, size_t size);
void buffer_pool_deinit(struct buffer_pool *pool);
/* Installed pages no buffer uses, in all regions. */
size_t buffer_pool_lru_pages(const struct buffer_pool *pool);
/* Releases up to @pages lru pages, oldest first, for @cause; returns how many. */
size_t buffer_pool_shrink(struct buffer_pool *pool, size_t pages, enum reclaim_cause cause);
/*
 * Releases the lru pages unused for decay_ms or longer at @now_ms (a
 * pool->now_ms reading); returns how many. Nothing when decay is off.
 */
size_t buffer_pool_decay(struct buffer_pool *pool, uint64_t now_ms);
/* When the oldest lru page decays (pool->now_ms time); UINT64_MAX: never. */
uint64_t buffer_pool_next_decay(const struct buffer_pool *pool);

enum map_state {
	MAP_NONE = 0, /* never mapped: transactions to it get BR_DEAD_REPLY */
	MAP_PENDING,  /* region created, client mapping it */
	MAP_READY,
	MAP_GONE, /* unmapped: no second map */
};

struct buffer_space {
	struct buffer_pool *pool;
	enum map_state map;
	struct region region;
	struct range_alloc alloc;	    /* initialised while region.memfd >= 0 */
	uint64_t user_base;		    /* where the client mapped the region (READY, GONE) */
	char log_name[48];		    /* "CONTEXT: proc PID", for log lines */
	unsigned int weight_shift;	    /* region page = 2^weight_shift base pages */
	uint64_t reclaimed[RECLAIM_CAUSES]; /* this space's pages, by cause */
};

/* An unmapped space (MAP_NONE) drawing on @pool. */
void buffer_space_init(struct buffer_space *s, struct buffer_pool *pool);

/* The bytes of one page of the region (its allocator's and reclaim's unit). */
static inline size_t buffer_space_page_size(const struct buffer_space *s)
{
	return geo_page_size(s->region.geo);
}

/*
 * mmap: creates a region of @size bytes (a whole number of pages) and its
 * allocator, and returns an O_RDONLY descriptor of it for the client (the
 * caller closes it). NONE -> PENDING. @context and @pid name the memfd and
 * the log lines. Errors of region_init, region_share_readonly and
 * range_alloc_init; on error the space stays NONE.
 */
int buffer_space_create(struct buffer_space *s, size_t size, const char *context, pid_t pid);
/* The client mapped the region at @addr (PENDING -> READY), or its mmap
 * failed (@addr == 0: PENDING -> NONE, the region is freed). -EINVAL if
 * not PENDING. */
int buffer_space_mapped(struct buffer_space *s, uint64_t addr);
/* The client unmapped the region at @addr: READY -> GONE. -EINVAL if not
 * READY or another address. */
int buffer_space_unmapped(struct buffer_space *s, uint64_t addr);
/* Frees the region and the allocator, and every buffer record in it (release
 * the owners' data first: buffer_space_first). Safe on any space. */
void buffer_space_deinit(struct buffer_space *s);

/* Whether the space ever got a region (not NONE): a second mmap is refused. */
static inline bool buffer_space_was_created(const struct buffer_space *s)
{
	return s->map != MAP_NONE;
}
/* Whether new buffers can be reserved (MAP_READY). */
static inline bool buffer_space_ready(const struct buffer_space *s)
{
	return s->map == MAP_READY;
}
/* Whether a region exists (PENDING, READY or GONE): buffers may exist. */
static inline bool buffer_space_exists(const struct buffer_space *s)
{
	return s->alloc.lru != NULL;
}
/* "none", "pending", "ready" or "unmapped". */
const char *buffer_space_state_name(const struct buffer_space *s);

/*
 * Reserves a buffer and installs its pages, shrinking the LRU and retrying
 * once if that fails; then keeps the LRU within the pool's budget. Pages
 * beyond max_installed_pages, or beyond the memory cgroup's headroom, are
 * first taken from the LRU; if that is not enough, the reservation fails
 * with -ENOMEM. Errors as
 * the kernel's binder_alloc_new_buf: -ESRCH the space is not READY, -ENOSPC,
 * -ENOMEM (metadata, or pages could not be installed), -EINVAL (size
 * overflow). *spam_suspect: report BR_ONEWAY_SPAM_SUSPECT to the sender.
 */
int buffer_space_reserve(struct buffer_space *s, uint64_t data_size, uint64_t offsets_size,
			 uint64_t extra_size, bool is_async, pid_t sender_pid,
			 struct range_buffer **out, bool *spam_suspect);
/* RESERVED -> DELIVERED: the buffer went to its reader. */
int buffer_space_deliver(struct buffer_space *s, struct range_buffer *rb);
/* Gives a buffer back, in any state; @rb is invalid afterwards. */
void buffer_space_release(struct buffer_space *s, struct range_buffer *rb);
/*
 * Trims a reserved synchronous buffer to smaller sizes in place
 * (range_alloc_trim); the pages it no longer touches join the LRU. Cannot
 * fail after buffer_space_trim_prepare() with no reserve on @s since,
 * except -EINVAL for sizes larger than the buffer's.
 */
int buffer_space_trim(struct buffer_space *s, struct range_buffer *rb, uint64_t data_size,
		      uint64_t offsets_size, uint64_t extra_size);
int buffer_space_trim_prepare(struct buffer_space *s);
/* Zeroes a buffer's bytes (TF_CLEAR_BUF). */
int buffer_space_clear(struct buffer_space *s, const struct range_buffer *rb);

/*
 * BC_FREE_BUFFER: the delivered buffer at client address @ptr, now FREEING,
 * into *out. Errors: -ENOENT no buffer there (or not READY), -EPERM not
 * delivered or already being freed.
 */
int buffer_space_lookup_user(struct buffer_space *s, uint64_t ptr, struct range_buffer **out);

/* The buffer's bytes in the daemon's read-write mapping. */
static inline uint8_t *buffer_space_mem(const struct buffer_space *s, const struct range_buffer *rb)
{
	return s->region.base + rb->offset;
}
/* The buffer's address in the client's mapping. */
static inline uint64_t buffer_space_user_addr(const struct buffer_space *s,
					      const struct range_buffer *rb)
{
	return s->user_base + rb->offset;
}

/*
 * The whole READY region as the client sees it, [*user_base, *user_base +
 * *size), at *mem in the daemon: a forwarded buffer is copied from there.
 * Returns false when not READY.
 */
bool buffer_space_view(const struct buffer_space *s, uint64_t *user_base, uint64_t *size,
		       const uint8_t **mem);

/* Live buffers in address order: first, then next until NULL. */
struct range_buffer *buffer_space_first(const struct buffer_space *s);
struct range_buffer *buffer_space_next(const struct buffer_space *s, const struct range_buffer *rb);

/* Page and buffer counts, pages in base pages (all zero when no region exists). */
void buffer_space_get_stats(const struct buffer_space *s, struct range_alloc_stats *stats);

/* The region's base pages with memory behind them, measured from the memfd
 * (st_blocks), independently of the allocator's counters; 0 without one. */
size_t buffer_space_resident_pages(const struct buffer_space *s);

/* Punches holes over every non-active range (shrink all, counted as
 * RECLAIM_ADMIN); returns how many ranges. */
size_t buffer_space_punch_inactive(struct buffer_space *s);

/* The allocator's invariants (tests and fuzzing): 0 or -EUCLEAN with @why. */
int buffer_space_check(const struct buffer_space *s, char *why, size_t why_len);
