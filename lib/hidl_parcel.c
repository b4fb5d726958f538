/* SPDX-License-Identifier: MIT */
/*
 * HIDL values in parcels (see ubinder/hidl.h): the interface token, reply
 * status, hidl_string, hidl_vec, native handles and interfaces, built on
 * the scatter-gather buffers of parcel_sg.c.
 *
 * A composite write either completes or leaves the parcel as it was
 * (parcel_rewind); a read either completes or leaves the position.
 */
#include <stdlib.h>
#include <string.h>

#include "parcel.h"
#include "parcel_impl.h"
#include "parcel_sg.h"
#include "ubinder/ubinder.h"

/* hidl_string and hidl_vec<T>: pointer, uint32 size, bool owns, padding. */
struct hidl_pointer_struct {
	uint64_t buffer;
	uint32_t size;
	uint8_t owns;
	uint8_t pad[3];
};
_Static_assert(sizeof(struct hidl_pointer_struct) == UBINDER_HIDL_STRING_SIZE, "hidl_string");

#define SIZE_FIELD	     8u /* offsetof(hidl_string, mSize) */
/* libcutils' NATIVE_HANDLE_MAX_FDS / NATIVE_HANDLE_MAX_INTS. */
#define NATIVE_HANDLE_MAX    1024u
/* sizeof(native_handle_t): int32 version, numFds, numInts. */
#define NATIVE_HANDLE_HEADER 12u

/* --- token and status --------------------------------------------------------- */

int ubinder_hidl_write_interface_token(ubinder_parcel *p, const char *descriptor)
{
	const char *d = descriptor ? descriptor : "";

	return parcel_write_plain(p, d, strlen(d) + 1);
}

int ubinder_hidl_read_interface_token(ubinder_parcel *p, const char **descriptor)
{
	const char *s, *nul;
	int err;

	if (p->bad)
		return UBINDER_ERR_BAD_PARCEL;
	if (p->pos >= p->size)
		return UBINDER_ERR_NOT_ENOUGH_DATA;
	s = (const char *)p->data + p->pos;
	nul = memchr(s, 0, p->size - p->pos);
	if (!nul)
		return UBINDER_ERR_BAD_VALUE;
	err = parcel_check_read(p, p->pos, PAD4((size_t)(nul - s) + 1));
	if (err)
		return err;
	*descriptor = s;
	p->pos += PAD4((size_t)(nul - s) + 1);
	return 0;
}

int ubinder_hidl_enforce_interface(ubinder_parcel *p, const char *descriptor)
{
	size_t start = p->pos;
	const char *got;
	int err = ubinder_hidl_read_interface_token(p, &got);

	if (!err && strcmp(got, descriptor ? descriptor : "") == 0)
		return 0;
	p->pos = start;
	return UBINDER_ERR_BAD_TYPE;
}

int ubinder_hidl_write_status(ubinder_parcel *p, int32_t exception, const char *message)
{
	struct parcel_mark m;
	int err;

	parcel_mark(p, &m);
	err = ubinder_parcel_write_int32(p, exception);
	if (!err && exception != UBINDER_EX_NONE)
		err = ubinder_parcel_write_string16_utf8(p, message ? message : "");
	if (!err && exception == UBINDER_EX_SERVICE_SPECIFIC)
		err = ubinder_parcel_write_int32(p, 0);
	if (err)
		parcel_rewind(p, &m);
	return err;
}

#define EX_HAS_REPLY_HEADER (-128)

int ubinder_hidl_read_status(ubinder_parcel *p, int32_t *exception)
{
	size_t start = p->pos;
	const uint16_t *msg;
	int32_t ex, size;
	size_t len;
	int err = ubinder_parcel_read_int32(p, &ex);

	if (!err && ex == EX_HAS_REPLY_HEADER) {
		/* Skipped: its size counts from the size field. */
		size_t at = p->pos;

		err = ubinder_parcel_read_int32(p, &size);
		if (!err && (size < 4 || (size_t)size > p->size - at || size % 4))
			err = UBINDER_ERR_BAD_VALUE;
		if (!err)
			p->pos = at + (size_t)size;
		ex = UBINDER_EX_NONE;
	}
	if (!err && ex != UBINDER_EX_NONE)
		err = ubinder_parcel_read_string16(p, &msg, &len);
	if (!err && ex == UBINDER_EX_SERVICE_SPECIFIC)
		err = ubinder_parcel_read_int32(p, &size);
	if (err) {
		p->pos = start;
		return err;
	}
	if (exception)
		*exception = ex;
	return ex == UBINDER_EX_NONE ? 0 : parcel_exception_status(ex);
}

