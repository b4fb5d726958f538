/* SPDX-License-Identifier: MIT */
/*
 * Internal: what the library's other files need of parcels (the public
 * interface is ubinder/parcel.h): parcels received from the driver, raw
 * views, and the constants of Android's encoding.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubinder/ubinder.h"

/* Object sizes in a parcel, by type. */
#define UB_FLAT_OBJECT_SIZE 24u /* flat_binder_object, binder_fd_object */

/* The stability level written after a binder object (libbinder's "system"). */
#define UB_STABILITY_SYSTEM	      0x0c
/* Interface token header, libbinder's kHeader for system code. */
#define UB_INTERFACE_HEADER	      UBINDER_PACK_CHARS('S', 'Y', 'S', 'T')
#define UB_STRICT_MODE_PENALTY_GATHER 0x80000000u

struct flat_binder_object;

/* Who receives a parcel from the driver: resolves its objects, and gets its
 * buffer back when the parcel is freed. */
struct parcel_receiver {
	/* A new reference to the binder @obj names (a BINDER_TYPE_BINDER or
	 * BINDER_TYPE_HANDLE: strong; their WEAK_ kinds: weak), or NULL. Called
	 * while the parcel is made. */
	struct ubinder_binder *(*resolve)(const struct parcel_receiver *rx,
					  const struct flat_binder_object *obj);
	/* Called once, when the parcel is freed, with @release_arg and @buffer. */
	void (*release)(void *release_arg, uint64_t buffer);
	void *release_arg;
	uint64_t buffer; /* the driver buffer the parcel's data is in */
	/* Where the driver delivers scatter-gather buffers (the receive region):
	 * a PTR object's buffer outside it is never read. */
	uint64_t region, region_size;
};

/*
 * A parcel for a buffer the driver delivered: validates the offsets,
 * resolves binder objects through @rx and takes ownership of descriptors.
 * @rx may be NULL (tests): then nothing is resolved, owned or released.
 */
struct ubinder_parcel *parcel_new_received(const void *data, size_t size, const uint64_t *offsets,
					   size_t noffsets, const struct parcel_receiver *rx);
/* Whether every binder in @p belongs to @ctx. */
bool parcel_objects_in_context(const struct ubinder_parcel *p, const struct ubinder_context *ctx);
/* Raw view for sending. */
void parcel_raw(const struct ubinder_parcel *p, const void **data, size_t *size,
		const uint64_t **offsets, size_t *noffsets);
/* A read view of @src sharing its data (for in-process calls): no ownership. */
struct ubinder_parcel *parcel_new_view(const struct ubinder_parcel *src);

/* --- for parcel_sg.c and hidl_parcel.c, with parcel_impl.h's struct -------- */

struct pobj;

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
