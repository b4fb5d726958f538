/* SPDX-License-Identifier: MIT */
/*
 * Internal: what ipc.c and hidl_parcel.c need of a parcel's scatter-gather
 * buffers and fd arrays beyond the public interface (ubinder/parcel.h): the
 * size of a written parcel's buffers, undoing a half-written value, and
 * access to recorded buffers.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ubinder_parcel;

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
