/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "driver/buffer_space.h"
#include "region/huge_probe.h"
#include "region/page.h"

const char *const reclaim_cause_names[RECLAIM_CAUSES] = {
	[RECLAIM_PRESSURE] = "pressure",
	[RECLAIM_BUDGET] = "budget",
	[RECLAIM_DECAY] = "decay",
	[RECLAIM_ADMIN] = "admin",
	[RECLAIM_INSTALL_FAILURE] = "install failure",
	[RECLAIM_LIMIT] = "cgroup limit",
};

/* Coarse is enough: decay works in seconds, and this runs on every release. */
static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void buffer_pool_init(struct buffer_pool *pool, size_t max_lru_pages)
{
	memset(pool, 0, sizeof(*pool));
	page_lru_init(&pool->lru);
	pool->max_lru_pages = max_lru_pages;
	pool->now_ms = monotonic_ms;
}

int buffer_pool_set_huge(struct buffer_pool *pool, size_t size)
{
	size_t base = PAGE_SIZE, given = base;
	char policy[160]; /* huge_status holds it and a short sentence around it */
	int err;

	pool->huge.shift = 0;
	pool->huge_status[0] = '\0';
	if (size != BUFFER_POOL_HUGE_AUTO &&
	    (size <= base || size > geo_page_size((struct page_geometry){ PAGE_SHIFT_MAX }) ||
	     (size & (size - 1))))
		return -EINVAL;
	err = region_probe_huge_pages(&given);
	if (err) {
		snprintf(pool->huge_status, sizeof(pool->huge_status),
			 "refused: the probe failed: %s", strerror(-err));
		return -EOPNOTSUPP;
	}
	if (given == base || (size != BUFFER_POOL_HUGE_AUTO && given != size)) {
		region_huge_policy(size == BUFFER_POOL_HUGE_AUTO
					   ? geo_page_size((struct page_geometry){ PAGE_SHIFT_MAX })
					   : size,
				   policy, sizeof(policy));
		snprintf(pool->huge_status, sizeof(pool->huge_status),
			 "refused: the kernel gives shmem %zu KiB pages (%s)", given >> 10, policy);
		return -EOPNOTSUPP;
	}
	pool->huge.shift = (unsigned int)__builtin_ctzll(given);
	snprintf(pool->huge_status, sizeof(pool->huge_status), "%zu KiB", given >> 10);
	return 0;
}

void buffer_pool_deinit(struct buffer_pool *pool)
{
	page_lru_deinit(&pool->lru);
}

size_t buffer_pool_lru_pages(const struct buffer_pool *pool)
{
	return pool->lru.pages;
}

size_t buffer_pool_shrink(struct buffer_pool *pool, size_t pages, enum reclaim_cause cause)
{
	pool->cause = cause;
	return page_lru_shrink(&pool->lru, pages);
}

size_t buffer_pool_decay(struct buffer_pool *pool, uint64_t now_ms)
{
	if (!pool->decay_ms || now_ms < pool->decay_ms)
		return 0;
	pool->cause = RECLAIM_DECAY;
	/* Stamped at or before now - decay_ms: unused for decay_ms or longer. */
	return page_lru_shrink_older(&pool->lru, now_ms - pool->decay_ms + 1);
}

uint64_t buffer_pool_next_decay(const struct buffer_pool *pool)
{
	uint64_t oldest = page_lru_oldest_stamp(&pool->lru);

	if (!pool->decay_ms || oldest == UINT64_MAX)
		return UINT64_MAX;
	return oldest + pool->decay_ms;
}

/* Keeps the installed-but-unused pages within the configured budget. */
static void enforce_lru_budget(struct buffer_pool *pool)
{
	if (pool->max_lru_pages && pool->lru.pages > pool->max_lru_pages)
		buffer_pool_shrink(pool, pool->lru.pages - pool->max_lru_pages, RECLAIM_BUDGET);
}

