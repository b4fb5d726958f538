/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <sys/mman.h>

#include "context.h"
#include "context_ref.h"
#include "deferred_free.h"

void ctx_ref(struct ubinder_context *ctx)
{
	atomic_fetch_add(&ctx->refs, 1);
}

void ctx_unref(struct ubinder_context *ctx)
{
	if (atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	if (ctx->map)
		munmap(ctx->map, ctx->map_size);
	deferred_free_deinit(ctx);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

bool region_contains(const struct ubinder_context *ctx, uint64_t ptr, uint64_t len)
{
	uint64_t base = (uint64_t)(uintptr_t)ctx->map;

	return ctx->map && ptr >= base && len <= ctx->map_size && ptr - base <= ctx->map_size - len;
}
