/* SPDX-License-Identifier: MIT */
/*
 * Internal: an object's references, below everything that holds objects
 * (parcels among them) and below the objects' calls (object.c). Besides the
 * public ubinder_binder_ref/unref, ubinder_weak_ref/unref and
 * ubinder_binder_get_weak defined in object_ref.c, the pieces of an
 * object's end that object.c shares. Counts are guarded by the context's
 * lock (context.h); none of these is called with it held unless it says so.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ubinder/ubinder.h"

struct death_link;
struct ubinder_context;

/* A weak reference is a struct ubinder_binder counted in weak_refs. */
static inline struct ubinder_weak *weak_of(struct ubinder_binder *b)
{
	return (struct ubinder_weak *)b;
}
static inline struct ubinder_binder *binder_of(const struct ubinder_weak *w)
{
	return (struct ubinder_binder *)w;
}

/* What a proxy's last reference (of a kind) must tell the driver. */
struct proxy_release {
	bool release;	       /* BC_RELEASE */
	bool decrefs;	       /* BC_DECREFS */
	uint64_t clear_cookie; /* BC_CLEAR_DEATH_NOTIFICATION first, if nonzero */
	uint32_t handle;
};

/* Whether nothing holds local object @b any more (no reference, no driver
 * count, not pinned); under the lock. */
bool object_local_unused(const struct ubinder_binder *b);
/* Frees local object @b (its destroy callback first) and its context reference. */
void object_local_free(struct ubinder_binder *b);
/* Frees a list of death links. */
void object_links_free(struct death_link *link);
/* Writes what @r says a proxy's end must tell the driver, on this thread. */
void object_send_release(struct ubinder_context *ctx, const struct proxy_release *r);
/* A proxy with no reference of either kind left leaves the table; under the lock. */
void object_proxy_untable(struct ubinder_context *ctx, struct ubinder_binder *b);
