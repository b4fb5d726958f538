/* SPDX-License-Identifier: MIT */
/*
 * `ubinderd --fuse-dev DIR`: the Binder devices as files of a FUSE mount,
 * DIR/binder, DIR/hwbinder, DIR/vndbinder (one per context served), to
 * bind-mount over /dev/binder in a container or mount namespace. Any
 * program uses them unmodified: no library, no seccomp (docs/emulation.md,
 * "FUSE").
 *
 * This module is the file system: it mounts DIR (CAP_SYS_ADMIN), reads the
 * kernel's requests from /dev/fuse on the loop (never blocking: the device
 * is non-blocking and every request is answered at once or parked), and
 * answers the directory's requests itself. Each lookup of a device name
 * makes a new inode (entries are never cached), because the page cache
 * that shows a process its region is the inode's: one open per inode. The
 * files' requests go to fuse_files.
 *
 * Owns: struct fuse_server, the mount, /dev/fuse, the inode table.
 * May call: fuse_files, fuse_chan, loop, driver.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "daemon/loop.h"
#include "driver/driver.h"
#include "fuse/fuse_chan.h"
#include "fuse/fuse_files.h"

#define FUSE_SERVER_MAX_CONTEXTS 16

struct fb_node;

struct fuse_server {
	struct loop *loop;
	struct fuse_chan chan;
	struct fuse_files files;
	struct loop_source src; /* /dev/fuse */
	char dir[4096];		/* PATH_MAX: realpath() */
	bool mounted, initialized, gone;
	uint8_t *buf;
	size_t bufsize;
	uint64_t file_size; /* what the files report: the largest region */
	struct {
		const char *name;
		struct context *ctx;
	} ctxs[FUSE_SERVER_MAX_CONTEXTS];
	size_t nctx;
	struct fb_node *nodes; /* uthash by nodeid */
	uint64_t next_nodeid;
	struct {
		uint64_t requests, lookups, forgets, unsupported;
	} stats;
};

struct fuse_server_config {
	const char *dir;
	struct loop *loop;
	struct driver *drv;
	struct copier *copier;
	struct uid_quotas *quotas;
	size_t max_body;
	uint64_t max_region;
	const char *const *names; /* the contexts, and what the driver calls them */
	struct context *const *ctxs;
	size_t nctx;
};

/* Mounts cfg->dir and serves it on the loop: 0, or -1 (said on stderr). */
int fuse_server_init(struct fuse_server *fs, const struct fuse_server_config *cfg);
/* Unmounts (lazily) and releases every Binder file; the device stays open. */
void fuse_server_stop(struct fuse_server *fs);
/* Closes the device (after the copy workers stopped: they write to it). */
void fuse_server_deinit(struct fuse_server *fs);
void fuse_server_dump_stats(const struct fuse_server *fs, FILE *out);

/*
 * One request as read from the device (@len argument bytes after @h),
 * answered through fs->chan now or later. The loop's reader calls it; the
 * unit test drives it with a socket standing in for the device.
 */
void fuse_server_request(struct fuse_server *fs, const struct fuse_in_header *h, const void *arg,
			 size_t len);
