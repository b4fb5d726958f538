/* SPDX-License-Identifier: MIT */
/*
 * Seeded random operation streams against the driver core (op_harness.c):
 * the same checks as the fuzz target, deterministic, in every build.
 */
#include <stdlib.h>

#include "test-util.h"
#include "common/log.h"
#include "op_harness.h"

static uint64_t next(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void random_streams(void **state)
{
	uint8_t input[4096];

	(void)state;
	for (uint64_t seed = 1; seed <= 400; seed++) {
		uint64_t s = seed * 0x9e3779b97f4a7c15ull;
		size_t len = 64 + next(&s) % (sizeof(input) - 64);

		for (size_t i = 0; i < len; i++)
			input[i] = (uint8_t)next(&s);
		op_harness_run(input, len);
	}
}

/* Mostly transactions and reads, so that calls get answered and buffers freed. */
static void call_heavy_streams(void **state)
{
	static const uint8_t ops[] = { 0, 1, 1, 6, 7, 3, 6, 7, 8, 4 };
	uint8_t input[4096];

	(void)state;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t s = seed * 0xbf58476d1ce4e5b9ull;
		size_t len = 0;

		while (len + 64 < sizeof(input)) {
			input[len++] = ops[next(&s) % sizeof(ops)];
			for (int i = 0; i < 12; i++)
				input[len++] = (uint8_t)next(&s);
		}
		op_harness_run(input, len);
	}
}

int main(void)
{
	log_threshold = LOG_LEVEL_ERROR; /* the streams are full of bad commands */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_streams),
		cmocka_unit_test(call_heavy_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
