/* SPDX-License-Identifier: MIT */
/*
 * Scatter-gather buffers (BINDER_TYPE_PTR) and fd arrays (BINDER_TYPE_FDA)
 * in parcels (see ubinder/hidl.h and parcel_impl.h).
 *
 * Reading trusts nothing in the data: an object is taken as a buffer only
 * if it is recorded in the offsets array (or is a null one, which carries no
 * address), its address range must lie where the driver delivers buffers
 * (the receive region), and a child is accepted only if its parent is an
 * earlier recorded buffer whose pointer field at parent_offset, inside it,
 * holds the child's address.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "parcel.h"
#include "parcel_impl.h"
#include "parcel_sg.h"

#define BBO_SIZE sizeof(struct binder_buffer_object)
#define FDA_SIZE sizeof(struct binder_fd_array_object)

static void release_object(struct ubinder_parcel *p, size_t i);

/* A written parcel's buffer @handle (with its copy), or NULL. */
static struct pobj *own_buffer(struct ubinder_parcel *p, size_t handle)
{
	if (handle >= p->nobj || p->objs[handle].type != BINDER_TYPE_PTR || !p->objs[handle].blob)
		return NULL;
	return &p->objs[handle];
}

static int write_ptr(struct ubinder_parcel *p, const void *data, size_t len, bool has_parent,
		     size_t parent, size_t parent_offset, size_t *handle)
{
	struct binder_buffer_object obj = {
		.hdr.type = BINDER_TYPE_PTR,
		.flags = has_parent ? BINDER_BUFFER_FLAG_HAS_PARENT : 0,
		.length = len,
		.parent = has_parent ? parent : 0,
		.parent_offset = has_parent ? parent_offset : 0,
	};
	size_t index = p->nobj;
	struct pobj *par = NULL;
	uint64_t addr = 0;
	void *blob;
	int err;

	if (p->readonly)
		return UBINDER_ERR_INVALID_OPERATION;
	if (has_parent) {
		par = own_buffer(p, parent);
		if (!par || par->blob_len < 8 || parent_offset > par->blob_len - 8)
			return UBINDER_ERR_BAD_VALUE;
	}
	if (!data) {
		/* Not recorded: the driver has nothing to copy or fix up. */
		err = parcel_write_plain(p, &obj, sizeof(obj));
		if (err)
			return err;
		if (par)
			memset((uint8_t *)par->blob + parent_offset, 0, 8);
		if (handle)
			*handle = SIZE_MAX;
		return 0;
	}
	if (len > MAX_PARCEL)
		return UBINDER_ERR_NO_MEMORY;
	blob = malloc(len ? len : 1);
	if (!blob)
		return UBINDER_ERR_NO_MEMORY;
	if (len)
		memcpy(blob, data, len);
	obj.buffer = (uintptr_t)blob;
	p->release_object = release_object;
	err = parcel_write_recorded(p, &obj, sizeof(obj),
				    (struct pobj){ BINDER_TYPE_PTR, NULL, -1, blob, len });
	if (err) {
		free(blob);
		return err;
	}
	if (has_parent) {
		/* objs[] may have moved: the parent is found again by its index. */
		addr = (uintptr_t)blob;
		memcpy((uint8_t *)p->objs[parent].blob + parent_offset, &addr, sizeof(addr));
	}
	if (handle)
		*handle = index;
	return 0;
}

int ubinder_parcel_write_buffer(ubinder_parcel *p, const void *data, size_t len, size_t *handle)
{
	return write_ptr(p, data, len, false, 0, 0, handle);
}

int ubinder_parcel_write_embedded_buffer(ubinder_parcel *p, const void *data, size_t len,
					 size_t parent, size_t parent_offset, size_t *handle)
{
	return write_ptr(p, data, len, true, parent, parent_offset, handle);
}

