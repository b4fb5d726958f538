/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "region/huge_probe.h"
#include "region/page.h"
#include "region/region.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

int region_probe_huge_pages(size_t *page_size)
{
	struct page_geometry largest = { PAGE_SHIFT_MAX };
	size_t huge = geo_page_size(largest);
	size_t base = PAGE_SIZE;
	struct region r;
	struct stat st;
	int err;

	*page_size = base;
	err = region_init_pages(&r, 2 * huge, largest, "ubinder-huge-probe");
	if (err)
		return err;
	/* One base page, at an offset every huge page size divides: the kernel
	 * allocates the largest page its policy allows around it. Without
	 * MADV_POPULATE_WRITE (Linux < 5.14) nothing faults through the mapping:
	 * no huge pages. */
	if (madvise(r.base + huge, base, MADV_POPULATE_WRITE) == 0) {
		if (fstat(r.memfd, &st) < 0)
			err = -errno;
		else if ((size_t)st.st_blocks * 512 > base)
			*page_size = (size_t)st.st_blocks * 512;
	} else if (errno != EINVAL) {
		err = -errno;
	}
	region_deinit(&r);
	return err;
}

int region_huge_policy_word(const char *path, char *word, size_t len)
{
	char text[256], *left, *right;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	text[n] = '\0';
	left = strchr(text, '[');
	right = left ? strchr(left, ']') : NULL;
	if (!right)
		return -EIO;
	snprintf(word, len, "%.*s", (int)(right - left - 1), left + 1);
	return 0;
}

void region_huge_policy(size_t size, char *buf, size_t len)
{
	char path[128], own[32], pmd[32] = "", pmd_size[32] = "";
	bool is_pmd;
	int fd;

	fd = open(THP_DIR "/hpage_pmd_size", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, pmd_size, sizeof(pmd_size) - 1);

		pmd_size[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	is_pmd = (size_t)strtoull(pmd_size, NULL, 10) == size;
	if (region_huge_policy_word(THP_DIR "/shmem_enabled", pmd, sizeof(pmd)) < 0) {
		snprintf(buf, len, "unknown (no transparent_hugepage in sysfs)");
		return;
	}
	if (is_pmd) {
		snprintf(buf, len, "shmem_enabled=%s", pmd);
		return;
	}
	snprintf(path, sizeof(path), THP_DIR "/hugepages-%zukB/shmem_enabled", size >> 10);
	if (region_huge_policy_word(path, own, sizeof(own)) < 0)
		snprintf(buf, len,
			 "no hugepages-%zukB/shmem_enabled (kernel before 6.11, or no such size); "
			 "shmem_enabled=%s",
			 size >> 10, pmd);
	else if (strcmp(own, "inherit") == 0)
		snprintf(buf, len, "hugepages-%zukB/shmem_enabled=inherit, shmem_enabled=%s",
			 size >> 10, pmd);
	else
		snprintf(buf, len, "hugepages-%zukB/shmem_enabled=%s, shmem_enabled=%s", size >> 10,
			 own, pmd);
}