/* Whether @count more pages fit under max_installed_pages, after taking lru
 * pages back if needed. */
static bool make_room(struct buffer_pool *pool, size_t count)
{
	size_t max = pool->max_installed_pages;

	if (!max || pool->installed_pages + count <= max)
		return true;
	if (count > max)
		return false;
	buffer_pool_shrink(pool, pool->installed_pages + count - max, RECLAIM_BUDGET);
	return pool->installed_pages + count <= max;
}

/*
 * The kernel charges a memory cgroup in batches of up to this many pages per
 * CPU (MEMCG_CHARGE_BATCH), so the usage the daemon reads moves in steps of
 * up to a batch: giving back exactly the pages missing may not show.
 */
#define CGROUP_CHARGE_BATCH 64

/*
 * Whether @count more pages fit in the memory cgroup: lru pages are given
 * back first (each one uncharges a page), since the kernel cannot reclaim
 * them and would OOM-kill instead. At least a charge batch goes back at a
 * time, until the room shows or no lru page is left.
 */
static bool make_cgroup_room(struct buffer_pool *pool, size_t count)
{
	size_t room;

	if (!pool->headroom)
		return true;
	while ((room = pool->headroom(pool->headroom_ctx, count)) < count) {
		size_t missing = count - room;

		if (!buffer_pool_shrink(
			    pool, missing > CGROUP_CHARGE_BATCH ? missing : CGROUP_CHARGE_BATCH,
			    RECLAIM_LIMIT))
			return false;
	}
	return true;
}

void buffer_space_init(struct buffer_space *s, struct buffer_pool *pool)
{
	memset(s, 0, sizeof(*s));
	s->pool = pool;
	s->region.memfd = -1;
}

/* LRU release hook: the pages leave memory and every mapping. */
static int release_pages(void *ctx, size_t first_page, size_t count)
{
	struct buffer_space *s = ctx;
	int err = region_release(&s->region, first_page, count);

	if (err == 0) {
		struct buffer_pool *pool = s->pool;
		size_t base = count << s->weight_shift;

		pool->stats.pages_reclaimed += base;
		pool->stats.reclaimed[pool->cause] += base;
		s->reclaimed[pool->cause] += base;
		pool->installed_pages -= base;
	}
	return err;
}

/* The space's installed base pages, active or lru (0 without a region). */
static size_t installed_pages(const struct buffer_space *s)
{
	struct range_alloc_stats st;

	buffer_space_get_stats(s, &st);
	return st.pages_active + st.pages_lru;
}

static void free_region(struct buffer_space *s)
{
	s->pool->installed_pages -= installed_pages(s);
	range_alloc_deinit(&s->alloc);
	region_deinit(&s->region);
}

int buffer_space_create(struct buffer_space *s, size_t size, const char *context, pid_t pid)
{
	struct range_alloc_backend backend = { .release = release_pages, .ctx = s };
	struct page_geometry geo = page_geometry_of_machine();
	struct buffer_pool *pool = s->pool;
	char name[48];
	int err, fd;

	snprintf(name, sizeof(name), "ubinder:%s:%d", context, pid);
	snprintf(s->log_name, sizeof(s->log_name), "%s: proc %d", context, pid);
	/* Huge pages for a region they tile; a smaller or odd-sized region
	 * keeps base pages rather than lose the bytes its client mapped. */
	if (pool->huge.shift) {
		if (geo_is_aligned(pool->huge, size))
			geo = pool->huge;
		else
			pool->base_regions++;
	}
	err = region_init_pages(&s->region, size, geo, name);
	if (err)
		return err;
	err = range_alloc_init(&s->alloc, size, s->region.geo, &pool->lru, &backend);
	if (err) {
		region_deinit(&s->region);
		return err;
	}
	s->weight_shift = geo.shift - page_geometry_of_machine().shift;
	range_alloc_set_lru_weight(&s->alloc, s->weight_shift);
	if (s->weight_shift)
		pool->huge_regions++;
	fd = region_share_readonly(&s->region);
	if (fd < 0) {
		free_region(s);
		return fd;
	}
	s->map = MAP_PENDING;
	return fd;
}

