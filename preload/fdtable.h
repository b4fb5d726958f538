/* SPDX-License-Identifier: MIT */
/*
 * Descriptor number -> open Binder file (struct bfile), and our hidden
 * descriptors. Lookups are lock-free; writers hold g_lock (bfile.h).
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bfile;

/* The emulation's one lock (bfile.h says what else it guards). */
extern pthread_mutex_t g_lock;

/* Descriptor numbers the table covers; larger ones are never Binder fds. */
#define FDT_MAX (1 << 20)

/* What the table knows about a descriptor number. */
#define FDT_HIDDEN  0x1u /* one of ours (a daemon socket, the handoff memfd) */
#define FDT_CLOEXEC 0x2u /* a program Binder fd with FD_CLOEXEC */
#define FDT_FLAGS   0x7u

uintptr_t fdt_load(int fd);
/* Writers hold g_lock. */
void fdt_store(int fd, uintptr_t entry);
static inline struct bfile *fdt_bfile(uintptr_t e)
{
	return (struct bfile *)(e & ~(uintptr_t)FDT_FLAGS);
}
/* Calls fn for every non-empty entry in [first, last]; under g_lock. */
void fdt_for_range(unsigned first, unsigned last, void (*fn)(int fd, uintptr_t e, void *arg),
		   void *arg);
/* Moves one of our descriptors out of the program's way (a high number,
 * FD_CLOEXEC) and marks it hidden. Returns the new number. Takes g_lock
 * unless @locked. */
int fdt_hide(int fd, bool locked);
/* Forgets a hidden descriptor and closes it. Takes g_lock unless @locked. */
void fdt_close_hidden(int fd, bool locked);
