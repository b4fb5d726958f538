/* SPDX-License-Identifier: MIT */
/*
 * Descriptor number -> what it is to us: empty (0: not ours, the program's
 * own business), a program Binder fd (its bfile, FDT_CLOEXEC if close-on-exec)
 * or one of our hidden descriptors (FDT_HIDDEN).
 *
 * Two levels of chunks, allocated when a number is first stored and never
 * freed, so that readers need no lock: a reader sees either the old or the
 * new entry. Writers hold g_lock.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fdtable.h"
#include "real.h"

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

#define CHUNK_BITS 10
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define NCHUNKS	   (FDT_MAX / CHUNK_SIZE)

static _Atomic(_Atomic uintptr_t *) chunks[NCHUNKS];

uintptr_t fdt_load(int fd)
{
	_Atomic uintptr_t *chunk;

	if (fd < 0 || fd >= FDT_MAX)
		return 0;
	chunk = atomic_load_explicit(&chunks[fd >> CHUNK_BITS], memory_order_acquire);
	if (!chunk)
		return 0;
	return atomic_load_explicit(&chunk[fd & (CHUNK_SIZE - 1)], memory_order_acquire);
}

void fdt_store(int fd, uintptr_t entry)
{
	_Atomic uintptr_t *chunk;

	if (fd < 0 || fd >= FDT_MAX)
		return;
	chunk = atomic_load_explicit(&chunks[fd >> CHUNK_BITS], memory_order_acquire);
	if (!chunk) {
		if (entry == 0)
			return;
		chunk = calloc(CHUNK_SIZE, sizeof(*chunk));
		if (!chunk)
			return; /* the number then stays unknown to us, as if too large */
		atomic_store_explicit(&chunks[fd >> CHUNK_BITS], chunk, memory_order_release);
	}
	atomic_store_explicit(&chunk[fd & (CHUNK_SIZE - 1)], entry, memory_order_release);
}

void fdt_for_range(unsigned first, unsigned last, void (*fn)(int fd, uintptr_t e, void *arg),
		   void *arg)
{
	if (last >= FDT_MAX)
		last = FDT_MAX - 1;
	for (unsigned c = first >> CHUNK_BITS; first <= last && c <= last >> CHUNK_BITS; c++) {
		_Atomic uintptr_t *chunk = atomic_load_explicit(&chunks[c], memory_order_acquire);

		if (!chunk)
			continue;
		for (unsigned i = 0; i < CHUNK_SIZE; i++) {
			unsigned fd = c * CHUNK_SIZE + i;
			uintptr_t e;

			if (fd < first || fd > last)
				continue;
			e = atomic_load_explicit(&chunk[i], memory_order_acquire);
			if (e)
				fn((int)fd, e, arg);
		}
	}
}

/* Where our descriptors go: high, out of the range programs use first. */
static int hidden_base(void)
{
	struct rlimit rl;
	rlim_t base = 512;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		base = rl.rlim_cur - rl.rlim_cur / 4;
	if (base > FDT_MAX / 2)
		base = FDT_MAX / 2;
	return (int)base;
}

int fdt_hide(int fd, bool locked)
{
	int moved;

	real_init();
	moved = real.fcntl(fd, F_DUPFD_CLOEXEC, hidden_base());
	if (moved >= 0 && moved < FDT_MAX) {
		real.close(fd);
		fd = moved;
	} else if (moved >= 0) {
		real.close(moved);
	}
	if (!locked)
		pthread_mutex_lock(&g_lock);
	fdt_store(fd, FDT_HIDDEN);
	if (!locked)
		pthread_mutex_unlock(&g_lock);
	return fd;
}

void fdt_close_hidden(int fd, bool locked)
{
	if (fd < 0)
		return;
	if (!locked)
		pthread_mutex_lock(&g_lock);
	if (fdt_load(fd) == FDT_HIDDEN)
		fdt_store(fd, 0);
	if (!locked)
		pthread_mutex_unlock(&g_lock);
	real.close(fd);
}
