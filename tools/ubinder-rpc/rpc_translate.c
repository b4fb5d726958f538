/* SPDX-License-Identifier: MIT */
/*
 * Parcel translation (rpc_translate.h). Both directions walk the layout's
 * fields over the input, checking each field's bytes lie inside it (and, in
 * kernel form, that plain data never covers an object) before copying.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_translate.h"

#define STATUS_BAD_VALUE (-EINVAL)
/* The stability word after a binder (Stability::SYSTEM). */
#define STABILITY_SYSTEM 0x0c
/* A kernel-form flat_binder_object's size. */
#define FLAT_OBJECT_SIZE 24u
/* The RPC form of a binder: i32 present, u64 address, i32 stability. */
#define RPC_BINDER_SIZE	 16u
#define RPC_NULL_SIZE	 8u

void rpc_buf_free(struct rpc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->size = b->cap = 0;
	b->nobjects = 0;
}

static int buf_put(struct rpc_buf *b, const void *p, size_t n)
{
	if (n > RPC_MAX_BODY_SIZE || b->size > RPC_MAX_BODY_SIZE - n)
		return STATUS_BAD_VALUE;
	if (b->size + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap < b->size + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->size, p, n);
	b->size += n;
	return 0;
}

static int buf_u32(struct rpc_buf *b, uint32_t v)
{
	return buf_put(b, &v, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The bytes a String16 at @p (@avail bytes) takes, or 0 if it does not fit. */
static size_t str16_size(const uint8_t *p, size_t avail)
{
	int32_t n;

	if (avail < 4)
		return 0;
	n = (int32_t)get_u32(p);
	if (n == -1)
		return 4;
	if (n < 0 || (size_t)n > (avail - 4) / 2)
		return 0;
	size_t size = 4 + (((size_t)n + 1) * 2 + 3) / 4 * 4;

	return size <= avail ? size : 0;
}

/* The bytes plain field @f takes at @p, or 0 if it does not fit. */
static size_t plain_size(enum rpc_field f, const uint8_t *p, size_t avail)
{
	switch (f) {
	case RPC_FIELD_I32:
	case RPC_FIELD_STATUS:
		return avail >= 4 ? 4 : 0;
	case RPC_FIELD_I64:
		return avail >= 8 ? 8 : 0;
	case RPC_FIELD_STR16:
		return str16_size(p, avail);
	default:
		return 0;
	}
}

/* The descriptor of a String16 that is all ASCII (malloc'd), else NULL. */
static char *ascii_descriptor(const uint8_t *p, size_t avail)
{
	size_t size = str16_size(p, avail);
	int32_t n = size ? (int32_t)get_u32(p) : -1;
	char *s;

	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	for (int32_t i = 0; i < n; i++) {
		uint16_t u;

		memcpy(&u, p + 4 + 2 * (size_t)i, 2);
		if (u == 0 || u > 0x7e) {
			free(s);
			return NULL;
		}
		s[i] = (char)u;
	}
	s[n] = '\0';
	return s;
}

/* Whether an object of @in lies in [@from, @to). */
static bool object_within(ubinder_parcel *in, size_t from, size_t to)
{
	size_t n = ubinder_parcel_get_object_count(in), off;
	enum ubinder_object_kind kind;

	for (size_t i = 0; i < n; i++) {
		if (ubinder_parcel_get_object(in, i, &off, &kind) == 0 && off < to &&
		    off + FLAT_OBJECT_SIZE > from)
			return true;
	}
	return false;
}

/* The kernel descriptor object at @off of @in, in RPC form. */
static int fd_to_rpc(ubinder_parcel *in, size_t off, const struct rpc_objects *o,
		     struct rpc_buf *out, size_t *pos)
{
	int fd, err;

	if (!o->fds || out->nobjects == RPC_MAX_OBJECTS || ubinder_parcel_set_position(in, off) ||
	    ubinder_parcel_read_fd(in, &fd))
		return STATUS_BAD_VALUE;
	*pos = ubinder_parcel_get_position(in);
	out->objects[out->nobjects] = (uint32_t)out->size;
	out->fds[out->nobjects] = fd;
	err = buf_u32(out, RPC_OBJECT_FD);
	if (!err)
		err = buf_u32(out, out->nobjects);
	if (!err)
		out->nobjects++;
	return err;
}

/* The rest of @in from @pos: plain data, and descriptors where they are. */
static int rest_to_rpc(ubinder_parcel *in, const uint8_t *data, size_t size, size_t pos,
		       const struct rpc_objects *o, struct rpc_buf *out)
{
	size_t n = ubinder_parcel_get_object_count(in), off;
	enum ubinder_object_kind kind;
	int err;

	for (size_t i = 0; i < n; i++) {
		if (ubinder_parcel_get_object(in, i, &off, &kind))
			return STATUS_BAD_VALUE;
		if (off + FLAT_OBJECT_SIZE <= pos)
			continue; /* placed by the layout */
		if (off < pos || kind != UBINDER_OBJECT_FD)
			return STATUS_BAD_VALUE; /* a binder no layout places */
		err = buf_put(out, data + pos, off - pos);
		if (!err)
			err = fd_to_rpc(in, off, o, out, &pos);
		if (err)
			return err;
	}
	return buf_put(out, data + pos, size - pos);
}

int rpc_parcel_to_rpc(const struct rpc_layouts *l, struct rpc_parcel_kind *kind, ubinder_parcel *in,
		      const struct rpc_objects *o, struct rpc_buf *out)
{
	static const uint8_t empty[4];
	const uint8_t *data = ubinder_parcel_get_data(in);
	size_t size = ubinder_parcel_get_size(in), pos = 0;
	const struct rpc_layout *y;
	int err;

	if (!data)
		data = empty; /* an empty parcel may have no buffer */
	if (size % 4)
		return STATUS_BAD_VALUE;
	if (!kind->reply && kind->code >= UBINDER_FIRST_CALL_TRANSACTION &&
	    kind->code <= UBINDER_LAST_CALL_TRANSACTION) {
		uint8_t token[4096];
		int n = rpc_token_kernel_to_rpc(data, size, token, sizeof(token));

		if (n < 0 || object_within(in, 0, (size_t)n))
			return STATUS_BAD_VALUE;
		free(kind->descriptor);
		kind->descriptor = ascii_descriptor(token, (size_t)n - RPC_TOKEN_KERNEL_EXTRA);
		err = buf_put(out, token, (size_t)n - RPC_TOKEN_KERNEL_EXTRA);
		if (err)
			return err;
		pos = (size_t)n;
	}
	y = rpc_layouts_find(l, kind->descriptor, kind->code, kind->reply);
	for (unsigned i = 0; y && i < y->nfields; i++) {
		enum rpc_field f = y->fields[i];
		ubinder_binder *b = NULL;
		uint64_t address;
		size_t n;

		if (f == RPC_FIELD_FD) {
			err = fd_to_rpc(in, pos, o, out, &pos);
			if (err)
				return err;
			continue;
		}
		if (f == RPC_FIELD_BINDER) {
			if (ubinder_parcel_set_position(in, pos) ||
			    ubinder_parcel_read_binder(in, &b))
				return STATUS_BAD_VALUE;
			pos = ubinder_parcel_get_position(in);
			if (!b) {
				err = buf_u32(out, RPC_OBJECT_BINDER_NULL);
				if (!err)
					err = buf_u32(out, 0);
			} else {
				err = o->to_address(o->session, b, &address);
				ubinder_binder_unref(b);
				if (!err)
					err = buf_u32(out, RPC_OBJECT_BINDER);
				if (!err)
					err = buf_put(out, &address, 8);
				if (!err)
					err = buf_u32(out, STABILITY_SYSTEM);
			}
			if (err)
				return err;
			continue;
		}
		n = plain_size(f, data + pos, size - pos);
		if (!n || object_within(in, pos, pos + n))
			return STATUS_BAD_VALUE;
		err = buf_put(out, data + pos, n);
		if (err)
			return err;
		pos += n;
		if (f == RPC_FIELD_STATUS && get_u32(data + pos - 4) != 0)
			break; /* an exception: what follows is its message */
	}
	return rest_to_rpc(in, data, size, pos, o, out);
}

/*
 * Appends @n bytes (a multiple of 4) of plain data to @out. libubinder has
 * no raw append, and a word at a time costs most of a large call's time;
 * but a byte array is its length word and its bytes, unpadded when the
 * length is a multiple of 4: so the data after the first word goes as one
 * byte array, whose length word is then overwritten with the first word
 * (plain data may be rewritten in place; the parcel's size stays).
 */
static int put_words(ubinder_parcel *out, const uint8_t *p, size_t n)
{
	size_t at = ubinder_parcel_get_position(out);
	int err;

	if (n < 64) {
		for (size_t i = 0; i < n; i += 4) {
			err = ubinder_parcel_write_uint32(out, get_u32(p + i));
			if (err)
				return err;
		}
		return 0;
	}
	err = ubinder_parcel_write_byte_array(out, p + 4, n - 4);
	if (!err)
		err = ubinder_parcel_set_position(out, at);
	if (!err)
		err = ubinder_parcel_write_uint32(out, get_u32(p));
	if (!err)
		err = ubinder_parcel_set_position(out, at + n);
	return err;
}

/* The RPC descriptor object at @pos (table entry *next) in kernel form. */
static int fd_to_kernel(const struct rpc_parcel_view *in, size_t pos, uint32_t *next,
			const int *fds, unsigned nfds, ubinder_parcel *out)
{
	uint32_t index;

	if (*next >= in->object_count || rpc_object_position(in, *next) != pos ||
	    in->data_size - pos < 8 || get_u32(in->data + pos) != RPC_OBJECT_FD)
		return STATUS_BAD_VALUE;
	index = get_u32(in->data + pos + 4);
	if (index >= nfds)
		return STATUS_BAD_VALUE;
	(*next)++;
	return ubinder_parcel_write_fd(out, fds[index]) ? STATUS_BAD_VALUE : 0;
}

int rpc_parcel_to_kernel(const struct rpc_layouts *l, struct rpc_parcel_kind *kind,
			 const struct rpc_parcel_view *in, const int *fds, unsigned nfds,
			 const struct rpc_objects *o, ubinder_parcel *out)
{
	uint32_t next = 0; /* the next object table entry */
	static const uint8_t empty[4];
	const uint8_t *data = in->data ? in->data : empty;
	size_t size = in->data_size, pos = 0;
	const struct rpc_layout *y;
	int err;

	if (size % 4 || (in->object_count && !o->fds))
		return STATUS_BAD_VALUE; /* descriptors: no transport on this session */
	if (!kind->reply && kind->code >= UBINDER_FIRST_CALL_TRANSACTION &&
	    kind->code <= UBINDER_LAST_CALL_TRANSACTION) {
		uint8_t token[4096 + RPC_TOKEN_KERNEL_EXTRA];
		int n = rpc_token_rpc_to_kernel(data, size, token, sizeof(token));

		if (n < 0)
			return STATUS_BAD_VALUE;
		free(kind->descriptor);
		kind->descriptor = ascii_descriptor(data, (size_t)n);
		err = put_words(out, token, (size_t)n + RPC_TOKEN_KERNEL_EXTRA);
		if (err)
			return err;
		pos = (size_t)n;
	}
	y = rpc_layouts_find(l, kind->descriptor, kind->code, kind->reply);
	for (unsigned i = 0; y && i < y->nfields; i++) {
		enum rpc_field f = y->fields[i];
		size_t n;

		if (f == RPC_FIELD_FD) {
			err = fd_to_kernel(in, pos, &next, fds, nfds, out);
			if (err)
				return err;
			pos += 8;
			continue;
		}
		if (f == RPC_FIELD_BINDER) {
			ubinder_binder *b = NULL;
			uint32_t type;
			uint64_t address;

			if (size - pos < RPC_NULL_SIZE)
				return STATUS_BAD_VALUE;
			type = get_u32(data + pos);
			if (next < in->object_count &&
			    rpc_object_position(in, next) < pos + (type == RPC_OBJECT_BINDER
									   ? RPC_BINDER_SIZE
									   : RPC_NULL_SIZE))
				return STATUS_BAD_VALUE; /* a binder over a descriptor */
			if (type == RPC_OBJECT_BINDER_NULL) {
				pos += RPC_NULL_SIZE;
			} else if (type == RPC_OBJECT_BINDER && size - pos >= RPC_BINDER_SIZE) {
				memcpy(&address, data + pos + 4, 8);
				err = o->from_address(o->session, address, y->binder_descriptor[i],
						      &b);
				if (err)
					return err;
				pos += RPC_BINDER_SIZE;
			} else {
				return STATUS_BAD_VALUE;
			}
			err = ubinder_parcel_write_binder(out, b);
			ubinder_binder_unref(b);
			if (err)
				return err;
			continue;
		}
		n = plain_size(f, data + pos, size - pos);
		if (!n || (next < in->object_count && rpc_object_position(in, next) < pos + n))
			return STATUS_BAD_VALUE; /* plain data over a descriptor */
		err = put_words(out, data + pos, n);
		if (err)
			return err;
		pos += n;
		if (f == RPC_FIELD_STATUS && get_u32(data + pos - 4) != 0)
			break;
	}
	/* the rest: plain data, and descriptors where the table lists them */
	for (; next < in->object_count;) {
		uint32_t at = rpc_object_position(in, next);

		if (at < pos)
			return STATUS_BAD_VALUE;
		err = put_words(out, data + pos, at - pos);
		if (!err)
			err = fd_to_kernel(in, at, &next, fds, nfds, out);
		if (err)
			return err;
		pos = at + 8;
	}
	return put_words(out, data + pos, size - pos);
}
