/* SPDX-License-Identifier: MIT */
/*
 * Fetching a transaction's bytes from the sender: the one copy.
 *
 * A fetch job copies, straight from the sender's memory into the target's
 * buffer, everything a transaction carries: the data between objects, the
 * offsets array, and the scatter-gather buffers. Objects themselves, the
 * offsets, and the descriptors of fd arrays are read into the job (daemon
 * memory) instead: the event loop validates and translates them from that
 * copy and writes them in, so the target never sees an untranslated object
 * and the sender's memory is read once and never re-read.
 *
 * The walk over the objects reproduces the kernel's order of checks, so the
 * job records exactly where the kernel would have stopped and with which
 * error; transaction.c reports it at that point.
 *
 * Sources, tried in this order for each range: the inline segments the
 * client pushed with its request; memory of the sender that the daemon
 * itself maps (its own region, when it forwards a buffer it received, and
 * its outbox), copied with a SIGBUS-guarded memcpy; then process_vm_readv
 * on the sender. A job
 * first runs on the event loop with inline segments only; when it needs more
 * and the sender can be read, it reruns on a copy worker (fetch_job_run with
 * allow_readv), where a sender whose memory blocks (FUSE, userfaultfd)
 * delays only its own transaction.
 *
 * Thread safety: fetch_job_run touches only the job and the destination
 * buffer memory, which nobody else writes while the job runs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <bsd/sys/queue.h>
#include <linux/android/binder.h>

#include "driver/driver.h"

/* The largest Binder object: struct binder_buffer_object. */
#define OBJECT_MAX_SIZE 40u

union binder_object_bytes {
	struct binder_object_header hdr;
	struct flat_binder_object fbo;
	struct binder_fd_object fd;
	struct binder_buffer_object bbo;
	struct binder_fd_array_object fda;
	uint8_t bytes[OBJECT_MAX_SIZE];
};

struct fetched_object {
	uint64_t offset;	       /* in the data */
	uint32_t size;		       /* by type; valid objects only */
	union binder_object_bytes obj; /* as the sender wrote it */
	uint64_t sg_offset;	       /* PTR: where its buffer went in the target buffer */
	uint32_t fda_first;	       /* FDA: index of its first value in fda_values */
	bool fda_read;		       /* FDA: the sender's descriptor numbers were read */
};

/* Sender memory the daemon maps too: [user_base, user_base + size) is at mem.
 * @fd: the memfd behind it when the client can punch holes into it (the
 * outbox), read with pread where not resident; -1 for memory the daemon
 * owns (the region). */
struct local_source {
	uint64_t user_base;
	uint64_t size;
	const uint8_t *mem;
	int fd;
};

struct fetch_job {
	/* Inputs: set on the event loop, read-only while the job runs. */
	struct local_source sources[2];
	size_t nsources;
	pid_t pid;
	uid_t uid; /* of that process: whose copies a worker reading it counts against */
	int pidfd; /* to confirm the sender is still the same process, or -1 */
	bool may_readv;
	const struct mem_segment *segments;
	size_t nsegments;
	uint64_t data_ptr;
	uint64_t data_size;
	uint64_t offsets_ptr;
	uint64_t offsets_size;
	uint8_t *dst;	   /* the target buffer, in the daemon's mapping */
	uint64_t dst_size; /* its allocated size */
	uint64_t sg_begin; /* scatter-gather area [sg_begin, sg_end) of dst */
	uint64_t sg_end;

	/* Outputs. */
	int result;	   /* 0; -EAGAIN: rerun with process_vm_readv; -ESRCH: sender gone */
	int offsets_error; /* -EFAULT: the offsets array could not be read */
	uint64_t *offsets;
	size_t noffsets;
	struct fetched_object *objects; /* objects[0..nobjects) passed the walk */
	size_t nobjects;
	int stop_error; /* the walk stopped at objects[nobjects] with this (0: completed) */
	int tail_error; /* copying the data after the last object failed */
	int sg_error;	/* copying a scatter-gather buffer failed */
	uint32_t *fda_values;
	size_t nfda_values;
	uint64_t bytes; /* copied */
	bool used_readv;
	bool used_local; /* some bytes came from a region or outbox the daemon maps */

	/* For the event loop and the worker queue. */
	void *owner;
	TAILQ_ENTRY(fetch_job) entry;
};

/* Runs the job; with @allow_readv it may call process_vm_readv. */
void fetch_job_run(struct fetch_job *job, bool allow_readv);

/* Frees the job's outputs (not the job itself). */
void fetch_job_clear(struct fetch_job *job);
