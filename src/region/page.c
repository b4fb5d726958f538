/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "region/page.h"

static struct page_geometry machine_geometry;
static pthread_once_t machine_geometry_once = PTHREAD_ONCE_INIT;

static void read_machine_geometry(void)
{
	long size = sysconf(_SC_PAGESIZE);
	unsigned int shift = 0;

	/* A page size that is not a power of two in our range is a broken system. */
	if (size <= 0 || (size & (size - 1)) != 0) {
		fprintf(stderr, "ubinder: sysconf(_SC_PAGESIZE) returned %ld\n", size);
		abort();
	}
	while (((long)1 << shift) < size)
		shift++;
	if (shift < PAGE_SHIFT_MIN || shift > PAGE_SHIFT_MAX) {
		fprintf(stderr, "ubinder: unsupported page size %ld\n", size);
		abort();
	}
	machine_geometry.shift = shift;
}

struct page_geometry page_geometry_of_machine(void)
{
	pthread_once(&machine_geometry_once, read_machine_geometry);
	return machine_geometry;
}
