/* SPDX-License-Identifier: MIT */
/*
 * Weak binders in received parcels, hostile ones included: each kind is
 * resolved through the receiver (weak ones as weak), a weak binder is no
 * strong one (UBINDER_ERR_BAD_TYPE, as libbinder's readStrongBinder), one
 * that cannot be resolved (unknown to us, forged) reads as
 * UBINDER_ERR_NO_INIT, and truncated or overlapping ones make the parcel
 * unreadable. Nothing moves the position on failure.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/android/binder.h>

#include "internal.h"
#include "test-util.h"

struct recording_receiver {
	struct parcel_receiver rx;
	uint32_t resolved[4];
	size_t nresolved;
};

static struct ubinder_binder *record_resolve(const struct parcel_receiver *rx,
					     const struct flat_binder_object *obj)
{
	struct recording_receiver *r = (struct recording_receiver *)rx;

	if (r->nresolved < 4)
		r->resolved[r->nresolved++] = obj->hdr.type;
	return NULL; /* nothing known: as a handle or node the daemon never gave */
}

static void test_weak_kinds_are_resolved_weakly(void **state)
{
	struct flat_binder_object objs[3] = {
		{ .hdr.type = BINDER_TYPE_WEAK_HANDLE, .handle = 7 },
		{ .hdr.type = BINDER_TYPE_WEAK_BINDER, .binder = 0x99, .cookie = 0x99 },
		{ .hdr.type = BINDER_TYPE_WEAK_BINDER }, /* null: nothing to resolve */
	};
	uint64_t offsets[3] = { 0, sizeof(objs[0]), 2 * sizeof(objs[0]) };
	struct recording_receiver r = { .rx = { .resolve = record_resolve } };
	ubinder_parcel *p;
	ubinder_weak *w = (ubinder_weak *)&r; /* must stay untouched */
	ubinder_binder *b = (ubinder_binder *)&r;

	(void)state;
	p = parcel_new_received(objs, sizeof(objs), offsets, 3, &r.rx);
	assert_non_null(p);
	assert_int_equal(r.nresolved, 2);
	assert_int_equal(r.resolved[0], BINDER_TYPE_WEAK_HANDLE);
	assert_int_equal(r.resolved[1], BINDER_TYPE_WEAK_BINDER);
	/* Not a strong binder, whatever the parcel's format. */
	assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_BAD_TYPE);
	ubinder_parcel_set_stability_word(p, false);
	assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_BAD_TYPE);
	assert_ptr_equal(b, &r);
	/* Unresolved: unknown here. */
	assert_int_equal(ubinder_parcel_read_weak_binder(p, &w), UBINDER_ERR_NO_INIT);
	assert_ptr_equal(w, &r);
	assert_int_equal(ubinder_parcel_get_position(p), 0);
	assert_int_equal(ubinder_parcel_read_weak_binder(p, NULL), UBINDER_ERR_BAD_VALUE);
	ubinder_parcel_free(p);
}

static void test_strong_and_null_read_as_weak(void **state)
{
	/* A null binder and its stability word, then a null weak one. */
	struct __attribute__((packed)) {
		struct flat_binder_object null_strong;
		int32_t stability;
		struct flat_binder_object null_weak;
		struct flat_binder_object forged; /* a node that is not ours */
	} data = { .null_strong = { .hdr.type = BINDER_TYPE_BINDER },
		   .null_weak = { .hdr.type = BINDER_TYPE_WEAK_BINDER },
		   .forged = { .hdr.type = BINDER_TYPE_WEAK_BINDER, .binder = 0x42 } };
	uint64_t offsets[2] = { offsetof(typeof(data), null_weak), offsetof(typeof(data), forged) };
	ubinder_parcel *p = parcel_new_received(&data, sizeof(data), offsets, 2, NULL);
	ubinder_weak *w = (ubinder_weak *)&data;

	(void)state;
	assert_non_null(p);
	assert_int_equal(ubinder_parcel_read_weak_binder(p, &w), 0);
	assert_null(w);
	assert_int_equal(ubinder_parcel_get_position(p), sizeof(data.null_strong) + 4);
	/* A null weak object is a null binder too. */
	w = (ubinder_weak *)&data;
	assert_int_equal(ubinder_parcel_read_weak_binder(p, &w), 0);
	assert_null(w);
	/* A node nobody resolved: unknown here. */
	assert_int_equal(ubinder_parcel_read_weak_binder(p, &w), UBINDER_ERR_NO_INIT);
	assert_int_equal(ubinder_parcel_get_position(p), offsetof(typeof(data), forged));
	ubinder_parcel_free(p);
}

static void test_hostile_weak_objects(void **state)
{
	struct flat_binder_object objs[2] = {
		{ .hdr.type = BINDER_TYPE_WEAK_HANDLE, .handle = 1 },
		{ .hdr.type = BINDER_TYPE_WEAK_BINDER, .binder = 5, .cookie = 6 },
	};
	uint64_t overlapping[2] = { 0, 8 };
	uint64_t truncated[1] = { sizeof(objs) - 8 };
	struct recording_receiver r = { .rx = { .resolve = record_resolve } };
	ubinder_weak *w = NULL;
	ubinder_parcel *p;

	(void)state;
	p = parcel_new_received(objs, sizeof(objs), overlapping, 2, &r.rx);
	assert_non_null(p);
	assert_int_equal(ubinder_parcel_read_weak_binder(p, &w), UBINDER_ERR_BAD_PARCEL);
	ubinder_parcel_free(p);
	p = parcel_new_received(objs, sizeof(objs), truncated, 1, NULL);
	assert_non_null(p);
	assert_int_equal(ubinder_parcel_read_weak_binder(p, &w), UBINDER_ERR_BAD_PARCEL);
	ubinder_parcel_free(p);
	/* A weak object where plain data was written reads as data, not as an object. */
	p = parcel_new_received(objs, sizeof(objs), NULL, 0, NULL);
	assert_non_null(p);
	assert_int_equal(ubinder_parcel_read_weak_binder(p, &w), UBINDER_ERR_BAD_TYPE);
	assert_null(w);
	ubinder_parcel_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weak_kinds_are_resolved_weakly),
		cmocka_unit_test(test_strong_and_null_read_as_weak),
		cmocka_unit_test(test_hostile_weak_objects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
