/* SPDX-License-Identifier: MIT */
/* The kernel driver's open, ioctl and mmap semantics on an emulated device. */
#pragma once

#include <stddef.h>
#include <sys/types.h>
#include "bfile.h"

/* open() of @path if it is an emulated device: >= 0 (fd), -errno, or
 * EMU_PASS ("not a Binder device, pass it on"). */
int emu_open(const char *path, int flags);
/* @cmd is what the kernel reads of the request: its low 32 bits (callers
 * that pass an int have it sign-extended to the unsigned long of glibc's
 * prototype). */
int emu_ioctl(struct bfile *b, int fd, unsigned int cmd, void *arg);
void *emu_mmap(struct bfile *b, void *addr, size_t len, int prot, int flags, off_t off);
/* Called for every munmap while some region is mapped: forgets the regions
 * the range touches. */
void emu_munmap(void *addr, size_t len);
/* Called for every munmap, mremap that may move or shrink, and mmap with
 * MAP_FIXED, once some outbox was mapped: an outbox the range touches is
 * gone (docs/emulation.md). */
void emu_outbox_unmapping(void *addr, size_t len);
