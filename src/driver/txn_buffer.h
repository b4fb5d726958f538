/* SPDX-License-Identifier: MIT */
/*
 * Transaction buffers: a range of the receiving process's region, from its
 * buffer space (buffer_space.h), with the daemon-side record of what the buffer holds (entities.h:
 * struct txn_buffer). The record, not the region, is the truth the daemon
 * acts on: the region is readable by its owner and never read back.
 */
#pragma once

#include "driver/binder_error.h"
#include "driver/entities.h"

/*
 * Reserves a buffer in @proc's region and installs its pages (shrinking the
 * LRU and retrying once if that fails). Errors as the kernel's
 * binder_alloc_new_buf reports them to the sender: BR_DEAD_REPLY with
 * -ESRCH (no region: not mapped, or the process is dying), else
 * BR_FAILED_REPLY with -ENOSPC, -ENOMEM or -EINVAL (size overflow).
 * A oneway (@is_async) is charged to @sender's uid until it is freed; over
 * the uid's quota it fails as when the async space is full (-ENOSPC).
 * *spam_suspect: the sender should read BR_ONEWAY_SPAM_SUSPECT.
 */
struct binder_error txn_buffer_alloc(struct proc *proc, uint64_t data_size, uint64_t offsets_size,
				     uint64_t extra_size, bool is_async, const struct proc *sender,
				     struct txn_buffer **out, bool *spam_suspect);

static inline uint8_t *txn_buffer_mem(const struct txn_buffer *b)
{
	return buffer_space_mem(&b->proc->space, b->range);
}

/* The buffer's address in the client's mapping. */
static inline uint64_t txn_buffer_user_addr(const struct txn_buffer *b)
{
	return buffer_space_user_addr(&b->proc->space, b->range);
}

static inline size_t txn_buffer_size(const struct txn_buffer *b)
{
	return b->range->size;
}

/* Records an fd-array descriptor number the client closes when it frees the buffer. */
int txn_buffer_add_fda_fd(struct txn_buffer *b, int32_t fd);

/*
 * Drops the counts the buffer holds: its target node's strong count and every
 * held object (binder_transaction_buffer_release).
 */
void txn_buffer_release_objects(struct txn_buffer *b);

/*
 * Frees a buffer (binder_free_buf): releases the next queued oneway
 * transaction to its node, drops held counts, zeroes it if TF_CLEAR_BUF, and
 * gives the range back. Descriptors of fd arrays are appended to @thread's
 * list of descriptors for the client to close (NULL: none).
 */
void txn_buffer_free(struct txn_buffer *b, struct thread *thread);

/*
 * BC_FREE_BUFFER lookup: the delivered buffer at client address @ptr, now
 * being freed, into *out. Returns 0, -ENOENT (no buffer there) or -EPERM (not
 * delivered, or already being freed): both only logged, as the kernel does.
 */
int txn_buffer_prepare_user_free(struct proc *proc, uint64_t ptr, struct txn_buffer **out);

/* Process teardown: frees every buffer's record and range, holding nothing. */
void txn_buffer_release_all(struct proc *proc);
