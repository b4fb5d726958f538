/* SPDX-License-Identifier: MIT */
/*
 * Facts about the Binder objects of <linux/android/binder.h> that the client
 * side (libubinder) and the driver core both need. Pure and header-only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <linux/android/binder.h>

/* The size of an object of @type in a transaction's data, or 0 when no
 * object has that type. */
static inline size_t binder_object_size(uint32_t type)
{
	switch (type) {
	case BINDER_TYPE_BINDER:
	case BINDER_TYPE_WEAK_BINDER:
	case BINDER_TYPE_HANDLE:
	case BINDER_TYPE_WEAK_HANDLE:
		return sizeof(struct flat_binder_object);
	case BINDER_TYPE_FD:
		return sizeof(struct binder_fd_object);
	case BINDER_TYPE_PTR:
		return sizeof(struct binder_buffer_object);
	case BINDER_TYPE_FDA:
		return sizeof(struct binder_fd_array_object);
	default:
		return 0;
	}
}