/* --- strings and vectors ------------------------------------------------------ */

/* Sets the size field of the hidl_string/hidl_vec at @offset of buffer @parent. */
static int set_size_field(ubinder_parcel *p, size_t parent, size_t offset, size_t count)
{
	struct hidl_pointer_struct hs;
	size_t len;
	uint8_t *blob = parcel_own_buffer(p, parent, &len);

	if (!blob || len < sizeof(hs) || offset > len - sizeof(hs))
		return UBINDER_ERR_BAD_VALUE;
	if (count > UINT32_MAX)
		return UBINDER_ERR_BAD_VALUE;
	memcpy(&hs, blob + offset, sizeof(hs));
	hs.size = (uint32_t)count;
	hs.owns = 1;
	memcpy(blob + offset, &hs, sizeof(hs));
	return 0;
}

/* Reads the size field of the hidl_string/hidl_vec at @offset of buffer @parent. */
static int get_size_field(ubinder_parcel *p, size_t parent, size_t offset, size_t *count)
{
	struct hidl_pointer_struct hs;
	size_t len;
	const uint8_t *buf = parcel_buffer_at(p, parent, &len);

	if (!buf || len < sizeof(hs) || offset > len - sizeof(hs))
		return UBINDER_ERR_BAD_VALUE;
	memcpy(&hs, buf + offset, sizeof(hs));
	*count = hs.size;
	return 0;
}

/* A top-level hidl_string or hidl_vec struct; *handle receives its buffer's handle. */
static int write_pointer_struct(ubinder_parcel *p, size_t *handle)
{
	struct hidl_pointer_struct hs = { 0 };

	return ubinder_parcel_write_buffer(p, &hs, sizeof(hs), handle);
}

/*
 * The data of a hidl_string or hidl_vec (@bytes at @data, @count characters
 * or elements) embedded at @offset of buffer @parent, with the struct's size
 * field set: both or neither.
 */
static int write_embedded_data(ubinder_parcel *p, const void *data, size_t bytes, size_t count,
			       size_t parent, size_t offset, size_t *handle)
{
	struct parcel_mark m;
	int err;

	parcel_mark(p, &m);
	err = set_size_field(p, parent, offset, count);
	if (!err)
		err = ubinder_parcel_write_embedded_buffer(p, data, bytes, parent, offset, handle);
	if (err)
		parcel_rewind(p, &m);
	return err;
}

/* A top-level hidl_string or hidl_vec: its struct, then its data embedded at offset 0. */
static int write_top_level(ubinder_parcel *p, const void *data, size_t bytes, size_t count,
			   size_t *handle)
{
	struct parcel_mark m;
	size_t h;
	int err;

	parcel_mark(p, &m);
	err = write_pointer_struct(p, &h);
	if (!err)
		err = write_embedded_data(p, data, bytes, count, h, 0, handle);
	if (err)
		parcel_rewind(p, &m);
	return err;
}

int ubinder_hidl_write_embedded_string(ubinder_parcel *p, const char *s, size_t parent,
				       size_t offset)
{
	const char *str = s ? s : "";
	size_t len = strlen(str);

	return write_embedded_data(p, str, len + 1, len, parent, offset, NULL);
}

int ubinder_hidl_write_string(ubinder_parcel *p, const char *s)
{
	const char *str = s ? s : "";
	size_t len = strlen(str);

	return write_top_level(p, str, len + 1, len, NULL);
}