int buffer_space_mapped(struct buffer_space *s, uint64_t addr)
{
	if (s->map != MAP_PENDING)
		return -EINVAL;
	if (addr == 0) {
		/* The client's mmap failed: as if it never happened. */
		free_region(s);
		s->map = MAP_NONE;
		return 0;
	}
	s->user_base = addr;
	s->map = MAP_READY;
	return 0;
}

int buffer_space_unmapped(struct buffer_space *s, uint64_t addr)
{
	if (s->map != MAP_READY || addr != s->user_base)
		return -EINVAL;
	s->map = MAP_GONE;
	return 0;
}

void buffer_space_deinit(struct buffer_space *s)
{
	free_region(s);
}

const char *buffer_space_state_name(const struct buffer_space *s)
{
	switch (s->map) {
	case MAP_READY:
		return "ready";
	case MAP_PENDING:
		return "pending";
	case MAP_GONE:
		return "unmapped";
	case MAP_NONE:
		break;
	}
	return "none";
}

/* Installs a reservation's pages; on failure shrinks the LRU and tries once more. */
static int install_pages(struct buffer_space *s, struct page_range range)
{
	struct buffer_pool_stats *st = &s->pool->stats;
	unsigned int w = s->weight_shift; /* region pages to base pages */
	size_t installed;
	int err;

	if (range.count == 0)
		return 0;
	if (!make_room(s->pool, range.count << w)) {
		st->budget_failures++;
		range_alloc_installed(&s->alloc, range, 0);
		log_warning("%s: %zu more pages would exceed the cap of %zu installed pages",
			    s->log_name, range.count << w, s->pool->max_installed_pages);
		return -ENOMEM;
	}
	if (!make_cgroup_room(s->pool, range.count << w)) {
		st->limit_failures++;
		range_alloc_installed(&s->alloc, range, 0);
		log_warning("%s: %zu more pages would pass the memory cgroup's limit", s->log_name,
			    range.count << w);
		return -ENOMEM;
	}
	err = region_install(&s->region, range.first, range.count, &installed);
	if (err) {
		st->install_failures++;
		st->shrink_on_install_failure++;
		range_alloc_installed(&s->alloc, range, installed);
		st->pages_installed += installed << w;
		s->pool->installed_pages += installed << w;
		buffer_pool_shrink(s->pool, (range.count - installed) << w,
				   RECLAIM_INSTALL_FAILURE);
		range.first += installed;
		range.count -= installed;
		err = region_install(&s->region, range.first, range.count, &installed);
		if (err)
			st->install_failures++;
	}
	range_alloc_installed(&s->alloc, range, installed);
	st->pages_installed += installed << w;
	s->pool->installed_pages += installed << w;
	if (err)
		log_warning("%s: cannot install %zu pages: %s", s->log_name, range.count,
			    strerror(-err));
	return err;
}

int buffer_space_reserve(struct buffer_space *s, uint64_t data_size, uint64_t offsets_size,
			 uint64_t extra_size, bool is_async, pid_t sender_pid,
			 struct range_buffer **out, bool *spam_suspect)
{
	struct range_reservation res;
	int err;

	*out = NULL;
	*spam_suspect = false;
	if (!buffer_space_ready(s))
		return -ESRCH;
	s->pool->lru.clock = s->pool->now_ms();
	err = range_alloc_reserve(&s->alloc, data_size, offsets_size, extra_size, is_async,
				  sender_pid, &res);
	if (err)
		return err;
	err = install_pages(s, res.install);
	if (err) {
		range_alloc_release(&s->alloc, res.buffer);
		return -ENOMEM;
	}
	enforce_lru_budget(s->pool);
	*spam_suspect = res.spam_suspect;
	*out = res.buffer;
	return 0;
}

