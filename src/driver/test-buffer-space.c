/* SPDX-License-Identifier: MIT */
/* Buffer memory: mapping states, reserve and its failures, lookup, reclaim. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "test-util.h"
#include "driver/buffer_space.h"
#include "region/page.h"

#define NPAGES 4
#define BASE   0x7f0000000000ull

struct fixture {
	struct buffer_pool pool;
	struct buffer_space space;
	size_t page;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.page = PAGE_SIZE;
	buffer_pool_init(&f.pool, 0);
	buffer_space_init(&f.space, &f.pool);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	buffer_space_deinit(&f->space);
	buffer_pool_deinit(&f->pool);
	return 0;
}

/* Creates the region and maps it at BASE: a READY space. */
static void map_ready(struct fixture *f)
{
	int fd = buffer_space_create(&f->space, NPAGES * f->page, "test", 42);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(buffer_space_mapped(&f->space, BASE), 0);
	assert_true(buffer_space_ready(&f->space));
}

static struct range_buffer *reserve(struct fixture *f, size_t data_size, int expect)
{
	struct range_buffer *rb = NULL;
	bool spam = true;

	assert_int_equal(buffer_space_reserve(&f->space, data_size, 8, 0, false, 42, &rb, &spam),
			 expect);
	assert_false(spam);
	if (expect)
		assert_null(rb);
	else
		assert_non_null(rb);
	return rb;
}

static void mapping_states(void **state)
{
	struct fixture *f = *state;
	int fd;

	assert_string_equal(buffer_space_state_name(&f->space), "none");
	assert_false(buffer_space_exists(&f->space));
	assert_false(buffer_space_was_created(&f->space));
	reserve(f, 16, -ESRCH);
	assert_int_equal(buffer_space_mapped(&f->space, BASE), -EINVAL);

	fd = buffer_space_create(&f->space, NPAGES * f->page, "test", 42);
	assert_true(fd >= 0);
	close(fd);
	assert_string_equal(buffer_space_state_name(&f->space), "pending");
	assert_true(buffer_space_exists(&f->space));
	assert_true(buffer_space_was_created(&f->space));
	reserve(f, 16, -ESRCH); /* not mapped by the client yet */
	assert_int_equal(buffer_space_unmapped(&f->space, BASE), -EINVAL);

	assert_int_equal(buffer_space_mapped(&f->space, BASE), 0);
	assert_string_equal(buffer_space_state_name(&f->space), "ready");
	assert_int_equal(buffer_space_mapped(&f->space, BASE), -EINVAL);
	assert_int_equal(buffer_space_unmapped(&f->space, BASE + f->page), -EINVAL);

	assert_int_equal(buffer_space_unmapped(&f->space, BASE), 0);
	assert_string_equal(buffer_space_state_name(&f->space), "unmapped");
	reserve(f, 16, -ESRCH);
	assert_true(buffer_space_exists(&f->space));
}

static void failed_client_mmap_is_undone(void **state)
{
	struct fixture *f = *state;
	int fd = buffer_space_create(&f->space, NPAGES * f->page, "test", 42);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(buffer_space_mapped(&f->space, 0), 0);
	assert_string_equal(buffer_space_state_name(&f->space), "none");
	assert_false(buffer_space_exists(&f->space));
	assert_false(buffer_space_was_created(&f->space));
	map_ready(f); /* a second mmap is allowed again */
}

