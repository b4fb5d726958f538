/* SPDX-License-Identifier: MIT */
/* Drives a daemon-less driver core with operations decoded from bytes (op_harness.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Runs the operations @data encodes; aborts on any broken invariant or leak. */
int op_harness_run(const uint8_t *data, size_t size);
