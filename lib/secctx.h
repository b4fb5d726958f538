/* SPDX-License-Identifier: MIT */
/*
 * Internal: the sender's security context of a BR_TRANSACTION_SEC_CTX, for
 * local objects that asked for it (ubinder_binder_set_requesting_sid).
 */
#pragma once

#include <stdint.h>

struct ubinder_context;
struct binder_transaction_data;

/* The longest label taken, terminator included (SELinux caps contexts at a page). */
#define UB_SECCTX_MAX 4096u

/*
 * A copy of the label at @secctx, or NULL if there is none or it is not
 * where the driver puts it: past the transaction's data and offsets, inside
 * the region, NUL-terminated within UB_SECCTX_MAX bytes and the region.
 */
char *secctx_copy(const struct ubinder_context *ctx, const struct binder_transaction_data *tr,
		  uint64_t secctx);
