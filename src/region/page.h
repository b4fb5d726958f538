/* SPDX-License-Identifier: MIT */
/*
 * The page geometry of the machine we run on, read once at run time with
 * sysconf(_SC_PAGESIZE). Never hard-code 4096: arm64 runs 16K and 64K pages.
 *
 * PAGE_SIZE, PAGE_SHIFT and PAGE_MASK have their C meaning:
 *	PAGE_SIZE == 1 << PAGE_SHIFT,  PAGE_MASK == ~(PAGE_SIZE - 1).
 */
#pragma once

#include "common/page_math.h"

/* The running machine's geometry; the first call reads sysconf. Thread safe. */
struct page_geometry page_geometry_of_machine(void);

#undef PAGE_SIZE
#undef PAGE_SHIFT
#undef PAGE_MASK
#define PAGE_SHIFT (page_geometry_of_machine().shift)
#define PAGE_SIZE  (geo_page_size(page_geometry_of_machine()))
#define PAGE_MASK  (geo_page_mask(page_geometry_of_machine()))
