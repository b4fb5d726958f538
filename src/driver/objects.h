/* SPDX-License-Identifier: MIT */
/*
 * Translation of the objects a transaction carries, from the fetched copy
 * (fetch.h) into the target buffer: binders to handles and back, descriptors,
 * fd arrays and scatter-gather buffers with their parent fix-ups, with the
 * kernel's validation and errors.
 */
#pragma once

#include "driver/binder_error.h"
#include "driver/entities.h"
#include "driver/fetch.h"

struct txn_translate {
	struct thread *thread; /* sender */
	struct proc *target_proc;
	struct transaction *t;
	struct transaction *in_reply_to;
	struct fetch_job *job;
	const struct bwr_state *bwr; /* the sender's descriptors */
	/* Fix-up order check (binder_validate_fixup). */
	size_t last_fixup_obj;
	bool have_last_fixup;
	uint64_t last_fixup_min_off;
};

/*
 * Translates objects[0..job->nobjects) in order, writing each into the
 * buffer. Every failure is BR_FAILED_REPLY with the errno the kernel
 * reports (-EINVAL, -EPERM, -EBADF, -ENOMEM, ...); the counts of the objects
 * translated before a failure are held by the buffer and released by the
 * caller's failure path.
 */
struct binder_error objects_translate(struct txn_translate *x);