static void reserve_deliver_lookup_release(void **state)
{
	struct fixture *f = *state;
	struct range_buffer *rb, *found;
	struct range_alloc_stats st;
	uint64_t user, size;
	const uint8_t *mem;
	char why[128];

	map_ready(f);
	rb = reserve(f, 100, 0);
	user = buffer_space_user_addr(&f->space, rb);
	assert_true(user >= BASE && user < BASE + NPAGES * f->page);
	memset(buffer_space_mem(&f->space, rb), 0xab, 100);

	/* Not delivered yet: the reader cannot free it. */
	assert_int_equal(buffer_space_lookup_user(&f->space, user, &found), -EPERM);
	assert_int_equal(buffer_space_deliver(&f->space, rb), 0);
	assert_int_equal(buffer_space_deliver(&f->space, rb), -EPERM);
	assert_int_equal(buffer_space_lookup_user(&f->space, BASE - 1, &found), -ENOENT);
	assert_int_equal(buffer_space_lookup_user(&f->space, BASE + NPAGES * f->page, &found),
			 -ENOENT);
	assert_int_equal(buffer_space_lookup_user(&f->space, user + 8, &found), -ENOENT);
	assert_int_equal(buffer_space_lookup_user(&f->space, user, &found), 0);
	assert_ptr_equal(found, rb);
	/* Being freed: a second BC_FREE_BUFFER for it is refused. */
	assert_int_equal(buffer_space_lookup_user(&f->space, user, &found), -EPERM);

	assert_true(buffer_space_view(&f->space, &user, &size, &mem));
	assert_int_equal(user, BASE);
	assert_int_equal(size, NPAGES * f->page);
	assert_int_equal(mem[rb->offset], 0xab);

	buffer_space_get_stats(&f->space, &st);
	assert_int_equal(st.buffers, 1);
	assert_int_equal(st.pages_active, 1);
	assert_ptr_equal(buffer_space_first(&f->space), rb);
	assert_null(buffer_space_next(&f->space, rb));

	buffer_space_release(&f->space, rb);
	buffer_space_get_stats(&f->space, &st);
	assert_int_equal(st.buffers, 0);
	assert_int_equal(st.pages_lru, 1);
	assert_int_equal(buffer_pool_lru_pages(&f->pool), 1);
	assert_int_equal(f->pool.stats.pages_installed, 1);
	assert_int_equal(buffer_space_check(&f->space, why, sizeof(why)), 0);
}

static void clear_zeroes_the_buffer(void **state)
{
	struct fixture *f = *state;
	struct range_buffer *rb;
	const uint8_t *mem;

	map_ready(f);
	rb = reserve(f, 64, 0);
	memset(buffer_space_mem(&f->space, rb), 0xff, rb->size);
	assert_int_equal(buffer_space_clear(&f->space, rb), 0);
	mem = buffer_space_mem(&f->space, rb);
	for (size_t i = 0; i < rb->size; i++)
		assert_int_equal(mem[i], 0);
	buffer_space_release(&f->space, rb);
}

static void too_large_and_overflowing_sizes(void **state)
{
	struct fixture *f = *state;
	struct range_buffer *rb;
	bool spam;

	map_ready(f);
	reserve(f, NPAGES * f->page, -ENOSPC);
	assert_int_equal(
		buffer_space_reserve(&f->space, UINT64_MAX - 3, 8, 0, false, 42, &rb, &spam),
		-EINVAL);
}

static void install_failure_shrinks_and_retries_once(void **state)
{
	struct fixture *f = *state;
	struct range_buffer *rb;

	map_ready(f);
	/* One failed install: the retry after the shrink succeeds. */
	region_inject_install_fault(1, 0, ENOMEM);
	rb = reserve(f, 16, 0);
	assert_int_equal(f->pool.stats.install_failures, 1);
	assert_int_equal(f->pool.stats.shrink_on_install_failure, 1);
	buffer_space_release(&f->space, rb);
	/* Both attempts fail: -ENOMEM, nothing reserved. */
	region_inject_install_faults(1, 2, 0, ENOMEM);
	reserve(f, f->page + 16, -ENOMEM);
	assert_int_equal(f->pool.stats.install_failures, 3);
	region_inject_install_fault(0, 0, 0);
	assert_null(buffer_space_first(&f->space));
}

static void lru_budget_shrink_and_punch(void **state)
{
	struct fixture *f = *state;
	struct range_buffer *rb;

	map_ready(f);
	rb = reserve(f, 3 * f->page - 64, 0);
	buffer_space_release(&f->space, rb);
	assert_int_equal(buffer_pool_lru_pages(&f->pool), 3);

	/* A budget of one lru page is enforced at the next reserve. */
	f->pool.max_lru_pages = 1;
	rb = reserve(f, 16, 0);
	assert_true(buffer_pool_lru_pages(&f->pool) <= 1);
	assert_true(f->pool.stats.pages_reclaimed >= 1);
	buffer_space_release(&f->space, rb);

	assert_true(buffer_pool_shrink(&f->pool, SIZE_MAX, RECLAIM_ADMIN) >= 1);
	assert_int_equal(buffer_pool_lru_pages(&f->pool), 0);
	/* Every non-active range is punched: the whole region is one. */
	assert_int_equal(buffer_space_punch_inactive(&f->space), 1);
	assert_int_equal(f->pool.stats.holes_punched, 1);
}

/* The region's resident pages, measured from the memfd (st_blocks). */
/* Base pages resident in the region, measured from the memfd. */
static size_t resident(struct fixture *f)
{
	size_t bytes = SIZE_MAX;

	assert_int_equal(region_resident_bytes(&f->space.region, &bytes), 0);
	return bytes / f->page;
}

