/* SPDX-License-Identifier: MIT */
/*
 * Security contexts of incoming transactions. The driver writes the label
 * at the end of the transaction's buffer, after its data, offsets and extra
 * buffers, 8-aligned (the kernel's binder_transaction; ubinderd's
 * write_security_context), and passes its address. The daemon is trusted,
 * but the address is still checked against the buffer before anything is
 * read, and the label copied once.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/android/binder.h>

#include "context.h"
#include "context_ref.h"
#include "secctx.h"
#include "status.h"

#define ALIGN8(x) (((x) + 7) & ~(uint64_t)7)

char *secctx_copy(const struct ubinder_context *ctx, const struct binder_transaction_data *tr,
		  uint64_t secctx)
{
	uint64_t buffer = tr->data.ptr.buffer, first, base, room;
	const char *label, *end;
	char *copy;

	if (!secctx)
		return NULL;
	/* Sizes the region holds cannot wrap once aligned. */
	if (tr->data_size > ctx->map_size || tr->offsets_size > ctx->map_size)
		first = UINT64_MAX;
	else
		first = buffer + ALIGN8(tr->data_size) + ALIGN8(tr->offsets_size);
	if (first < buffer || secctx < first || !region_contains(ctx, secctx, 1)) {
		ub_log("security context %llx outside its buffer", (unsigned long long)secctx);
		return NULL;
	}
	base = (uint64_t)(uintptr_t)ctx->map;
	room = ctx->map_size - (secctx - base);
	if (room > UB_SECCTX_MAX)
		room = UB_SECCTX_MAX;
	label = (const char *)(uintptr_t)secctx;
	end = memchr(label, '\0', room);
	if (!end) {
		ub_log("security context at %llx not terminated", (unsigned long long)secctx);
		return NULL;
	}
	copy = malloc((size_t)(end - label) + 1);
	if (copy)
		memcpy(copy, label, (size_t)(end - label) + 1);
	return copy;
}
