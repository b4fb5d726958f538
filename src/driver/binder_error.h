/* SPDX-License-Identifier: MIT */
/*
 * How a transaction fails, as the kernel reports it: the BR_ code the
 * sender reads and the errno it finds in BINDER_GET_EXTENDED_ERROR.
 *
 * The driver core's error convention:
 *   - A step of the transaction path that crosses a module boundary
 *     (transaction.c, objects.c, txn_buffer.c) returns a struct
 *     binder_error: .reply is BR_OK on success, else BR_FAILED_REPLY,
 *     BR_DEAD_REPLY or BR_FROZEN_REPLY; .param is 0 or the negative errno
 *     of the extended error. Nothing else carries the outcome: no side
 *     fields, no NULL plus an error pointer.
 *   - The layers below (buffer_space, fetch, the region and the allocator)
 *     and static helpers whose every failure has the same BR code return 0
 *     or a negative errno; the transaction path turns it into a
 *     binder_error at one place each (txn_buffer_alloc, transaction_finish,
 *     objects_translate).
 *   - What the client's ioctl returns (a malformed command stream, a fault
 *     in the write buffer, an interrupted read) is a negative errno, never a
 *     binder_error: those end the BINDER_WRITE_READ itself, while a
 *     binder_error is read by the sender as a BR_ code in the read.
 *   - A function that makes something (driver_thread_attach) returns 0 or a
 *     negative errno, and what it made in an out-parameter (NULL on failure).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/android/binder.h>

struct binder_error {
	uint32_t reply; /* BR_OK, BR_FAILED_REPLY, BR_DEAD_REPLY, BR_FROZEN_REPLY */
	int32_t param;	/* 0 or a negative errno */
};

static inline struct binder_error binder_ok(void)
{
	return (struct binder_error){ BR_OK, 0 };
}

static inline struct binder_error binder_error_of(uint32_t reply, int32_t param)
{
	return (struct binder_error){ reply, param };
}

/* BR_FAILED_REPLY with @param: the sender's mistake or a resource failure. */
static inline struct binder_error binder_failed(int32_t param)
{
	return (struct binder_error){ BR_FAILED_REPLY, param };
}

static inline bool binder_is_ok(struct binder_error e)
{
	return e.reply == BR_OK;
}
