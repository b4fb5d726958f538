/* SPDX-License-Identifier: MIT */
/*
 * Security-context addresses from the driver, good and hostile: a label is
 * taken only from past the transaction's data and offsets, inside the
 * region, NUL-terminated within bounds.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/android/binder.h>

#include "internal.h"
#include "test-util.h"

#define REGION 256u

static uint8_t region[REGION] __attribute__((aligned(8)));

static struct ubinder_context *fake_ctx(void)
{
	static struct ubinder_context ctx;

	ctx.map = region;
	ctx.map_size = REGION;
	return &ctx;
}

/* A transaction of 20 bytes of data and one offset at the region's start. */
static struct binder_transaction_data txn(void)
{
	struct binder_transaction_data tr = { .data_size = 20, .offsets_size = 8 };

	tr.data.ptr.buffer = (uintptr_t)region;
	tr.data.ptr.offsets = (uintptr_t)region + 24;
	return tr;
}

static uint64_t at(size_t off)
{
	return (uint64_t)(uintptr_t)region + off;
}

static void test_label_where_the_driver_puts_it(void **state)
{
	struct binder_transaction_data tr = txn();
	char *sid;

	(void)state;
	memset(region, 'x', sizeof(region));
	memcpy(region + 32, "ubinder:unlabeled", 18);
	sid = secctx_copy(fake_ctx(), &tr, at(32));
	assert_non_null(sid);
	assert_string_equal(sid, "ubinder:unlabeled");
	free(sid);
	/* The last byte of the region, empty. */
	region[REGION - 1] = '\0';
	sid = secctx_copy(fake_ctx(), &tr, at(REGION - 1));
	assert_non_null(sid);
	assert_string_equal(sid, "");
	free(sid);
}

static void test_hostile_addresses(void **state)
{
	struct binder_transaction_data tr = txn();
	struct binder_transaction_data wrap = txn();

	(void)state;
	memset(region, 0, sizeof(region));
	assert_null(secctx_copy(fake_ctx(), &tr, 0));
	/* Inside the data, inside the offsets. */
	assert_null(secctx_copy(fake_ctx(), &tr, at(0)));
	assert_null(secctx_copy(fake_ctx(), &tr, at(28)));
	/* Past the region, before it, far away. */
	assert_null(secctx_copy(fake_ctx(), &tr, at(REGION)));
	assert_null(secctx_copy(fake_ctx(), &tr, at(0) - 1));
	assert_null(secctx_copy(fake_ctx(), &tr, UINT64_MAX));
	/* Sizes that wrap the address space. */
	wrap.data_size = UINT64_MAX - 4;
	assert_null(secctx_copy(fake_ctx(), &wrap, at(32)));
	/* No terminator before the region ends. */
	memset(region + 32, 'y', REGION - 32);
	assert_null(secctx_copy(fake_ctx(), &tr, at(32)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_where_the_driver_puts_it),
		cmocka_unit_test(test_hostile_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
