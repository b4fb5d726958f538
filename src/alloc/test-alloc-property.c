/* SPDX-License-Identifier: MIT */
/*
 * Property test: random operation streams from fixed seeds, each checked step
 * by step against the reference model (alloc_model.h). A failure names its
 * seed; the same bytes replay it, also through the fuzz target.
 */
#include <stdint.h>
#include <stdlib.h>

#include "test-alloc-util.h"
#include "alloc/alloc_model.h"

#define SEEDS	     400u
#define STREAM_BYTES 16384u

static void fill(uint8_t *bytes, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = splitmix64(&seed);

		memcpy(bytes + i, &v, n - i < 8 ? n - i : 8);
	}
}

static void random_streams_match_the_model(void **state)
{
	uint8_t *bytes = malloc(STREAM_BYTES);
	char why[512];

	(void)state;
	assert_non_null(bytes);
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		/* Vary the length too, so that streams end in every state. */
		size_t n = STREAM_BYTES - (size_t)(seed * 37 % 4096);

		fill(bytes, n, seed);
		if (alloc_model_run(bytes, n, why, sizeof(why)) != 0) {
			free(bytes);
			fail_msg("seed %llu: %s", (unsigned long long)seed, why);
		}
	}
	free(bytes);
}

/* Streams biased towards reserves of small buffers: full regions, async pressure, spam. */
static void reserve_heavy_streams_match_the_model(void **state)
{
	uint8_t *bytes = malloc(STREAM_BYTES);
	char why[512];

	(void)state;
	assert_non_null(bytes);
	for (uint64_t seed = 1; seed <= SEEDS / 2; seed++) {
		fill(bytes, STREAM_BYTES, seed * 7919);
		/* Every other op byte becomes a reserve (0..5) of small size class. */
		for (size_t i = 1; i + 2 < STREAM_BYTES; i += 16) {
			bytes[i] = (uint8_t)(bytes[i] & 0xf0) | (bytes[i] % 6);
			bytes[i + 1] = (uint8_t)(1 + bytes[i + 1] % 2);
		}
		if (alloc_model_run(bytes, STREAM_BYTES, why, sizeof(why)) != 0) {
			free(bytes);
			fail_msg("heavy seed %llu: %s", (unsigned long long)seed, why);
		}
	}
	free(bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_streams_match_the_model),
		cmocka_unit_test(reserve_heavy_streams_match_the_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
