/* SPDX-License-Identifier: MIT */
/*
 * Internal: the thread pool (the threads BR_SPAWN_LOOPER asks for) and the
 * other ways of serving: a joined thread, a polled context. See pool.c.
 */
#pragma once

struct ubinder_context;

/* Default BINDER_SET_MAX_THREADS, as libbinder's. */
#define UB_DEFAULT_MAX_THREADS 15u

/* Spawns a pool thread (BR_SPAWN_LOOPER). */
void pool_spawn(struct ubinder_context *ctx);
/* The context is closing: waits for its pool threads to end. */
void pool_join(struct ubinder_context *ctx);
