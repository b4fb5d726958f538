/* SPDX-License-Identifier: MIT */
/*
 * Internal: what every layer holds of a context, below them all but the
 * thread state and the deferred frees: its references (the open handle, each
 * object, each received parcel) and its region. The last reference frees
 * the context's memory; closing it is context.c's.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ubinder_context;

void ctx_ref(struct ubinder_context *ctx);
/* Drops a reference; the last unmaps the region and frees the context. */
void ctx_unref(struct ubinder_context *ctx);
/* Whether @ptr..@ptr+@len lies inside the mapped region. */
bool region_contains(const struct ubinder_context *ctx, uint64_t ptr, uint64_t len);
