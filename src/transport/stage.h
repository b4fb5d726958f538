/* SPDX-License-Identifier: MIT */
/*
 * Internal to the transport: staging an untrusted caller's large
 * transactions in the session's outbox (ubt_session_stage() in transport.h
 * says what and why).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/android/binder.h>

#include "transport/transport.h"

/* Copies [src, src + len) of the caller's memory to @dst: 0, or -EFAULT
 * where the kernel's copy_from_user would fault. */
typedef int stage_read_fn(const struct ubt_session *s, void *dst, uint64_t src, size_t len);

/*
 * Stages transaction @tr (in the copy of the write buffer; @sg_size its
 * scatter-gather bytes, 0 for BC_TRANSACTION/BC_REPLY) when it is worth it:
 * true when its data and offsets were copied to the outbox (and the
 * scatter-gather buffers that could be, their pointers rewritten in that
 * copy) and @tr's two pointers now name the copy. False leaves @tr as it was
 * (small, no outbox, no room, or a pointer the kernel would fault on).
 */
bool stage_transaction(struct ubt_thread *t, const struct ubt_session *s,
		       struct binder_transaction_data *tr, uint64_t sg_size, stage_read_fn *read);
/* Gives back the pages of the write's staged transactions. */
void stage_release(struct ubt_thread *t);
/*
 * The write's one staged transaction is a reply that won completion ticket
 * @gen: its ioctl returns before the daemon copies it, so its pages stay
 * in t->held until the ticket says the write ran (stage_release_held).
 */
void stage_hold(struct ubt_thread *t, uint32_t gen);
/*
 * Gives back t->held once the daemon ran its write; with @wait (the thread
 * exits) waits up to a bound for that, then leaves the pages used rather
 * than let a later transaction overwrite bytes the daemon may still read.
 * In a forked child, forgets them (the outbox is not mapped there).
 */
void stage_release_held(struct ubt_thread *t, bool wait);
/* At session close: unmaps the outbox. */
void stage_close(struct ubt_session *s);
