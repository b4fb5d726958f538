/* SPDX-License-Identifier: MIT */
/*
 * A client of a daemon-less driver core, for the driver's unit tests
 * (fake_client.c): one process with one thread, whose conn and session
 * pointers point at it, with a real region; the driver's answers and its
 * readiness calls are recorded here.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/driver.h"

struct fake_client {
	struct proc *proc;
	struct thread *thread;
	uint32_t items[16]; /* the return codes of the last read */
	size_t nitems;
	uint32_t last_item;	 /* the last return code of the last read that had one */
	uint64_t buffer;	 /* the last BR_TRANSACTION's or BR_REPLY's buffer */
	uint64_t size;		 /* ... and its data size */
	int answers;		 /* requests answered */
	bool readable;		 /* what poll_changed last said */
	bool readable_at_answer; /* ... when the last answer went out */
};

/* The driver's callbacks for fake clients; payloads must come inline. */
extern const struct driver_ops fake_client_ops;

/* Opens process @i of @ctx (pid 300000 + @i) with a @region-byte region;
 * @polls: it tracks readiness. Asserts on failure. */
void fake_client_open(struct fake_client *fc, struct driver *drv, struct context *ctx, int i,
		      size_t region, bool polls);
