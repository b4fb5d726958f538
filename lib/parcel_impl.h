/* SPDX-License-Identifier: MIT */
/*
 * The parcel's representation, shared by parcel.c (values, binders,
 * descriptors) and parcel_sg.c (scatter-gather buffers and fd arrays, the
 * encoding HIDL uses), and read by ipc.c and hidl_parcel.c. Internal to
 * libubinder; the functions are declared in parcel.h and parcel_sg.h.
 *
 * Scatter-gather buffers of a written parcel: each BINDER_TYPE_PTR object
 * recorded in the offsets array points at a copy the parcel owns (its
 * pobj.blob), so the caller's memory need not outlive the call. A child's
 * address is written into its parent's copy at parent_offset, as the driver
 * does in the receiver, so a parcel reads the same in this process as it
 * does in another. A NULL buffer is written as a PTR object that is not
 * recorded (as libhwbinder does: the driver has nothing to copy).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAD4(x)	   (((x) + 3) & ~(size_t)3)
#define PAD8(x)	   (((x) + 7) & ~(uint64_t)7)
#define MAX_PARCEL ((size_t)INT32_MAX)

struct pobj {
	uint32_t type; /* 0: not a valid object (bad table) */
	struct ubinder_binder *binder;
	int fd;
	void *blob;	 /* written PTR: the copy its buffer points at (owned) */
	size_t blob_len; /* its length */
};

struct ubinder_parcel {
	uint8_t *data;
	size_t size, cap, pos;
	uint64_t *offsets;
	struct pobj *objs;
	size_t nobj, ocap;
	struct outbox *outbox; /* written: data is in this outbox, or on the heap */
	/* received: called once when the parcel is freed (parcel_receiver) */
	void (*release)(void *arg, uint64_t buffer);
	void *release_arg;
	uint64_t buffer; /* received: the driver buffer, or 0 */
	bool readonly;	 /* received from the driver, or a view */
	bool view;	 /* shares another parcel's arrays */
	bool owns_fds;
	bool bad;
	bool no_stability; /* binders travel without libbinder's stability word */
	/* received: where embedded buffers may lie (the receive region) */
	uint64_t sg_base, sg_len;
	/* written: frees what object @i owns beyond what parcel.c frees; set by
	 * parcel_sg.c with the first object of its own (a buffer, an fd array) */
	void (*release_object)(struct ubinder_parcel *p, size_t i);
};
