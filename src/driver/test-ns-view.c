/* SPDX-License-Identifier: MIT */
/* Sender identity as seen from other pid and user namespaces. */
#include "test-util.h"
#include "driver/driver.h"

static void same_namespace_needs_no_translation(void **state)
{
	struct ns_view none = { 0 };

	(void)state;
	assert_int_equal(ns_view_pid(&none, 1234, &none), 1234);
	assert_int_equal(ns_view_uid(&none, 1000), 1000);
}

static void pid_namespaces(void **state)
{
	/* root (ino 1) > container (ino 2) > nested (ino 3) */
	struct ns_view in_container = { .pidns = { 1, 2 }, .nspid = { 500, 7 }, .levels = 2 };
	struct ns_view in_nested = { .pidns = { 1, 2, 3 }, .nspid = { 600, 9, 1 }, .levels = 3 };
	struct ns_view sibling = { .pidns = { 1, 4 }, .nspid = { 700, 1 }, .levels = 2 };
	struct ns_view root = { 0 };
	struct ns_view root_explicit = { .pidns = { 1 }, .nspid = { 42 }, .levels = 1 };

	(void)state;
	/* Readers in the daemon's namespace see daemon pids. */
	assert_int_equal(ns_view_pid(&in_container, 500, &root), 500);
	/* A container sees its own members by their container pid. */
	assert_int_equal(ns_view_pid(&in_nested, 600, &in_container), 9);
	assert_int_equal(ns_view_pid(&in_container, 500, &in_container), 7);
	/* Nobody outside one's namespace tree is visible: 0, as the kernel says. */
	assert_int_equal(ns_view_pid(&in_container, 500, &in_nested), 0);
	assert_int_equal(ns_view_pid(&root, 42, &in_container), 0);
	assert_int_equal(ns_view_pid(&root_explicit, 42, &in_container), 0);
	assert_int_equal(ns_view_pid(&in_container, 500, &sibling), 0);
}

static void uid_maps(void **state)
{
	struct ns_view userns = { .uid_map = { { 0, 100000, 65536 }, { 65536, 5000, 1 } },
				  .nuid_map = 2 };

	(void)state;
	assert_int_equal(ns_view_uid(&userns, 100000), 0);
	assert_int_equal(ns_view_uid(&userns, 101000), 1000);
	assert_int_equal(ns_view_uid(&userns, 5000), 65536);
	assert_int_equal(ns_view_uid(&userns, 0), 65534); /* unmapped: overflow uid */
	assert_int_equal(ns_view_uid(&userns, 165536), 65534);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_namespace_needs_no_translation),
		cmocka_unit_test(pid_namespaces),
		cmocka_unit_test(uid_maps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