int ubinder_parcel_write_fd_array(ubinder_parcel *p, size_t parent, size_t parent_offset,
				  const int *fds, size_t n)
{
	struct binder_fd_array_object obj = {
		.hdr.type = BINDER_TYPE_FDA,
		.num_fds = n,
		.parent = parent,
		.parent_offset = parent_offset,
	};
	struct pobj *par;
	int32_t *slots;
	size_t done;
	int err = 0;

	if (p->readonly)
		return UBINDER_ERR_INVALID_OPERATION;
	par = own_buffer(p, parent);
	/* The driver's rules: 4-aligned, inside the parent. */
	if (!par || parent_offset % 4 || parent_offset > par->blob_len ||
	    n > (par->blob_len - parent_offset) / sizeof(int32_t) || (n && !fds))
		return UBINDER_ERR_BAD_VALUE;
	slots = (int32_t *)(void *)((uint8_t *)par->blob + parent_offset);
	for (done = 0; done < n; done++) {
		int copy = fds[done] < 0 ? -1 : fcntl(fds[done], F_DUPFD_CLOEXEC, 0);

		if (copy < 0) {
			err = errno == EMFILE || errno == ENFILE ? UBINDER_ERR_NO_MEMORY
								 : UBINDER_ERR_BAD_VALUE;
			break;
		}
		slots[done] = copy;
	}
	p->release_object = release_object;
	if (!err)
		err = parcel_write_recorded(p, &obj, sizeof(obj),
					    (struct pobj){ BINDER_TYPE_FDA, NULL, -1 });
	if (err) {
		while (done > 0) {
			close(slots[--done]);
			slots[done] = -1;
		}
	}
	return err;
}

/* A written parcel's release_object: a buffer's copy, an fd array's descriptors. */
static void release_object(struct ubinder_parcel *p, size_t i)
{
	struct pobj *o = &p->objs[i];

	if (o->type == BINDER_TYPE_FDA) {
		struct binder_fd_array_object f;
		struct pobj *par;

		memcpy(&f, p->data + p->offsets[i], sizeof(f));
		par = own_buffer(p, f.parent);
		for (uint64_t k = 0; par && k < f.num_fds; k++) {
			int32_t fd;

			memcpy(&fd, (uint8_t *)par->blob + f.parent_offset + k * sizeof(fd),
			       sizeof(fd));
			if (fd >= 0)
				close(fd);
		}
	}
	free(o->blob);
	o->blob = NULL;
}

uint64_t parcel_buffers_size(const struct ubinder_parcel *p)
{
	uint64_t total = 0;

	for (size_t i = 0; i < p->nobj; i++) {
		if (p->objs[i].type == BINDER_TYPE_PTR && p->objs[i].blob)
			total += PAD8(p->objs[i].blob_len);
	}
	return total;
}

void parcel_set_sg_bounds(struct ubinder_parcel *p, const void *base, size_t len)
{
	p->sg_base = (uintptr_t)base;
	p->sg_len = len;
}

/* --- reading ------------------------------------------------------------------ */

/* May the bytes [addr, addr + len) a buffer object names be read? */
static bool sg_readable(const struct ubinder_parcel *p, uint64_t addr, uint64_t len)
{
	if (!p->readonly || p->view)
		return true; /* our own copies */
	return p->sg_len && addr >= p->sg_base && len <= p->sg_len &&
	       addr - p->sg_base <= p->sg_len - len;
}

/* Recorded buffer @handle, copied out of the data, if it is readable. */
static bool recorded_buffer(const struct ubinder_parcel *p, size_t handle,
			    struct binder_buffer_object *out)
{
	if (handle >= p->nobj || p->objs[handle].type != BINDER_TYPE_PTR)
		return false;
	memcpy(out, p->data + p->offsets[handle], sizeof(*out));
	return out->buffer && sg_readable(p, out->buffer, out->length);
}

