/* SPDX-License-Identifier: MIT */
/*
 * Transactions: BC_TRANSACTION/BC_REPLY(_SG) from the sender's thread to the
 * target, with the kernel's checks in the kernel's order, the one-copy fetch
 * (fetch.h), object translation (objects.h), and delivery.
 */
#pragma once

#include "driver/entities.h"

/*
 * Starts a transaction or reply for @thread. Returns true when it finished
 * (delivered or failed: the outcome is on the threads' todo lists), false
 * when it waits for a fetch job: the thread's write processing resumes in
 * transaction_fetch_done().
 */
bool transaction_submit(struct thread *thread, const struct binder_transaction_data *tr,
			uint64_t extra_buffers_size, bool reply);

/* The sending thread of a suspended transaction's fetch job. */
struct thread *transaction_job_thread(struct fetch_job *job);

/* The fetch job of a suspended transaction finished. */
void transaction_fetch_done(struct fetch_job *job);

/*
 * The target of @t will not answer: sends @error_code (BR_DEAD_REPLY or
 * BR_FAILED_REPLY) to the caller waiting for it, walking down the chain when
 * that caller is gone too. Frees @t.
 */
void transaction_send_failed_reply(struct transaction *t, uint32_t error_code);

/* Frees @t (not its buffer), as binder_free_transaction. */
void transaction_free(struct transaction *t);

/* Sets up @drv's pools of the objects a transaction makes (driver.pools). */
void transaction_pools_init(struct driver *drv);
/* Frees what they keep; objects given back later are freed at once. */
void transaction_pools_deinit(struct driver *drv);

/* Removes @t from the top of @thread's stack (binder_pop_transaction). */
void transaction_pop(struct thread *thread, struct transaction *t);