int ubinder_hidl_read_embedded_string(ubinder_parcel *p, size_t parent, size_t offset,
				      const char **s, size_t *len)
{
	size_t start = p->pos, n;
	const void *chars;
	int err = get_size_field(p, parent, offset, &n);

	if (!err)
		err = ubinder_parcel_read_embedded_buffer(p, n + 1, parent, offset, NULL, &chars);
	if (!err && !chars)
		err = UBINDER_ERR_UNEXPECTED_NULL; /* libhwbinder's readEmbeddedBuffer */
	if (!err && (((const char *)chars)[n] != '\0' || memchr(chars, 0, n)))
		err = UBINDER_ERR_BAD_VALUE;
	if (err) {
		p->pos = start;
		return err;
	}
	*s = chars;
	if (len)
		*len = n;
	return 0;
}

int ubinder_hidl_read_string(ubinder_parcel *p, const char **s, size_t *len)
{
	size_t start = p->pos, h;
	const void *hs;
	int err = ubinder_parcel_read_buffer(p, UBINDER_HIDL_STRING_SIZE, &h, &hs);

	if (!err && !hs)
		err = UBINDER_ERR_UNEXPECTED_NULL;
	if (!err)
		err = ubinder_hidl_read_embedded_string(p, h, 0, s, len);
	if (err)
		p->pos = start;
	return err;
}

/* A vector's elements fit a parcel. */
static bool vec_fits(const void *elems, size_t count, size_t elem_size)
{
	return !count || (elems && elem_size && count <= MAX_PARCEL / elem_size);
}

int ubinder_hidl_write_embedded_vec(ubinder_parcel *p, const void *elems, size_t count,
				    size_t elem_size, size_t parent, size_t offset,
				    size_t *elems_handle)
{
	if (!vec_fits(elems, count, elem_size))
		return UBINDER_ERR_BAD_VALUE;
	return write_embedded_data(p, count ? elems : NULL, count * elem_size, count, parent,
				   offset, elems_handle);
}

int ubinder_hidl_write_vec(ubinder_parcel *p, const void *elems, size_t count, size_t elem_size,
			   size_t *elems_handle)
{
	if (!vec_fits(elems, count, elem_size))
		return UBINDER_ERR_BAD_VALUE;
	return write_top_level(p, count ? elems : NULL, count * elem_size, count, elems_handle);
}

int ubinder_hidl_read_embedded_vec(ubinder_parcel *p, size_t elem_size, size_t parent,
				   size_t offset, const void **elems, size_t *count,
				   size_t *elems_handle)
{
	size_t start = p->pos, n, h;
	const void *data;
	int err = get_size_field(p, parent, offset, &n);

	if (!err && n && (!elem_size || n > MAX_PARCEL / elem_size))
		err = UBINDER_ERR_BAD_VALUE;
	if (!err)
		err = ubinder_parcel_read_embedded_buffer(p, n * elem_size, parent, offset, &h,
							  &data);
	if (!err && n && !data)
		err = UBINDER_ERR_BAD_VALUE; /* elements claimed, none sent */
	if (err) {
		p->pos = start;
		return err;
	}
	*elems = n ? data : NULL;
	*count = n;
	if (elems_handle)
		*elems_handle = n ? h : SIZE_MAX;
	return 0;
}

int ubinder_hidl_read_vec(ubinder_parcel *p, size_t elem_size, const void **elems, size_t *count,
			  size_t *elems_handle)
{
	size_t start = p->pos, h;
	const void *hv;
	int err = ubinder_parcel_read_buffer(p, UBINDER_HIDL_VEC_SIZE, &h, &hv);

	if (!err && !hv)
		err = UBINDER_ERR_BAD_VALUE;
	if (!err)
		err = ubinder_hidl_read_embedded_vec(p, elem_size, h, 0, elems, count,
						     elems_handle);
	if (err)
		p->pos = start;
	return err;
}