static void installed_cap_reclaims_lru_then_fails(void **state)
{
	struct fixture *f = *state;
	struct range_buffer *a, *b, *c;

	map_ready(f);
	f->pool.max_installed_pages = 2;
	a = reserve(f, f->page - 8, 0); /* page 0 */
	b = reserve(f, f->page - 8, 0); /* page 1 */
	assert_int_equal(f->pool.installed_pages, 2);
	/* Nothing on the LRU to give back: the cap refuses a third page. */
	reserve(f, f->page - 8, -ENOMEM);
	assert_int_equal(f->pool.stats.budget_failures, 1);
	assert_int_equal(f->pool.installed_pages, 2);
	assert_int_equal(resident(f), 2);

	/* Page 0 goes to the LRU; two new pages need one of it back. */
	buffer_space_release(&f->space, a);
	f->pool.max_installed_pages = 3;
	c = reserve(f, 2 * f->page - 8, 0); /* pages 2 and 3 */
	assert_int_equal(f->pool.stats.reclaimed[RECLAIM_BUDGET], 1);
	assert_int_equal(f->space.reclaimed[RECLAIM_BUDGET], 1);
	assert_int_equal(f->pool.installed_pages, 3);
	assert_int_equal(resident(f), 3);
	buffer_space_release(&f->space, b);
	buffer_space_release(&f->space, c);
	assert_int_equal(f->pool.installed_pages, 3);
	assert_int_equal(buffer_pool_shrink(&f->pool, SIZE_MAX, RECLAIM_ADMIN), 3);
	assert_int_equal(f->pool.stats.reclaimed[RECLAIM_ADMIN], 3);
	assert_int_equal(f->pool.installed_pages, 0);
	assert_int_equal(resident(f), 0);
}

/*
 * A pool of 2 MiB pages: a region they tile takes them (counted in base
 * pages everywhere: stats, the installed count, the cap, reclaim), a region
 * they do not tile keeps base pages, and reclaim gives back whole huge pages.
 */
static void huge_pages_count_in_base_pages(void **state)
{
	struct fixture *f = *state;
	struct buffer_space small;
	struct range_alloc_stats st;
	struct range_buffer *a, *b;
	size_t per = (2 << 20) / f->page; /* base pages in a huge page */
	int fd;

	f->pool.huge.shift = 21;
	fd = buffer_space_create(&f->space, 4 << 20, "test", 42);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(buffer_space_mapped(&f->space, BASE), 0);
	assert_int_equal(buffer_space_page_size(&f->space), 2 << 20);
	buffer_space_init(&small, &f->pool);
	fd = buffer_space_create(&small, 1 << 20, "test", 43);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(buffer_space_page_size(&small), f->page);
	assert_int_equal(f->pool.huge_regions, 1);
	assert_int_equal(f->pool.base_regions, 1);

	/* 1 MiB: one huge page installed, all of it resident. */
	a = reserve(f, 1 << 20, 0);
	assert_int_equal(f->pool.installed_pages, per);
	assert_int_equal(f->pool.stats.pages_installed, per);
	assert_int_equal(resident(f), per);
	buffer_space_get_stats(&f->space, &st);
	assert_int_equal(st.pages_active, per);
	assert_int_equal(st.pages_free, per);
	/* The cap counts base pages: a second huge page does not fit under
	 * 1.5 huge pages while the first is active. */
	f->pool.max_installed_pages = per + per / 2;
	b = reserve(f, (1 << 20) + 1024 * 1024, -ENOMEM);
	assert_null(b);
	assert_int_equal(f->pool.stats.budget_failures, 1);
	f->pool.max_installed_pages = 0;
	buffer_space_release(&f->space, a);
	assert_int_equal(buffer_pool_lru_pages(&f->pool), per);
	/* One base page wanted: the whole huge page goes. */
	assert_int_equal(buffer_pool_shrink(&f->pool, 1, RECLAIM_PRESSURE), per);
	assert_int_equal(f->pool.stats.reclaimed[RECLAIM_PRESSURE], per);
	assert_int_equal(f->space.reclaimed[RECLAIM_PRESSURE], per);
	assert_int_equal(f->pool.installed_pages, 0);
	assert_int_equal(resident(f), 0);
	buffer_space_deinit(&small);
}

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void decay_releases_pages_unused_long_enough(void **state)
{
	struct fixture *f = *state;
	struct range_buffer *a, *b;

	map_ready(f);
	f->pool.now_ms = fake_clock;
	f->pool.decay_ms = 1000;
	fake_now = 0;
	a = reserve(f, f->page - 8, 0);
	b = reserve(f, f->page - 8, 0);
	assert_int_equal(buffer_pool_next_decay(&f->pool), UINT64_MAX);
	fake_now = 100;
	buffer_space_release(&f->space, a);
	fake_now = 600;
	buffer_space_release(&f->space, b);
	assert_int_equal(buffer_pool_next_decay(&f->pool), 1100);

	assert_int_equal(buffer_pool_decay(&f->pool, 1099), 0);
	assert_int_equal(buffer_pool_decay(&f->pool, 1100), 1);
	assert_int_equal(resident(f), 1);
	assert_int_equal(buffer_pool_next_decay(&f->pool), 1600);
	assert_int_equal(buffer_pool_decay(&f->pool, 5000), 1);
	assert_int_equal(buffer_pool_next_decay(&f->pool), UINT64_MAX);
	assert_int_equal(f->pool.stats.reclaimed[RECLAIM_DECAY], 2);
	assert_int_equal(f->space.reclaimed[RECLAIM_DECAY], 2);
	assert_int_equal(f->pool.installed_pages, 0);
	assert_int_equal(resident(f), 0);

	/* Decay off: nothing decays, however old. */
	a = reserve(f, 16, 0);
	buffer_space_release(&f->space, a);
	f->pool.decay_ms = 0;
	assert_int_equal(buffer_pool_next_decay(&f->pool), UINT64_MAX);
	assert_int_equal(buffer_pool_decay(&f->pool, UINT64_MAX / 2), 0);
	assert_int_equal(buffer_pool_lru_pages(&f->pool), 1);
}

