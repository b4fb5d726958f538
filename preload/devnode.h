/* SPDX-License-Identifier: MIT */
/* What stat and access see at an emulated device path or descriptor. */
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include "bfile.h"
#include "devices.h"

/* What stat reports for an emulated device node. */
struct devnode {
	char sock[DEVICE_PATH_MAX]; /* the daemon socket that serves it */
	ino_t ino;
	dev_t rdev;
	struct timespec atime, mtime, ctime;
};

/* The node at @path: 0, -ENOENT while no daemon socket serves it, -ENOTDIR
 * for "DEVICE/", or EMU_PASS if @path is no emulated device. */
int devnode_of_path(const char *path, struct devnode *n);
/* The node an open Binder file was opened from. */
void devnode_of_bfile(const struct bfile *b, struct devnode *n);
/* Fill the program's buffer (st_dev is that of /dev): 0, or -EFAULT where
 * the kernel cannot write it. */
int devnode_stat(const struct devnode *n, struct stat *st);
int devnode_statx(const struct devnode *n, struct statx *stx);
/* access() of the node with faccessat's @mode and @flags (validated): 0 or -EACCES. */
int devnode_access(const struct devnode *n, int mode, int flags);