int buffer_space_deliver(struct buffer_space *s, struct range_buffer *rb)
{
	return range_alloc_deliver(&s->alloc, rb);
}

void buffer_space_release(struct buffer_space *s, struct range_buffer *rb)
{
	s->pool->lru.clock = s->pool->now_ms();
	range_alloc_release(&s->alloc, rb);
}

int buffer_space_trim(struct buffer_space *s, struct range_buffer *rb, uint64_t data_size,
		      uint64_t offsets_size, uint64_t extra_size)
{
	s->pool->lru.clock = s->pool->now_ms();
	return range_alloc_trim(&s->alloc, rb, data_size, offsets_size, extra_size);
}

int buffer_space_trim_prepare(struct buffer_space *s)
{
	return range_alloc_trim_prepare(&s->alloc);
}

int buffer_space_clear(struct buffer_space *s, const struct range_buffer *rb)
{
	return region_clear(&s->region, rb->offset, rb->size);
}

int buffer_space_lookup_user(struct buffer_space *s, uint64_t ptr, struct range_buffer **out)
{
	*out = NULL;
	if (!buffer_space_ready(s) || ptr < s->user_base || ptr - s->user_base >= s->region.size)
		return -ENOENT;
	return range_alloc_prepare_user_free(&s->alloc, ptr - s->user_base, out);
}

bool buffer_space_view(const struct buffer_space *s, uint64_t *user_base, uint64_t *size,
		       const uint8_t **mem)
{
	if (!buffer_space_ready(s))
		return false;
	*user_base = s->user_base;
	*size = s->region.size;
	*mem = s->region.base;
	return true;
}

struct range_buffer *buffer_space_first(const struct buffer_space *s)
{
	return buffer_space_exists(s) ? range_alloc_first_buffer(&s->alloc) : NULL;
}

struct range_buffer *buffer_space_next(const struct buffer_space *s, const struct range_buffer *rb)
{
	return range_alloc_next_buffer(&s->alloc, rb);
}

void buffer_space_get_stats(const struct buffer_space *s, struct range_alloc_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (!buffer_space_exists(s))
		return;
	range_alloc_get_stats(&s->alloc, stats);
	stats->pages_active <<= s->weight_shift;
	stats->pages_lru <<= s->weight_shift;
	stats->pages_free <<= s->weight_shift;
	stats->pages_high <<= s->weight_shift;
}

size_t buffer_space_resident_pages(const struct buffer_space *s)
{
	size_t bytes = 0;

	if (buffer_space_exists(s) && region_resident_bytes(&s->region, &bytes) < 0)
		return 0;
	return bytes >> page_geometry_of_machine().shift;
}

size_t buffer_space_punch_inactive(struct buffer_space *s)
{
	struct page_range r;
	struct range_alloc_stats before, after;
	size_t from = 0, punched = 0;

	if (!buffer_space_exists(s))
		return 0;
	buffer_space_get_stats(s, &before);
	while (range_alloc_next_inactive(&s->alloc, from, &r)) {
		if (region_release(&s->region, r.first, r.count) == 0) {
			range_alloc_pages_released(&s->alloc, r);
			punched++;
		}
		from = r.first + r.count;
	}
	buffer_space_get_stats(s, &after);
	/* Only the lru pages among them were installed: free ones were holes. */
	s->pool->installed_pages -= before.pages_lru - after.pages_lru;
	s->pool->stats.pages_reclaimed += before.pages_lru - after.pages_lru;
	s->pool->stats.reclaimed[RECLAIM_ADMIN] += before.pages_lru - after.pages_lru;
	s->reclaimed[RECLAIM_ADMIN] += before.pages_lru - after.pages_lru;
	s->pool->stats.holes_punched += punched;
	return punched;
}

int buffer_space_check(const struct buffer_space *s, char *why, size_t why_len)
{
	return buffer_space_exists(s) ? range_alloc_check(&s->alloc, why, why_len) : 0;
}