int ubinder_hidl_write_string_vec(ubinder_parcel *p, const char *const *strings, size_t count)
{
	struct hidl_pointer_struct *elems = NULL;
	struct parcel_mark m;
	size_t h;
	int err;

	if (count && !strings)
		return UBINDER_ERR_BAD_VALUE;
	if (count) {
		elems = calloc(count, sizeof(*elems));
		if (!elems)
			return UBINDER_ERR_NO_MEMORY;
	}
	parcel_mark(p, &m);
	err = ubinder_hidl_write_vec(p, elems, count, sizeof(*elems), &h);
	for (size_t i = 0; !err && i < count; i++)
		err = ubinder_hidl_write_embedded_string(p, strings[i], h, i * sizeof(*elems));
	if (err)
		parcel_rewind(p, &m);
	free(elems);
	return err;
}

void ubinder_hidl_free_strings(char **strings)
{
	for (size_t i = 0; strings && strings[i]; i++)
		free(strings[i]);
	free(strings);
}

int ubinder_hidl_read_string_vec(ubinder_parcel *p, char ***strings, size_t *count)
{
	size_t start = p->pos, n, h;
	const void *elems;
	char **out;
	int err = ubinder_hidl_read_vec(p, UBINDER_HIDL_STRING_SIZE, &elems, &n, &h);

	if (err)
		return err;
	out = calloc(n + 1, sizeof(*out));
	if (!out) {
		p->pos = start;
		return UBINDER_ERR_NO_MEMORY;
	}
	for (size_t i = 0; !err && i < n; i++) {
		const char *s;
		size_t len;

		err = ubinder_hidl_read_embedded_string(p, h, i * UBINDER_HIDL_STRING_SIZE, &s,
							&len);
		if (!err && !(out[i] = strndup(s, len)))
			err = UBINDER_ERR_NO_MEMORY;
	}
	if (err) {
		ubinder_hidl_free_strings(out);
		p->pos = start;
		return err;
	}
	*strings = out;
	if (count)
		*count = n;
	return 0;
}

/* --- native handles ----------------------------------------------------------- */

static int write_native_handle(ubinder_parcel *p, const struct ubinder_hidl_native_handle *h,
			       bool embedded, size_t parent, size_t offset)
{
	struct parcel_mark m;
	size_t size, bh;
	int32_t *nh;
	int err;

	if (!h)
		return UBINDER_ERR_BAD_VALUE;
	parcel_mark(p, &m);
	if (h->null) {
		/* The size 0 alone; an embedded one leaves its pointer field null. */
		if (embedded) {
			size_t len;
			uint8_t *pb = parcel_own_buffer(p, parent, &len);

			if (!pb || len < sizeof(uint64_t) || offset > len - sizeof(uint64_t))
				return UBINDER_ERR_BAD_VALUE;
			memset(pb + offset, 0, sizeof(uint64_t));
		}
		return ubinder_parcel_write_uint64(p, 0);
	}
	if (h->nfds > NATIVE_HANDLE_MAX || h->nints > NATIVE_HANDLE_MAX || (h->nfds && !h->fds) ||
	    (h->nints && !h->ints))
		return UBINDER_ERR_BAD_VALUE;
	size = NATIVE_HANDLE_HEADER + (h->nfds + h->nints) * sizeof(int32_t);
	nh = malloc(size);
	if (!nh)
		return UBINDER_ERR_NO_MEMORY;
	nh[0] = NATIVE_HANDLE_HEADER; /* version: sizeof(native_handle_t) */
	nh[1] = (int32_t)h->nfds;
	nh[2] = (int32_t)h->nints;
	for (size_t i = 0; i < h->nfds; i++)
		nh[3 + i] = -1; /* the fd array writes its duplicates here */
	if (h->nints)
		memcpy(nh + 3 + h->nfds, h->ints, h->nints * sizeof(int32_t));
	err = ubinder_parcel_write_uint64(p, size);
	if (!err)
		err = embedded ? ubinder_parcel_write_embedded_buffer(p, nh, size, parent, offset,
								      &bh)
			       : ubinder_parcel_write_buffer(p, nh, size, &bh);
	if (!err)
		err = ubinder_parcel_write_fd_array(p, bh, NATIVE_HANDLE_HEADER, h->fds, h->nfds);
	if (err)
		parcel_rewind(p, &m);
	free(nh);
	return err;
}

