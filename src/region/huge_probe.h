/* SPDX-License-Identifier: MIT */
/*
 * Whether the kernel gives regions huge pages, and of which size.
 *
 * A region of huge pages (region_init_pages) is a memfd whose owner mapping
 * is advised MADV_HUGEPAGE; shmem then allocates transparent huge pages on
 * fault when its policy says so: /sys/kernel/mm/transparent_hugepage/
 * shmem_enabled ("advise" or "always") for the PMD size, and, from Linux
 * 6.11, hugepages-<size>kB/shmem_enabled for the other (mTHP) sizes. The
 * kernel picks the largest size allowed that fits, and falls back to base
 * pages when no contiguous memory is free. Policy files say what may
 * happen; the probe measures what does.
 *
 * Owns nothing. May call: region, the system.
 */
#pragma once

#include <stddef.h>

/*
 * Measures the page the kernel allocates for a fault in a region of huge
 * pages: one base page is touched in a two-page region of the largest size
 * accepted (PAGE_SHIFT_MAX), and the file's allocated bytes are read back.
 * *page_size is then the machine's page size when the kernel gives no huge
 * pages, else the huge page size it gives. 0, or a negative errno when the
 * probe itself could not run.
 */
int region_probe_huge_pages(size_t *page_size);

/*
 * The kernel's policy for shmem huge pages of @size bytes, for messages, in
 * @buf: "shmem_enabled=never" for the PMD size, and for another size its own
 * setting ("hugepages-64kB/shmem_enabled=advise"), followed by the PMD's
 * when it is "inherit"; "unknown (no transparent_hugepage in sysfs)" when it
 * cannot be read.
 */
void region_huge_policy(size_t size, char *buf, size_t len);

/*
 * The selected word of a sysfs policy file (the "advise" of
 * "always [advise] never") at @path, into @word. 0, or a negative errno
 * (-EIO when the file has no selected word).
 */
int region_huge_policy_word(const char *path, char *word, size_t len);