/* A cgroup whose usage, as read, moves in whole charge batches of 64 pages
 * (the kernel's per-CPU charge stock), with a limit of @limit pages. */
struct batched_cgroup {
	const struct buffer_pool *pool;
	size_t limit;
};

static size_t batched_headroom(void *ctx, size_t wanted)
{
	const struct batched_cgroup *cg = ctx;
	size_t usage = (cg->pool->installed_pages + 63) / 64 * 64;

	(void)wanted;
	return usage < cg->limit ? cg->limit - usage : 0;
}

static void cgroup_room_survives_batched_usage(void **state)
{
	struct fixture *f = *state;
	struct batched_cgroup cg = { .pool = &f->pool, .limit = 192 };
	struct buffer_space other;
	struct range_buffer *big, *one = NULL;
	bool spam;
	int fd;

	/* 130 unused pages in one region... */
	fd = buffer_space_create(&f->space, 256 * f->page, "test", 42);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(buffer_space_mapped(&f->space, BASE), 0);
	big = reserve(f, 130 * f->page - 8, 0);
	buffer_space_release(&f->space, big);
	assert_int_equal(buffer_pool_lru_pages(&f->pool), 130);

	/* ...and a fresh page wanted in another, with usage read as 192 of 192:
	 * giving back the one page missing would not show, a batch does. */
	buffer_space_init(&other, &f->pool);
	fd = buffer_space_create(&other, 4 * f->page, "other", 43);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(buffer_space_mapped(&other, BASE + 256 * f->page), 0);
	f->pool.headroom = batched_headroom;
	f->pool.headroom_ctx = &cg;
	assert_int_equal(buffer_space_reserve(&other, 16, 8, 0, false, 42, &one, &spam), 0);
	assert_true(f->pool.stats.reclaimed[RECLAIM_LIMIT] >= 64);
	assert_int_equal(f->pool.stats.limit_failures, 0);
	buffer_space_release(&other, one);

	/* No lru page left and no room: the reservation fails, nothing stays. */
	cg.limit = 0;
	buffer_pool_shrink(&f->pool, SIZE_MAX, RECLAIM_ADMIN);
	assert_int_equal(buffer_space_reserve(&other, 16, 8, 0, false, 42, &one, &spam), -ENOMEM);
	assert_null(one);
	assert_int_equal(f->pool.stats.limit_failures, 1);
	assert_int_equal(f->pool.installed_pages, 0);
	buffer_space_deinit(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(mapping_states, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_client_mmap_is_undone, setup, teardown),
		cmocka_unit_test_setup_teardown(reserve_deliver_lookup_release, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_zeroes_the_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(too_large_and_overflowing_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(install_failure_shrinks_and_retries_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(lru_budget_shrink_and_punch, setup, teardown),
		cmocka_unit_test_setup_teardown(installed_cap_reclaims_lru_then_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(decay_releases_pages_unused_long_enough, setup,
						teardown),
		cmocka_unit_test_setup_teardown(huge_pages_count_in_base_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(cgroup_room_survives_batched_usage, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