static int read_ptr(struct ubinder_parcel *p, size_t len, bool has_parent, size_t parent,
		    size_t parent_offset, size_t *handle, const void **data)
{
	struct binder_buffer_object obj, par;
	size_t pos = p->pos;
	long i;

	if (p->bad)
		return UBINDER_ERR_BAD_PARCEL;
	/* A missing object is BAD_VALUE, as libhwbinder's readBuffer says. */
	if (pos > p->size || p->size - pos < BBO_SIZE)
		return UBINDER_ERR_BAD_VALUE;
	i = parcel_object_at(p, pos);
	if (i >= 0) {
		if (p->objs[i].type != BINDER_TYPE_PTR)
			return UBINDER_ERR_BAD_VALUE;
		memcpy(&obj, p->data + pos, sizeof(obj));
		if (!obj.buffer || !sg_readable(p, obj.buffer, obj.length))
			return UBINDER_ERR_BAD_VALUE;
	} else {
		/* Only a null buffer may be left out of the offsets array. */
		if (parcel_check_read(p, pos, BBO_SIZE))
			return UBINDER_ERR_BAD_VALUE;
		memcpy(&obj, p->data + pos, sizeof(obj));
		if (obj.hdr.type != BINDER_TYPE_PTR || obj.buffer)
			return UBINDER_ERR_BAD_VALUE;
	}
	if (obj.length != len ||
	    obj.flags != (has_parent ? (uint32_t)BINDER_BUFFER_FLAG_HAS_PARENT : 0))
		return UBINDER_ERR_BAD_VALUE;
	if (has_parent) {
		uint64_t slot;

		if (obj.parent != parent || obj.parent_offset != parent_offset ||
		    (i >= 0 && parent >= (size_t)i) || !recorded_buffer(p, parent, &par) ||
		    par.length < sizeof(slot) || parent_offset > par.length - sizeof(slot))
			return UBINDER_ERR_BAD_VALUE;
		memcpy(&slot, (const uint8_t *)(uintptr_t)par.buffer + parent_offset, sizeof(slot));
		if (slot != obj.buffer)
			return UBINDER_ERR_BAD_VALUE;
	}
	*data = obj.buffer ? (const void *)(uintptr_t)obj.buffer : NULL;
	if (handle)
		*handle = i >= 0 ? (size_t)i : SIZE_MAX;
	p->pos = pos + BBO_SIZE;
	return 0;
}

int ubinder_parcel_read_buffer(ubinder_parcel *p, size_t len, size_t *handle, const void **data)
{
	return read_ptr(p, len, false, 0, 0, handle, data);
}

int ubinder_parcel_read_embedded_buffer(ubinder_parcel *p, size_t len, size_t parent,
					size_t parent_offset, size_t *handle, const void **data)
{
	return read_ptr(p, len, true, parent, parent_offset, handle, data);
}

int ubinder_parcel_read_fd_array(ubinder_parcel *p, size_t parent, size_t parent_offset, size_t n,
				 const int **fds)
{
	struct binder_fd_array_object f;
	struct binder_buffer_object par;
	long i;

	if (p->bad)
		return UBINDER_ERR_BAD_PARCEL;
	if (p->pos > p->size || p->size - p->pos < FDA_SIZE)
		return UBINDER_ERR_BAD_VALUE;
	i = parcel_object_at(p, p->pos);
	if (i < 0 || p->objs[i].type != BINDER_TYPE_FDA)
		return UBINDER_ERR_BAD_VALUE;
	memcpy(&f, p->data + p->pos, sizeof(f));
	if (f.num_fds != n || f.parent != parent || f.parent_offset != parent_offset ||
	    parent >= (size_t)i || parent_offset % 4 || !recorded_buffer(p, parent, &par) ||
	    parent_offset > par.length || n > (par.length - parent_offset) / sizeof(int32_t) ||
	    (par.buffer + parent_offset) % _Alignof(int))
		return UBINDER_ERR_BAD_VALUE;
	*fds = (const int *)(uintptr_t)(par.buffer + parent_offset);
	p->pos += FDA_SIZE;
	return 0;
}

/* --- undoing a composite write ---------------------------------------------------- */

void parcel_mark(const struct ubinder_parcel *p, struct parcel_mark *m)
{
	m->pos = p->pos;
	m->size = p->size;
	m->nobj = p->nobj;
}

void parcel_rewind(struct ubinder_parcel *p, const struct parcel_mark *m)
{
	while (p->nobj > m->nobj) {
		struct pobj *o = &p->objs[p->nobj - 1];

		release_object(p, p->nobj - 1);
		ubinder_binder_unref(o->binder);
		if (o->fd >= 0)
			close(o->fd);
		p->nobj--;
	}
	p->pos = m->pos;
	p->size = m->size;
}

void *parcel_own_buffer(struct ubinder_parcel *p, size_t handle, size_t *len)
{
	struct pobj *o = p->readonly ? NULL : own_buffer(p, handle);

	if (!o)
		return NULL;
	*len = o->blob_len;
	return o->blob;
}

const void *parcel_buffer_at(const struct ubinder_parcel *p, size_t handle, size_t *len)
{
	struct binder_buffer_object b;

	if (p->bad || !recorded_buffer(p, handle, &b))
		return NULL;
	*len = b.length;
	return (const void *)(uintptr_t)b.buffer;
}
