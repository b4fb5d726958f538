/* SPDX-License-Identifier: MIT */
/*
 * Internal: a context belongs to the process that opened it. In a child
 * made with fork() every call on an inherited context fails with
 * UBINDER_ERR_INVALID_OPERATION (and one line on stderr), as Android's
 * libbinder refuses a ProcessState opened before the fork; the child may
 * open contexts of its own. See fork.c.
 */
#pragma once

#include <stdbool.h>

struct ubinder_context;

/* @ctx is being opened by this process (before its first use). */
void fork_stamp(struct ubinder_context *ctx);
/* Registers the fork handlers (once) and @ctx, now open. */
void fork_track(struct ubinder_context *ctx);
/* @ctx is closing in the process that opened it. */
void fork_untrack(struct ubinder_context *ctx);
/* Whether @ctx was inherited through fork(); says so once per context. */
bool ctx_forked(struct ubinder_context *ctx);
/* 0, or why no call can be made on @ctx: UBINDER_ERR_INVALID_OPERATION
 * (inherited through fork()) or UBINDER_ERR_CLOSED. */
int ctx_usable(struct ubinder_context *ctx);
