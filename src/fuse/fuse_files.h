/* SPDX-License-Identifier: MIT */
/*
 * The Binder files of a `ubinderd --fuse-dev` mount: each open of one is a
 * Binder process of the driver for the opening process, each thread that
 * makes an ioctl on it a Binder thread. Identity comes from the kernel: the
 * FUSE request header's pid (a thread id), uid and gid, and the thread
 * group from /proc/TID/status.
 *
 * - ioctl (FUSE_IOCTL, restricted: the kernel copies _IOC_SIZE(cmd) bytes
 *   in and out): BINDER_WRITE_READ's write buffer is read from the caller
 *   with process_vm_readv and its read buffer written back with
 *   process_vm_writev, on a copy worker (a caller whose memory blocks delays
 *   only itself); payloads are fetched by the driver straight into the
 *   receiver's region (one copy). A blocking call stays unanswered until the
 *   driver completes it; FUSE_INTERRUPT (a signal) ends its wait.
 * - The mapping: the server never sees mmap. The file's page cache is the
 *   client's view of its region: pages are filled from the region
 *   (FUSE_READ), and a buffer the driver delivers is pushed into the page
 *   cache (FUSE_NOTIFY_STORE, an extra copy) before the read that names it
 *   returns. Where the client mapped it is read from /proc/PID/maps at its
 *   next ioctl.
 * - poll: FUSE_POLL answers the process's readiness; NOTIFY_POLL wakes the
 *   pollers when work arrives.
 *
 * Owns: struct fb_file, fb_thread, fb_call and their lists.
 * May call: fuse_chan, copier, loop, quota, driver, daemon's /proc readers.
 */
#pragma once

#include <linux/android/binder.h>
#include <linux/fuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <bsd/sys/queue.h>

#include "daemon/copier.h"
#include "daemon/endpoint.h"
#include "daemon/loop.h"
#include "driver/driver.h"
#include "fuse/fuse_chan.h"

struct uid_quotas;
struct fb_call;

/* Buffers delivered with TF_CLEAR_BUF a file remembers until they are freed. */
#define FB_CLEARED 16

struct fb_range {
	uint64_t addr, len;
};

/* One open of a Binder file: a Binder process. */
struct fb_file {
	struct endpoint endpoint; /* poll readiness */
	struct fuse_files *all;
	uint64_t fh, nodeid;
	struct proc *proc;
	struct proc_identity id; /* the opener's */
	int access;		 /* O_RDONLY, O_WRONLY, O_RDWR */
	bool nonblock;		 /* O_NONBLOCK at open (later changes are not seen) */
	bool uid_quota;
	/* The region, once the opener's mapping of the file was found. */
	int region_fd;
	uint64_t map_addr, region_size;
	bool mapped;
	struct fb_range cleared[FB_CLEARED];
	size_t ncleared;
	/* poll */
	uint64_t poll_kh;
	bool poll_armed, readable;
	LIST_HEAD(, fb_thread) threads;
	LIST_ENTRY(fb_file) entry;
};

/* A thread of a process that made an ioctl on a Binder file: a Binder thread. */
struct fb_thread {
	struct endpoint endpoint; /* completions */
	struct fb_file *file;
	struct thread *thread;
	pid_t tid, tgid;
	uint32_t uid; /* charged one of --max-threads-per-uid */
	int pidfd;    /* of its thread group */
	int fdinfo;   /* /proc/TID/fdinfo/FD of its descriptor of the file (-1: not found yet) */
	struct fb_call *call; /* the one it waits in, if any */
	LIST_ENTRY(fb_thread) entry;
};

struct fuse_files {
	struct loop *loop;
	struct driver *drv;
	struct copier *copier;
	struct uid_quotas *quotas;
	struct fuse_chan *chan;
	size_t max_body; /* largest write buffer read from a caller */
	dev_t dev;	 /* the mount's, to find mappings in /proc/PID/maps */
	uint64_t next_fh;
	LIST_HEAD(, fb_file) files;
	LIST_HEAD(, fb_call) calls; /* ioctls not answered yet, or still on a worker */
	struct {
		uint64_t opens, releases, ioctls, served, interrupted, early_answers, mapped,
			stores, store_bytes, store_errors, unreceivable_fds, page_reads;
	} stats;
};

void fuse_files_init(struct fuse_files *ff, struct loop *loop, struct driver *drv,
		     struct copier *copier, struct uid_quotas *quotas, struct fuse_chan *chan,
		     size_t max_body);
/* Releases every file (the server stops); calls on copy workers stay theirs. */
void fuse_files_release_all(struct fuse_files *ff);
/* Frees what is left, once the copy workers stopped. */
void fuse_files_deinit(struct fuse_files *ff);
void fuse_files_dump_stats(const struct fuse_files *ff, FILE *out);

/* FUSE_OPEN of node @nodeid (context @ctx) by the caller in @h: 0 and *fh, or -errno. */
int fuse_files_open(struct fuse_files *ff, struct context *ctx, uint64_t nodeid,
		    const struct fuse_in_header *h, uint32_t flags, uint64_t *fh);
/* Whether an open file is on @nodeid (its page cache is taken). */
bool fuse_files_node_open(const struct fuse_files *ff, uint64_t nodeid);
/* FUSE_FLUSH: every close of a descriptor of it. */
void fuse_files_flush(struct fuse_files *ff, uint64_t fh);
/* FUSE_RELEASE: the last reference (descriptors and mappings) went away. */
void fuse_files_release(struct fuse_files *ff, uint64_t fh);
/* FUSE_IOCTL: answers @h->unique itself, now or later. */
void fuse_files_ioctl(struct fuse_files *ff, const struct fuse_in_header *h,
		      const struct fuse_ioctl_in *in, const void *data, size_t len);
/* FUSE_POLL: the revents, or -errno. */
int fuse_files_poll(struct fuse_files *ff, const struct fuse_poll_in *in, uint32_t *revents);
/* FUSE_READ (a page cache fill): bytes of the region into @buf; the count or -errno. */
ssize_t fuse_files_read(struct fuse_files *ff, uint64_t fh, uint64_t off, void *buf, size_t size);
/* FUSE_INTERRUPT of request @unique: false if no ioctl of that id is pending. */
bool fuse_files_interrupt(struct fuse_files *ff, uint64_t unique);
