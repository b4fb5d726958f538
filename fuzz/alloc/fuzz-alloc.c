/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the fuzz bytes are an operation stream for the reference
 * model check of alloc_model.h (two regions on one LRU, every operation of
 * the allocator). Any discrepancy aborts with its description.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc/alloc_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512];

	if (alloc_model_run(data, size, why, sizeof(why)) != 0) {
		fprintf(stderr, "allocator differs from the model: %s\n", why);
		abort();
	}
	return 0;
}