int ubinder_hidl_write_native_handle(ubinder_parcel *p, const struct ubinder_hidl_native_handle *h)
{
	return write_native_handle(p, h, false, 0, 0);
}

int ubinder_hidl_write_embedded_native_handle(ubinder_parcel *p,
					      const struct ubinder_hidl_native_handle *h,
					      size_t parent, size_t offset)
{
	return write_native_handle(p, h, true, parent, offset);
}

static int read_native_handle(ubinder_parcel *p, bool embedded, size_t parent, size_t offset,
			      struct ubinder_hidl_native_handle *h)
{
	size_t start = p->pos, bh;
	const int32_t *nh;
	const void *buf;
	const int *fds;
	uint64_t size;
	int32_t nfds, nints;
	int err = ubinder_parcel_read_uint64(p, &size);

	if (err)
		return UBINDER_ERR_BAD_VALUE; /* as libhwbinder */
	if (size == 0) {
		/* A null handle: the parent's pointer field must be null too. */
		if (embedded) {
			size_t len;
			const uint8_t *pb = parcel_buffer_at(p, parent, &len);
			uint64_t slot = 1;

			if (pb && len >= sizeof(slot) && offset <= len - sizeof(slot))
				memcpy(&slot, pb + offset, sizeof(slot));
			if (slot != 0) {
				p->pos = start;
				return UBINDER_ERR_BAD_VALUE;
			}
		}
		*h = (struct ubinder_hidl_native_handle){ .null = true };
		return 0;
	}
	err = UBINDER_ERR_BAD_VALUE;
	if (size < NATIVE_HANDLE_HEADER ||
	    size > NATIVE_HANDLE_HEADER + 2 * NATIVE_HANDLE_MAX * sizeof(int32_t))
		goto fail;
	err = embedded ? ubinder_parcel_read_embedded_buffer(p, size, parent, offset, &bh, &buf)
		       : ubinder_parcel_read_buffer(p, size, &bh, &buf);
	if (!err && !buf)
		err = UBINDER_ERR_BAD_VALUE;
	if (err)
		goto fail;
	nh = buf;
	memcpy(&nfds, nh + 1, sizeof(nfds));
	memcpy(&nints, nh + 2, sizeof(nints));
	err = UBINDER_ERR_BAD_VALUE;
	if (nfds < 0 || (uint32_t)nfds > NATIVE_HANDLE_MAX || nints < 0 ||
	    (uint32_t)nints > NATIVE_HANDLE_MAX ||
	    size != NATIVE_HANDLE_HEADER + ((uint64_t)nfds + (uint64_t)nints) * sizeof(int32_t))
		goto fail;
	err = ubinder_parcel_read_fd_array(p, bh, NATIVE_HANDLE_HEADER, (size_t)nfds, &fds);
	if (err)
		goto fail;
	*h = (struct ubinder_hidl_native_handle){
		.fds = fds,
		.nfds = (size_t)nfds,
		.ints = nh + 3 + nfds,
		.nints = (size_t)nints,
	};
	return 0;
fail:
	p->pos = start;
	return err;
}

int ubinder_hidl_read_native_handle(ubinder_parcel *p, struct ubinder_hidl_native_handle *h)
{
	return read_native_handle(p, false, 0, 0, h);
}

int ubinder_hidl_read_embedded_native_handle(ubinder_parcel *p, size_t parent, size_t offset,
					     struct ubinder_hidl_native_handle *h)
{
	return read_native_handle(p, true, parent, offset, h);
}

/* --- interfaces ----------------------------------------------------------------- */

int ubinder_hidl_write_binder(ubinder_parcel *p, ubinder_binder *binder)
{
	return parcel_write_flat_binder(p, binder, 0);
}

int ubinder_hidl_read_binder(ubinder_parcel *p, ubinder_binder **binder)
{
	int err = parcel_read_flat_binder(p, binder, 0);

	/* libhwbinder's unflatten_binder: no object there is BAD_TYPE. */
	return err == UBINDER_ERR_NOT_ENOUGH_DATA ? UBINDER_ERR_BAD_TYPE : err;
}
