/* SPDX-License-Identifier: MIT */
/*
 * Internal: the driver buffers that threads which do not serve free, queued
 * in ctx->deferred until the freeing thread's next command carries them, and
 * the flusher thread that sends those nobody sent in time. See deferred_free.c.
 */
#pragma once

#include <stdint.h>

struct ubinder_context;
struct ubinder_thread;

/* How long a deferred buffer free may wait for another command to carry it. */
#define UB_FREE_DELAY_NS 2000000

/* Sets up ctx->deferred at open; deinit() at the context's last reference. */
void deferred_free_init(struct ubinder_context *ctx);
void deferred_free_deinit(struct ubinder_context *ctx);
/* Under ctx->lock, once ctx->closed is set: the flusher is to end. */
void deferred_free_closing(struct ubinder_context *ctx);
/* Waits for the flusher to end (not from the flusher itself). */
void deferred_free_join(struct ubinder_context *ctx);
/* Frees a driver buffer from the calling thread: batched (see ctx->deferred). */
void deferred_free_buffer(struct ubinder_thread *ts, uint64_t buffer);
/* Before a write: moves the frees this thread deferred into its write buffer,
 * after waiting for the flusher to write those it took. */
void deferred_free_drain(struct ubinder_thread *ts);
