/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the driver core driven by operation streams decoded from
 * the fuzz input (tests/driver/op_harness.c): command streams, transactions
 * with objects, descriptors, reference counts, death notifications, ioctls,
 * thread and process deaths. Aborts on any broken invariant or leak.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "op_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_threshold = LOG_LEVEL_ERROR;
	return op_harness_run(data, size);
}
