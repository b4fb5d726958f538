/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "region/page.h"
#include "region/region.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static struct {
	unsigned int countdown; /* 0: disarmed; 1: the next install fails */
	unsigned int count;	/* failures left once it fires */
	size_t pages_before_failure;
	int error;
} install_fault;

void region_inject_install_fault(unsigned int nth, size_t pages_before_failure, int error)
{
	region_inject_install_faults(nth, 1, pages_before_failure, error);
}

void region_inject_install_faults(unsigned int nth, unsigned int count, size_t pages_before_failure,
				  int error)
{
	install_fault.countdown = nth;
	install_fault.count = count ? count : 1;
	install_fault.pages_before_failure = pages_before_failure;
	install_fault.error = error;
}

int region_init(struct region *r, size_t size, const char *name)
{
	return region_init_pages(r, size, page_geometry_of_machine(), name);
}

/*
 * Maps the memfd read-write at an address aligned to @align bytes (a power
 * of two, at least the machine's page): a huge page can be mapped whole only
 * there. Reserves @size + @align - page of address space, maps over the
 * aligned part, and gives the rest back.
 */
static uint8_t *map_aligned(int memfd, size_t size, size_t align)
{
	size_t page = geo_page_size(page_geometry_of_machine());
	size_t span = size + align - page;
	uint8_t *reserved, *start, *mapped;

	if (align <= page)
		return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	reserved = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reserved == MAP_FAILED)
		return MAP_FAILED;
	start = (uint8_t *)(((uintptr_t)reserved + align - 1) & ~(uintptr_t)(align - 1));
	mapped = mmap(start, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd, 0);
	if (mapped == MAP_FAILED) {
		int err = errno;

		munmap(reserved, span);
		errno = err;
		return MAP_FAILED;
	}
	if (start > reserved)
		munmap(reserved, (size_t)(start - reserved));
	if (reserved + span > start + size)
		munmap(start + size, (size_t)(reserved + span - (start + size)));
	return mapped;
}

int region_init_pages(struct region *r, size_t size, struct page_geometry geo, const char *name)
{
	const unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	bool huge = geo.shift > page_geometry_of_machine().shift;
	int err;

	memset(r, 0, sizeof(*r));
	r->memfd = -1;
	r->geo = geo;
	if (geo.shift < page_geometry_of_machine().shift || geo.shift > PAGE_SHIFT_MAX ||
	    size == 0 || size > REGION_SIZE_MAX || !geo_is_aligned(r->geo, size))
		return -EINVAL;

	r->memfd = memfd_create(name ? name : "ubinder-region", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r->memfd < 0)
		return -errno;
	if (ftruncate(r->memfd, (off_t)size) < 0)
		goto fail;
	r->base = map_aligned(r->memfd, size, geo_page_size(geo));
	if (r->base == MAP_FAILED) {
		r->base = NULL;
		goto fail;
	}
	/* The daemon's own mapping must never be inherited by a forked child. */
	(void)madvise(r->base, size, MADV_DONTFORK);
	/* With shmem_enabled at "advise" (or a size's own setting), this is what
	 * makes the kernel allocate the region's pages huge when they fault in
	 * (MADV_POPULATE_WRITE faults them through this mapping). */
	if (huge && madvise(r->base, size, MADV_HUGEPAGE) < 0)
		goto fail;
	if (fcntl(r->memfd, F_ADD_SEALS, seals) < 0)
		goto fail;
	if (fchmod(r->memfd, 0400) < 0)
		goto fail;
	r->size = size;
	return 0;
fail:
	err = -errno;
	if (r->base)
		munmap(r->base, size);
	close(r->memfd);
	memset(r, 0, sizeof(*r));
	r->memfd = -1;
	return err;
}

void region_deinit(struct region *r)
{
	if (r->base)
		munmap(r->base, r->size);
	if (r->memfd >= 0)
		close(r->memfd);
	memset(r, 0, sizeof(*r));
	r->memfd = -1;
}

int region_share_readonly(const struct region *r)
{
	char path[64];
	int fd;

	if (r->memfd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->memfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int check_pages(const struct region *r, size_t first, size_t count)
{
	if (count == 0)
		return -EINVAL;
	if (first >= region_pages(r) || count > region_pages(r) - first)
		return -ERANGE;
	return 0;
}

/* Makes [first, first + count) resident in one call; no partial progress report. */
static int populate(struct region *r, size_t first, size_t count)
{
	size_t offset = geo_page_offset(r->geo, first);
	size_t length = geo_page_offset(r->geo, count);

	if (!r->populate_unsupported) {
		if (madvise(r->base + offset, length, MADV_POPULATE_WRITE) == 0)
			return 0;
		if (errno != EINVAL)
			return -errno;
		/* EINVAL on a valid range means the kernel predates 5.14. */
		r->populate_unsupported = true;
	}
	/* fallocate allocates shmem pages without faulting, so it cannot SIGBUS either. */
	if (fallocate(r->memfd, 0, (off_t)offset, (off_t)length) < 0)
		return -errno;
	return 0;
}

int region_install(struct region *r, size_t first, size_t count, size_t *installed)
{
	size_t limit = count;
	int injected = 0;
	size_t done;
	int err;

	*installed = 0;
	err = check_pages(r, first, count);
	if (err)
		return err;
	if (install_fault.countdown && --install_fault.countdown == 0) {
		injected = -install_fault.error;
		if (install_fault.pages_before_failure < limit)
			limit = install_fault.pages_before_failure;
		if (--install_fault.count > 0)
			install_fault.countdown = 1; /* the next call fails too */
	}

	if (!injected) {
		err = populate(r, first, count);
		if (err == 0) {
			*installed = count;
			return 0;
		}
	}
	/*
	 * The whole-range call failed (or a fault is injected): go page by page to
	 * learn, and install, the longest prefix that can be made resident.
	 */
	for (done = 0; done < limit; done++) {
		int page_err = populate(r, first + done, 1);

		if (page_err) {
			err = page_err;
			break;
		}
	}
	*installed = done;
	if (injected)
		return injected;
	return err ? err : -EIO;
}

int region_clear(struct region *r, size_t offset, size_t length)
{
	if (offset > r->size || length > r->size - offset)
		return -ERANGE;
	memset(r->base + offset, 0, length);
	return 0;
}

int region_release(struct region *r, size_t first, size_t count)
{
	int err = check_pages(r, first, count);

	if (err)
		return err;
	if (fallocate(r->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)geo_page_offset(r->geo, first),
		      (off_t)geo_page_offset(r->geo, count)) < 0)
		return -errno;
	return 0;
}

int region_resident_bytes(const struct region *r, size_t *bytes)
{
	struct stat st;

	if (fstat(r->memfd, &st) < 0)
		return -errno;
	/* st_blocks counts 512-byte units of allocated memory. */
	*bytes = (size_t)st.st_blocks * 512;
	return 0;
}

int region_resident_pages(const struct region *r, size_t *pages)
{
	size_t bytes;
	int err = region_resident_bytes(r, &bytes);

	if (err)
		return err;
	*pages = bytes >> r->geo.shift;
	return 0;
}

int region_page_is_resident(const struct region *r, size_t index, bool *resident)
{
	off_t offset = (off_t)geo_page_offset(r->geo, index);
	off_t data;

	if (index >= region_pages(r))
		return -ERANGE;
	data = lseek(r->memfd, offset, SEEK_DATA);
	if (data < 0) {
		if (errno != ENXIO)
			return -errno;
		*resident = false; /* no data at or after offset */
		return 0;
	}
	*resident = data < offset + (off_t)geo_page_size(r->geo);
	return 0;
}
