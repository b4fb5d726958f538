/* SPDX-License-Identifier: MIT */
/*
 * The parcel's representation, shared by parcel.c (values, binders,
 * descriptors) and parcel_sg.c (scatter-gather buffers and fd arrays, the
 * encoding HIDL uses). Internal to libubinder.
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

/* --- parcel.c, for parcel_sg.c --------------------------------------------- */

/* May @n bytes of plain data be read at @pos? 0 or a parcel error. */
int parcel_check_read(const struct ubinder_parcel *p, size_t pos, size_t n);
/* The index of the object recorded exactly at @pos, or -1. */
long parcel_object_at(const struct ubinder_parcel *p, size_t pos);
/* Appends @size bytes of plain data at the position. */
int parcel_write_plain(struct ubinder_parcel *p, const void *v, size_t size);
/* Appends an object at the position and records it (objs[] gets @po). */
int parcel_write_recorded(struct ubinder_parcel *p, const void *obj, size_t size, struct pobj po);

/* A binder object without what libbinder writes after it: @room_after bytes
 * are reserved for that first (HIDL writes nothing there). */
int parcel_write_flat_binder(struct ubinder_parcel *p, struct ubinder_binder *binder,
			     size_t room_after);
/* Reads one; @after bytes of plain data must follow it (not read). */
int parcel_read_flat_binder(struct ubinder_parcel *p, struct ubinder_binder **binder, size_t after);
/* The status an AIDL/HIDL exception code stands for. */
int parcel_exception_status(int32_t exception);

/* --- parcel_sg.c, for ipc.c and hidl_parcel.c ------------------------------ */

/* The BC_TRANSACTION_SG buffers_size of a written parcel: its recorded
 * buffers, each rounded up to 8 bytes. 0 when it has none. */
uint64_t parcel_buffers_size(const struct ubinder_parcel *p);
/* A written parcel's state, to undo a composite value whose write failed
 * half-way: rewinding drops the objects recorded since (what they own too). */
struct parcel_mark {
	size_t pos, size, nobj;
};
void parcel_mark(const struct ubinder_parcel *p, struct parcel_mark *m);
void parcel_rewind(struct ubinder_parcel *p, const struct parcel_mark *m);
/* A written parcel's copy of buffer @handle (*len bytes), or NULL. */
void *parcel_own_buffer(struct ubinder_parcel *p, size_t handle, size_t *len);
/* The bytes of recorded buffer @handle of any parcel, if readable; or NULL. */
const void *parcel_buffer_at(const struct ubinder_parcel *p, size_t handle, size_t *len);
/* Tests: embedded buffers of a parcel received without a receiver must lie
 * in [base, base + len). */
void parcel_set_sg_bounds(struct ubinder_parcel *p, const void *base, size_t len);
