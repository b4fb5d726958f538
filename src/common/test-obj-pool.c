/* SPDX-License-Identifier: MIT */
/*
 * The object pool: every get is zeroed whatever the block held; a pool
 * never keeps more than its cap; a block given back is the next one taken
 * (so the hot path reuses a block still in the cache); after deinit it
 * keeps nothing. Checked against a model over random sequences of gets and
 * puts. Under ASan it keeps nothing at all, so a use after a put is caught.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "common/obj_pool.h"
#include "test-util.h"

#define SIZE 200
#define CAP  8

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void get_is_zeroed_and_reuses_the_last_put(void **state)
{
	struct obj_pool p;
	unsigned char *a, *b;

	(void)state;
	obj_pool_init(&p, SIZE, CAP);
	a = obj_pool_get(&p);
	assert_non_null(a);
	assert_true(all_zero(a, SIZE));
	memset(a, 0xa5, SIZE);
	obj_pool_put(&p, a);
	b = obj_pool_get(&p);
	assert_non_null(b);
	assert_true(all_zero(b, SIZE));
	if (OBJ_POOL_KEEPS)
		assert_ptr_equal(a, b);
	assert_int_equal(p.count, 0);
	obj_pool_put(&p, b);
	obj_pool_put(&p, NULL); /* nothing */
	assert_int_equal(p.count, OBJ_POOL_KEEPS ? 1 : 0);
	obj_pool_deinit(&p);
	assert_int_equal(p.count, 0);
	assert_null(p.free);
}

static void a_tiny_size_still_holds_the_link(void **state)
{
	struct obj_pool p;
	void *a;

	(void)state;
	obj_pool_init(&p, 1, CAP);
	assert_true(p.size >= sizeof(struct obj_pool_block));
	a = obj_pool_get(&p);
	assert_non_null(a);
	obj_pool_put(&p, a);
	a = obj_pool_get(&p);
	assert_non_null(a);
	obj_pool_put(&p, a);
	obj_pool_deinit(&p);
}

/* Random gets and puts against a model: the count, the cap, zeroing. */
static void random_sequences_follow_the_model(void **state)
{
	enum {
		LIVE_MAX = 3 * CAP,
		STEPS = 20000
	};
	unsigned char *live[LIVE_MAX];
	size_t nlive = 0;
	unsigned int kept = 0;
	struct obj_pool p;

	(void)state;
	srand(12);
	obj_pool_init(&p, SIZE, CAP);
	for (int step = 0; step < STEPS; step++) {
		bool get = nlive == 0 || (nlive < LIVE_MAX && rand() % 2);

		if (get) {
			unsigned char *b = obj_pool_get(&p);

			assert_non_null(b);
			assert_true(all_zero(b, SIZE));
			memset(b, step & 0xff ? step & 0xff : 1, SIZE);
			live[nlive++] = b;
			if (kept)
				kept--;
		} else {
			size_t i = (size_t)rand() % nlive;

			obj_pool_put(&p, live[i]);
			live[i] = live[--nlive];
			if (OBJ_POOL_KEEPS && kept < CAP)
				kept++;
		}
		assert_int_equal(p.count, kept);
		assert_true(p.count <= CAP);
	}
	while (nlive)
		obj_pool_put(&p, live[--nlive]);
	obj_pool_deinit(&p);
	/* After deinit a put frees at once. */
	obj_pool_put(&p, obj_pool_get(&p));
	assert_int_equal(p.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_is_zeroed_and_reuses_the_last_put),
		cmocka_unit_test(a_tiny_size_still_holds_the_link),
		cmocka_unit_test(random_sequences_follow_the_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
