/* SPDX-License-Identifier: MIT */
/*
 * A receive region: the memory a Binder process receives transactions in.
 *
 * The owner (the daemon) creates a memfd of a whole number of pages, maps it
 * read-write, seals its size and its seals, and makes the file mode 0400. The
 * client gets an O_RDONLY descriptor reopened through /proc/self/fd, so a
 * client of another uid can map it read-only and nothing else. A client of the
 * same uid could chmod the file back; that is no weaker than Linux itself,
 * where same-uid processes can ptrace each other. Hence the daemon never reads
 * region contents back to make a decision.
 *
 * F_SEAL_FUTURE_WRITE is deliberately not used: it also forbids punching
 * holes, and punching holes is how pages are given back.
 *
 * Pages are in one of two physical states here: resident (memory behind them)
 * or a hole. Installing makes them resident without ever raising SIGBUS;
 * releasing punches a hole, which returns the memory and removes the page
 * from every mapping. Residency is measured, never assumed: a client that
 * reads a hole through its mapping makes shmem allocate a zero page (the
 * kernel driver would SIGBUS instead).
 *
 * Functions return 0 or a negative errno. None of them is thread safe against
 * another call on the same region, except reads of region->base by copiers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/page_math.h"

/* Largest region we create: 4 GiB. Binder sizes are 64-bit; this is a sanity cap. */
#define REGION_SIZE_MAX ((size_t)4 << 30)

struct region {
	int memfd;		   /* read-write, owned; -1 when not initialised */
	uint8_t *base;		   /* owner's read-write shared mapping of all pages */
	size_t size;		   /* bytes, a whole number of pages */
	struct page_geometry geo;  /* the machine's, or larger for huge pages */
	bool populate_unsupported; /* MADV_POPULATE_WRITE missing (< 5.14): fallocate */
};

/*
 * Creates a region of @size bytes (a whole number of pages, at least one, at
 * most REGION_SIZE_MAX). @name labels the memfd in /proc/PID/fd.
 * Errors: -EINVAL for a bad size, or what memfd_create/mmap/fcntl returned.
 */
int region_init(struct region *r, size_t size, const char *name);

/*
 * As region_init(), with pages of @geo: the machine's, or larger pages (huge
 * pages), which the kernel gives shmem as transparent huge pages of that
 * size when its policy allows (see region/huge_probe.h). Then @size is a
 * whole number of those pages, the owner's mapping is aligned to one and
 * advised MADV_HUGEPAGE, and every install and release covers whole pages
 * of @geo, so that no huge page is split. Where the kernel gives smaller
 * pages after all, the region still works, page by page of @geo.
 * Errors: -EINVAL also for a @geo smaller than the machine's.
 */
int region_init_pages(struct region *r, size_t size, struct page_geometry geo, const char *name);

/* Unmaps and closes. Safe on a zeroed or already deinitialised region. */
void region_deinit(struct region *r);

static inline size_t region_pages(const struct region *r)
{
	return r->size >> r->geo.shift;
}

/*
 * A new O_RDONLY, O_CLOEXEC descriptor of the region for a client, reopened
 * through /proc/self/fd so that it carries no write permission at all.
 * Returns the descriptor, or a negative errno.
 */
int region_share_readonly(const struct region *r);

/*
 * Makes pages [first, first + count) resident (MADV_POPULATE_WRITE; fallocate
 * below Linux 5.14). Never raises SIGBUS: ENOMEM, EFAULT, EINTR, EHWPOISON
 * and ENOSPC come back as errors. *installed receives the number of pages,
 * counted from @first, that are known to be resident on return, also on
 * failure. Errors: -EINVAL for count == 0, -ERANGE for pages past the end.
 */
int region_install(struct region *r, size_t first, size_t count, size_t *installed);

/*
 * Zeroes the bytes [offset, offset + length) through the owner's mapping.
 * The pages touched must be resident (installed and not released): writing a
 * hole would allocate it. Errors: -ERANGE past the end.
 */
int region_clear(struct region *r, size_t offset, size_t length);

/*
 * Punches a hole over pages [first, first + count): the memory is returned to
 * the system and the pages leave every mapping. Idempotent: releasing a hole
 * again is a no-op that succeeds. Errors: -EINVAL for count == 0, -ERANGE past
 * the end, or what fallocate returned.
 */
int region_release(struct region *r, size_t first, size_t count);

/* Number of resident pages (of the region's geometry, rounded down), measured
 * from st_blocks. */
int region_resident_pages(const struct region *r, size_t *pages);

/* Bytes with memory behind them, measured from st_blocks. */
int region_resident_bytes(const struct region *r, size_t *bytes);

/* Whether page @index has memory behind it, measured with SEEK_DATA. */
int region_page_is_resident(const struct region *r, size_t index, bool *resident);

/*
 * Fault injection for tests: the @nth call to region_install() from now on
 * (1 = the next one), in any region of this process, and the @count - 1
 * calls after it, install at most @pages_before_failure pages and then fail
 * with -@error. nth == 0 disarms.
 * Not thread safe: the daemon installs from its one event-loop thread.
 */
void region_inject_install_faults(unsigned int nth, unsigned int count, size_t pages_before_failure,
				  int error);

/* One failure: region_inject_install_faults(nth, 1, ...). */
void region_inject_install_fault(unsigned int nth, size_t pages_before_failure, int error);
