/* SPDX-License-Identifier: MIT */
/*
 * The outbox's page allocator over shared page states: it hands out whole
 * free pages first fit, marks them USED in the states the daemon reads,
 * frees them as FREE, passes over any page another writer of the states
 * (the daemon giving it back, a lying client) left in another state,
 * never gives out the state pages, and leaves a retired mapping alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/outbox_pages.h"
#include "common/outbox_space.h"
#include "test-util.h"

#define PAGE  4096u
#define PAGES 16u /* one state page, 15 to hand out */

static uint8_t *new_box(void)
{
	uint8_t *box = aligned_alloc(PAGE, PAGES * PAGE);

	assert_non_null(box);
	memset(box, 0, PAGES * PAGE); /* all HOLE, as a new outbox */
	return box;
}

static void pages_are_taken_and_freed_in_the_states(void **state)
{
	uint8_t *box = new_box();
	struct outbox_space *sp = outbox_space_new(box, PAGES * PAGE, PAGE);
	size_t got = 0, got2 = 0;
	uint8_t *a, *b;

	(void)state;
	assert_non_null(sp);
	assert_int_equal(box[0], OUTBOX_PAGE_USED); /* the state page, for good */
	a = outbox_space_take(sp, PAGE + 1, &got);
	assert_ptr_equal(a, box + PAGE);
	assert_int_equal(got, 2 * PAGE);
	assert_int_equal(box[1], OUTBOX_PAGE_USED);
	assert_int_equal(box[2], OUTBOX_PAGE_USED);
	assert_int_equal(box[3], OUTBOX_PAGE_HOLE);
	b = outbox_space_take(sp, PAGE, &got2);
	assert_ptr_equal(b, box + 3 * PAGE);
	outbox_space_give(sp, a, got);
	assert_int_equal(box[1], OUTBOX_PAGE_FREE);
	assert_int_equal(box[2], OUTBOX_PAGE_FREE);
	/* Freed pages are taken again, first fit. */
	assert_ptr_equal(outbox_space_take(sp, PAGE, &got), box + PAGE);
	/* More than is left: nothing. */
	assert_null(outbox_space_take(sp, PAGES * PAGE, &got));
	assert_null(outbox_space_take(sp, 13 * PAGE, &got));
	assert_ptr_equal(outbox_space_take(sp, 12 * PAGE, &got), box + 4 * PAGE);
	outbox_space_delete(sp);
	free(box);
}

static void pages_in_other_states_are_passed_over(void **state)
{
	uint8_t *box = new_box();
	struct outbox_space *sp = outbox_space_new(box, PAGES * PAGE, PAGE);
	size_t got = 0;
	uint8_t *p;

	(void)state;
	assert_non_null(sp);
	box[2] = OUTBOX_PAGE_RECLAIMING; /* the daemon is giving it back */
	box[5] = 0x7f;			 /* garbage a client wrote */
	p = outbox_space_take(sp, 2 * PAGE, &got);
	assert_ptr_equal(p, box + 3 * PAGE); /* pages 3 and 4 */
	/* The run that met page 2 gave page 1 back (FREE, not left USED). */
	assert_int_equal(box[1], OUTBOX_PAGE_FREE);
	assert_int_equal(box[2], OUTBOX_PAGE_RECLAIMING);
	p = outbox_space_take(sp, 3 * PAGE, &got);
	assert_ptr_equal(p, box + 6 * PAGE);
	assert_int_equal(box[5], 0x7f);
	/* Page 1 alone is still free. */
	assert_ptr_equal(outbox_space_take(sp, PAGE, &got), box + PAGE);
	outbox_space_delete(sp);
	free(box);
}

/* A retired space (its mapping going away) hands out nothing, and pages
 * taken before are given back without touching the mapping. */
static void a_retired_space_never_touches_its_mapping(void **state)
{
	uint8_t *box = new_box();
	struct outbox_space *sp = outbox_space_new(box, PAGES * PAGE, PAGE);
	size_t got = 0, unused = 0;
	uint8_t *p;

	(void)state;
	assert_non_null(sp);
	p = outbox_space_take(sp, PAGE, &got);
	assert_ptr_equal(p, box + PAGE);
	outbox_space_retire(sp);
	memset(box, 0x55, PAGES * PAGE); /* whatever the address holds now */
	assert_null(outbox_space_take(sp, PAGE, &unused));
	outbox_space_give(sp, p, got);
	for (size_t i = 0; i < PAGES * PAGE; i++)
		assert_int_equal(box[i], 0x55);
	outbox_space_delete(sp);
	free(box);
}

static void an_outbox_of_state_pages_only_has_no_space(void **state)
{
	uint8_t *box = new_box();

	(void)state;
	assert_null(outbox_space_new(box, PAGE, PAGE));
	free(box);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pages_are_taken_and_freed_in_the_states),
		cmocka_unit_test(pages_in_other_states_are_passed_over),
		cmocka_unit_test(a_retired_space_never_touches_its_mapping),
		cmocka_unit_test(an_outbox_of_state_pages_only_has_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
