/* SPDX-License-Identifier: MIT */
/*
 * Parcels in Android's wire encoding (see ubinder/parcel.h).
 *
 * Invariants:
 *   - data positions and sizes of written parcels are multiples of 4;
 *   - offsets[] is sorted and its objects do not overlap, unless the parcel
 *     came from the driver with a malformed table (bad): then every read
 *     fails with UBINDER_ERR_BAD_PARCEL;
 *   - objs[i] describes the object at offsets[i]: the binder it holds a
 *     reference to, or the descriptor it owns (-1 if none);
 *   - a read either succeeds whole or changes nothing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "common/zalloc.h"
#include "object.h"
#include "object_ref.h"
#include "outbox.h"
#include "parcel.h"
#include "parcel_impl.h"
#include "status.h"
#include "utf.h"
#include "common/binder_object.h"

static size_t object_end(const struct ubinder_parcel *p, size_t i)
{
	size_t n = binder_object_size(p->objs[i].type);

	return p->offsets[i] + (n ? n : 4);
}

/* The first object that ends after @pos (p->nobj if none). */
static size_t first_object_after(const struct ubinder_parcel *p, size_t pos)
{
	size_t lo = 0, hi = p->nobj;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (object_end(p, mid) > pos)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Whether [pos, pos + n) touches an object. */
static bool overlaps_object(const struct ubinder_parcel *p, size_t pos, size_t n)
{
	size_t i = first_object_after(p, pos);

	return i < p->nobj && p->offsets[i] < pos + n;
}

/* May @n bytes of plain data be read at @pos? */
static int check_read(const struct ubinder_parcel *p, size_t pos, size_t n)
{
	if (p->bad)
		return UBINDER_ERR_BAD_PARCEL;
	if (pos > p->size || n > p->size - pos)
		return UBINDER_ERR_NOT_ENOUGH_DATA;
	if (overlaps_object(p, pos, n))
		return UBINDER_ERR_BAD_TYPE;
	return 0;
}

ubinder_parcel *ubinder_parcel_new(void)
{
	return zalloc(sizeof(struct ubinder_parcel));
}

static bool is_weak_type(uint32_t type)
{
	return type == BINDER_TYPE_WEAK_BINDER || type == BINDER_TYPE_WEAK_HANDLE;
}

void ubinder_parcel_free(ubinder_parcel *p)
{
	if (!p)
		return;
	if (!p->view) {
		/* Children before parents: an fd array's numbers are in its parent. */
		for (size_t i = p->nobj; !p->readonly && p->release_object && i-- > 0;)
			p->release_object(p, i);
		for (size_t i = 0; i < p->nobj; i++) {
			if (is_weak_type(p->objs[i].type))
				ubinder_weak_unref(weak_of(p->objs[i].binder));
			else
				ubinder_binder_unref(p->objs[i].binder);
			if (p->owns_fds && p->objs[i].fd >= 0)
				close(p->objs[i].fd);
		}
		free(p->offsets);
		free(p->objs);
	}
	if (p->release)
		p->release(p->release_arg, p->buffer);
	if (!p->readonly) {
		if (p->outbox)
			outbox_free(p->outbox, p->data, p->cap);
		else
			free(p->data);
	}
	free(p);
}

/* --- writing ----------------------------------------------------------------- */

/* Puts the data in @d (@cap bytes, in outbox @o or on the heap), giving back the old. */
static void move_data(struct ubinder_parcel *p, uint8_t *d, size_t cap, struct outbox *o)
{
	if (p->size)
		memcpy(d, p->data, p->size);
	if (p->outbox)
		outbox_free(p->outbox, p->data, p->cap);
	else
		free(p->data);
	p->data = d;
	p->cap = cap;
	p->outbox = o;
}

static int grow_data(struct ubinder_parcel *p, size_t need)
{
	struct outbox *o;
	size_t cap, got;
	uint8_t *d;

	if (need <= p->cap)
		return 0;
	if (need > MAX_PARCEL)
		return UBINDER_ERR_NO_MEMORY;
	cap = p->cap ? p->cap : 64;
	while (cap < need)
		cap = cap > MAX_PARCEL / 2 ? MAX_PARCEL : cap * 2;
	/* Large parcels are built where the daemon copies them with a memcpy. */
	if (cap >= UB_OUTBOX_MIN && (d = outbox_alloc(cap, &got, &o)) != NULL) {
		move_data(p, d, got, o);
		return 0;
	}
	if (p->outbox) {
		d = malloc(cap);
		if (!d)
			return UBINDER_ERR_NO_MEMORY;
		move_data(p, d, cap, NULL);
		return 0;
	}
	d = realloc(p->data, cap);
	if (!d)
		return UBINDER_ERR_NO_MEMORY;
	p->data = d;
	p->cap = cap;
	return 0;
}

/* Makes room for @n bytes (padded) at the position; returns where to write. */
static int reserve(struct ubinder_parcel *p, size_t n, uint8_t **at)
{
	size_t padded = PAD4(n);
	int err;

	if (p->readonly)
		return UBINDER_ERR_INVALID_OPERATION;
	if (n > MAX_PARCEL || p->pos > MAX_PARCEL - padded)
		return UBINDER_ERR_NO_MEMORY;
	if (overlaps_object(p, p->pos, padded))
		return UBINDER_ERR_BAD_TYPE;
	err = grow_data(p, p->pos + padded);
	if (err)
		return err;
	*at = p->data + p->pos;
	memset(*at + n, 0, padded - n);
	return 0;
}

static void commit(struct ubinder_parcel *p, size_t n)
{
	p->pos += PAD4(n);
	if (p->pos > p->size)
		p->size = p->pos;
}

static int write_bytes(struct ubinder_parcel *p, const void *v, size_t n)
{
	uint8_t *at;
	int err = reserve(p, n, &at);

	if (err)
		return err;
	if (n)
		memcpy(at, v, n);
	commit(p, n);
	return 0;
}

int ubinder_parcel_write_int32(ubinder_parcel *p, int32_t v)
{
	return write_bytes(p, &v, sizeof(v));
}

int ubinder_parcel_write_uint32(ubinder_parcel *p, uint32_t v)
{
	return write_bytes(p, &v, sizeof(v));
}

int ubinder_parcel_write_int64(ubinder_parcel *p, int64_t v)
{
	return write_bytes(p, &v, sizeof(v));
}

int ubinder_parcel_write_uint64(ubinder_parcel *p, uint64_t v)
{
	return write_bytes(p, &v, sizeof(v));
}

int ubinder_parcel_write_bool(ubinder_parcel *p, bool v)
{
	return ubinder_parcel_write_int32(p, v ? 1 : 0);
}

int ubinder_parcel_write_float(ubinder_parcel *p, float v)
{
	return write_bytes(p, &v, sizeof(v));
}

int ubinder_parcel_write_double(ubinder_parcel *p, double v)
{
	return write_bytes(p, &v, sizeof(v));
}

/* int32 @len then @n bytes of @v and @extra zero bytes, as one value. */
static int write_counted(struct ubinder_parcel *p, int32_t len, const void *v, size_t n,
			 size_t extra)
{
	size_t start = p->pos;
	uint8_t *at;
	int err;

	if (n > MAX_PARCEL - extra)
		return UBINDER_ERR_NO_MEMORY;
	err = ubinder_parcel_write_int32(p, len);
	if (err)
		return err;
	err = reserve(p, n + extra, &at);
	if (err) {
		p->pos = start;
		return err;
	}
	if (n)
		memcpy(at, v, n);
	memset(at + n, 0, extra);
	commit(p, n + extra);
	return 0;
}

int ubinder_parcel_write_byte_array(ubinder_parcel *p, const void *data, size_t len)
{
	if (!data && len == 0)
		return ubinder_parcel_write_int32(p, -1);
	if (!data || len > INT32_MAX)
		return UBINDER_ERR_BAD_VALUE;
	return write_counted(p, (int32_t)len, data, len, 0);
}

int ubinder_parcel_write_string8(ubinder_parcel *p, const char *s)
{
	size_t len;

	if (!s)
		return ubinder_parcel_write_int32(p, -1);
	len = strlen(s);
	if (len >= INT32_MAX || !utf8_valid(s, len))
		return UBINDER_ERR_BAD_VALUE;
	return write_counted(p, (int32_t)len, s, len, 1);
}

int ubinder_parcel_write_string16(ubinder_parcel *p, const uint16_t *s, size_t len)
{
	if (!s)
		return ubinder_parcel_write_int32(p, -1);
	if (len >= INT32_MAX / 2)
		return UBINDER_ERR_BAD_VALUE;
	return write_counted(p, (int32_t)len, s, len * 2, 2);
}

int ubinder_parcel_write_string16_utf8(ubinder_parcel *p, const char *s)
{
	uint16_t small[128];
	uint16_t *units = small;
	size_t len;
	long n;
	int err;

	if (!s)
		return ubinder_parcel_write_int32(p, -1);
	len = strlen(s);
	if (len >= INT32_MAX / 2)
		return UBINDER_ERR_BAD_VALUE;
	n = utf8_to_utf16(s, len, NULL);
	if (n < 0)
		return UBINDER_ERR_BAD_VALUE;
	if ((size_t)n > sizeof(small) / sizeof(small[0])) {
		units = malloc((size_t)n * sizeof(uint16_t));
		if (!units)
			return UBINDER_ERR_NO_MEMORY;
	}
	utf8_to_utf16(s, len, units);
	err = ubinder_parcel_write_string16(p, units, (size_t)n);
	if (units != small)
		free(units);
	return err;
}

/* Appends an object at the position, recorded in the offsets array. */
static int write_object(struct ubinder_parcel *p, const void *obj, size_t size, struct pobj po)
{
	uint8_t *at;
	int err;

	if (p->readonly)
		return UBINDER_ERR_INVALID_OPERATION;
	/* Objects stay sorted: none may start before the end of the last one. */
	if (p->nobj && p->pos < object_end(p, p->nobj - 1))
		return UBINDER_ERR_INVALID_OPERATION;
	if (p->nobj == p->ocap) {
		size_t ocap = p->ocap ? p->ocap * 2 : 4;
		uint64_t *offsets = realloc(p->offsets, ocap * sizeof(*offsets));
		struct pobj *objs;

		if (!offsets)
			return UBINDER_ERR_NO_MEMORY;
		p->offsets = offsets;
		objs = realloc(p->objs, ocap * sizeof(*objs));
		if (!objs)
			return UBINDER_ERR_NO_MEMORY;
		p->objs = objs;
		p->ocap = ocap;
	}
	err = reserve(p, size, &at);
	if (err)
		return err;
	memcpy(at, obj, size);
	p->offsets[p->nobj] = p->pos;
	p->objs[p->nobj] = po;
	p->nobj++;
	commit(p, size);
	return 0;
}

int parcel_write_flat_binder(struct ubinder_parcel *p, struct ubinder_binder *binder,
			     size_t room_after)
{
	struct flat_binder_object obj = { .hdr.type = BINDER_TYPE_BINDER };
	int err;

	if (!binder)
		return write_bytes(p, &obj, sizeof(obj));
	if (binder->local) {
		obj.hdr.type = BINDER_TYPE_BINDER;
		obj.flags = FLAT_BINDER_FLAG_ACCEPTS_FDS;
		if (binder->requesting_sid)
			obj.flags |= FLAT_BINDER_FLAG_TXN_SECURITY_CTX;
		obj.binder = binder->id;
		obj.cookie = binder->id;
	} else {
		obj.hdr.type = BINDER_TYPE_HANDLE;
		obj.flags = FLAT_BINDER_FLAG_ACCEPTS_FDS;
		obj.handle = binder->handle;
	}
	if (p->readonly)
		return UBINDER_ERR_INVALID_OPERATION;
	/* Room for what follows first, so that a failure there leaves nothing. */
	err = grow_data(p, p->pos + sizeof(obj) + room_after);
	if (err)
		return err;
	err = write_object(p, &obj, sizeof(obj),
			   (struct pobj){ obj.hdr.type, ubinder_binder_ref(binder), -1 });
	if (err)
		ubinder_binder_unref(binder);
	return err;
}

int ubinder_parcel_write_binder(ubinder_parcel *p, ubinder_binder *binder)
{
	size_t start = p->pos;
	int err = parcel_write_flat_binder(p, binder, p->no_stability ? 0 : 4);

	if (!err && !p->no_stability)
		err = ubinder_parcel_write_int32(p, binder ? UB_STABILITY_SYSTEM : 0);
	if (err)
		p->pos = start;
	return err;
}

/* As libbinder's writeWeakBinder: the object alone, never a stability word. */
int ubinder_parcel_write_weak_binder(ubinder_parcel *p, ubinder_weak *w)
{
	struct ubinder_binder *binder = binder_of(w);
	struct flat_binder_object obj = { .flags = FLAT_BINDER_FLAG_ACCEPTS_FDS };
	int err;

	if (!binder)
		return ubinder_parcel_write_binder(p, NULL);
	if (binder->local) {
		obj.hdr.type = BINDER_TYPE_WEAK_BINDER;
		if (binder->requesting_sid)
			obj.flags |= FLAT_BINDER_FLAG_TXN_SECURITY_CTX;
		obj.binder = binder->id;
		obj.cookie = binder->id;
	} else {
		obj.hdr.type = BINDER_TYPE_WEAK_HANDLE;
		obj.handle = binder->handle;
	}
	if (p->readonly)
		return UBINDER_ERR_INVALID_OPERATION;
	err = write_object(p, &obj, sizeof(obj),
			   (struct pobj){ obj.hdr.type, binder_of(ubinder_weak_ref(w)), -1 });
	if (err)
		ubinder_weak_unref(w);
	return err;
}

int ubinder_parcel_write_fd(ubinder_parcel *p, int fd)
{
	struct binder_fd_object obj = { .hdr.type = BINDER_TYPE_FD };
	int copy;
	int err;

	if (p->readonly)
		return UBINDER_ERR_INVALID_OPERATION;
	if (fd < 0)
		return UBINDER_ERR_BAD_VALUE;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return errno == EMFILE || errno == ENFILE ? UBINDER_ERR_NO_MEMORY
							  : UBINDER_ERR_BAD_VALUE;
	obj.fd = (uint32_t)copy;
	p->owns_fds = true;
	err = write_object(p, &obj, sizeof(obj), (struct pobj){ BINDER_TYPE_FD, NULL, copy });
	if (err)
		close(copy);
	return err;
}

/* --- reading ------------------------------------------------------------------ */

static int read_bytes(struct ubinder_parcel *p, void *out, size_t n)
{
	int err = check_read(p, p->pos, PAD4(n));

	if (err)
		return err;
	memcpy(out, p->data + p->pos, n);
	p->pos += PAD4(n);
	return 0;
}

int ubinder_parcel_read_int32(ubinder_parcel *p, int32_t *out)
{
	return read_bytes(p, out, sizeof(*out));
}

int ubinder_parcel_read_uint32(ubinder_parcel *p, uint32_t *out)
{
	return read_bytes(p, out, sizeof(*out));
}

int ubinder_parcel_read_int64(ubinder_parcel *p, int64_t *out)
{
	return read_bytes(p, out, sizeof(*out));
}

int ubinder_parcel_read_uint64(ubinder_parcel *p, uint64_t *out)
{
	return read_bytes(p, out, sizeof(*out));
}

int ubinder_parcel_read_bool(ubinder_parcel *p, bool *out)
{
	int32_t v;
	int err = read_bytes(p, &v, sizeof(v));

	if (!err)
		*out = v != 0;
	return err;
}

int ubinder_parcel_read_float(ubinder_parcel *p, float *out)
{
	return read_bytes(p, out, sizeof(*out));
}

int ubinder_parcel_read_double(ubinder_parcel *p, double *out)
{
	return read_bytes(p, out, sizeof(*out));
}

/*
 * An int32 length then (length * unit + extra) bytes. *body points at them,
 * or is NULL for length -1. On success *next is the position after them.
 */
static int read_counted(const struct ubinder_parcel *p, size_t unit, size_t extra,
			const uint8_t **body, size_t *len, size_t *next)
{
	int32_t n;
	size_t bytes;
	int err = check_read(p, p->pos, 4);

	if (err)
		return err;
	memcpy(&n, p->data + p->pos, 4);
	if (n == -1) {
		*body = NULL;
		*len = 0;
		*next = p->pos + 4;
		return 0;
	}
	if (n < 0)
		return UBINDER_ERR_BAD_VALUE;
	bytes = (size_t)n * unit + extra;
	err = check_read(p, p->pos + 4, PAD4(bytes));
	if (err)
		return err;
	*body = p->data + p->pos + 4;
	*len = (size_t)n;
	*next = p->pos + 4 + PAD4(bytes);
	return 0;
}

int ubinder_parcel_read_byte_array(ubinder_parcel *p, const void **data, size_t *len)
{
	const uint8_t *body;
	size_t n, next;
	int err = read_counted(p, 1, 0, &body, &n, &next);

	if (err)
		return err;
	*data = body;
	*len = n;
	p->pos = next;
	return 0;
}

int ubinder_parcel_read_string8(ubinder_parcel *p, const char **s)
{
	const uint8_t *body;
	size_t n, next;
	int err = read_counted(p, 1, 1, &body, &n, &next);

	if (err)
		return err;
	if (body && (body[n] != 0 || memchr(body, 0, n) || !utf8_valid((const char *)body, n)))
		return UBINDER_ERR_BAD_VALUE;
	*s = (const char *)body;
	p->pos = next;
	return 0;
}

int ubinder_parcel_read_string16(ubinder_parcel *p, const uint16_t **s, size_t *len)
{
	const uint8_t *body;
	size_t n, next;
	uint16_t nul;
	int err = read_counted(p, 2, 2, &body, &n, &next);

	if (err)
		return err;
	if (body) {
		memcpy(&nul, body + n * 2, 2);
		if (nul != 0)
			return UBINDER_ERR_BAD_VALUE;
	}
	/* Data positions are 4-aligned and the data 4-aligned: units are aligned. */
	*s = (const uint16_t *)(const void *)body;
	*len = n;
	p->pos = next;
	return 0;
}

int ubinder_parcel_read_string16_utf8(ubinder_parcel *p, char **s)
{
	size_t start = p->pos;
	const uint16_t *units;
	size_t len;
	char *out;
	long n;
	int err = ubinder_parcel_read_string16(p, &units, &len);

	if (err)
		return err;
	if (!units) {
		*s = NULL;
		return 0;
	}
	n = utf16_to_utf8(units, len, NULL);
	for (size_t i = 0; n >= 0 && i < len; i++) {
		if (units[i] == 0)
			n = -1;
	}
	if (n < 0) {
		p->pos = start;
		return UBINDER_ERR_BAD_VALUE;
	}
	out = malloc((size_t)n + 1);
	if (!out) {
		p->pos = start;
		return UBINDER_ERR_NO_MEMORY;
	}
	utf16_to_utf8(units, len, out);
	out[n] = '\0';
	*s = out;
	return 0;
}

/* The index of the object starting exactly at @pos, or -1. */
static long object_at(const struct ubinder_parcel *p, size_t pos)
{
	size_t i = first_object_after(p, pos);

	return i < p->nobj && p->offsets[i] == pos ? (long)i : -1;
}

int parcel_read_flat_binder(struct ubinder_parcel *p, struct ubinder_binder **binder, size_t after)
{
	struct flat_binder_object obj;
	struct ubinder_binder *b = NULL;
	long i;
	int err;

	if (p->bad)
		return UBINDER_ERR_BAD_PARCEL;
	i = object_at(p, p->pos);
	/* Another kind of object (a weak binder: libbinder's BAD_TYPE) before any size. */
	if (i >= 0 && p->objs[i].type != BINDER_TYPE_BINDER &&
	    p->objs[i].type != BINDER_TYPE_HANDLE)
		return UBINDER_ERR_BAD_TYPE;
	if (p->pos > p->size || p->size - p->pos < sizeof(obj) + after)
		return UBINDER_ERR_NOT_ENOUGH_DATA;
	if (i >= 0) {
		uint32_t type = p->objs[i].type;

		if (type != BINDER_TYPE_BINDER && type != BINDER_TYPE_HANDLE)
			return UBINDER_ERR_BAD_TYPE;
		b = p->objs[i].binder;
		memcpy(&obj, p->data + p->pos, sizeof(obj));
		if (!b && !(type == BINDER_TYPE_BINDER && obj.binder == 0))
			return UBINDER_ERR_NO_INIT; /* not resolvable here (no context) */
	} else {
		err = check_read(p, p->pos, sizeof(obj));
		if (err)
			return err;
		memcpy(&obj, p->data + p->pos, sizeof(obj));
		if (obj.hdr.type != BINDER_TYPE_BINDER || obj.binder != 0)
			return UBINDER_ERR_BAD_TYPE;
	}
	/* What the caller reads after the object must be plain data. */
	err = check_read(p, p->pos + sizeof(obj), after);
	if (err)
		return err;
	*binder = b ? ubinder_binder_ref(b) : NULL;
	p->pos += sizeof(obj);
	return 0;
}

int ubinder_parcel_read_binder(ubinder_parcel *p, ubinder_binder **binder)
{
	/* The stability level libbinder writes after the object. */
	size_t stability = p->no_stability ? 0 : 4;
	int err = parcel_read_flat_binder(p, binder, stability);

	if (!err)
		p->pos += stability;
	return err;
}

/*
 * As libbinder's readWeakBinder: a weak binder, or a strong one (then with
 * the stability word the parcel's format has), or null.
 */
int ubinder_parcel_read_weak_binder(ubinder_parcel *p, ubinder_weak **weak)
{
	struct ubinder_binder *b;
	uint32_t type;
	long i;
	int err;

	if (!weak)
		return UBINDER_ERR_BAD_VALUE;
	if (p->bad)
		return UBINDER_ERR_BAD_PARCEL;
	i = object_at(p, p->pos);
	type = i >= 0 ? p->objs[i].type : 0;
	if (!is_weak_type(type)) {
		err = ubinder_parcel_read_binder(p, &b);
		if (err)
			return err;
		*weak = b ? weak_of(b) : NULL;
		if (b) {
			ubinder_weak_ref(*weak);
			ubinder_binder_unref(b);
		}
		return 0;
	}
	if (p->size - p->pos < sizeof(struct flat_binder_object))
		return UBINDER_ERR_NOT_ENOUGH_DATA;
	b = p->objs[i].binder;
	if (!b) {
		struct flat_binder_object obj;

		memcpy(&obj, p->data + p->pos, sizeof(obj));
		if (type != BINDER_TYPE_WEAK_BINDER || obj.binder != 0)
			return UBINDER_ERR_NO_INIT; /* not resolvable here (no context, unknown) */
	}
	*weak = b ? ubinder_weak_ref(weak_of(b)) : NULL;
	p->pos += sizeof(struct flat_binder_object);
	return 0;
}

int ubinder_parcel_read_fd(ubinder_parcel *p, int *fd)
{
	long i;

	if (p->bad)
		return UBINDER_ERR_BAD_PARCEL;
	if (p->pos > p->size || p->size - p->pos < sizeof(struct binder_fd_object))
		return UBINDER_ERR_NOT_ENOUGH_DATA;
	i = object_at(p, p->pos);
	if (i < 0 || p->objs[i].type != BINDER_TYPE_FD || p->objs[i].fd < 0)
		return UBINDER_ERR_BAD_TYPE;
	*fd = p->objs[i].fd;
	p->pos += sizeof(struct binder_fd_object);
	return 0;
}

/* --- Android headers ------------------------------------------------------------- */

void ubinder_parcel_set_stability_word(ubinder_parcel *p, bool on)
{
	if (p)
		p->no_stability = !on;
}

int ubinder_parcel_write_exception(ubinder_parcel *p, int32_t exception, const char *message)
{
	size_t start = p->pos;
	int err = ubinder_parcel_write_int32(p, exception);

	if (err || exception == UBINDER_EX_NONE)
		return err;
	err = ubinder_parcel_write_string16_utf8(p, message);
	if (!err)
		err = ubinder_parcel_write_int32(p, 0); /* no remote stack trace */
	if (!err &&
	    (exception == UBINDER_EX_SERVICE_SPECIFIC || exception == UBINDER_EX_PARCELABLE))
		err = ubinder_parcel_write_int32(p, 0);
	if (err)
		p->pos = start;
	return err;
}

#define EX_HAS_REPLY_HEADER (-128)

int parcel_exception_status(int32_t ex)
{
	switch (ex) {
	case UBINDER_EX_SECURITY:
		return UBINDER_ERR_PERMISSION_DENIED;
	case UBINDER_EX_BAD_PARCELABLE:
	case UBINDER_EX_ILLEGAL_ARGUMENT:
		return UBINDER_ERR_BAD_VALUE;
	case UBINDER_EX_NULL_POINTER:
		return UBINDER_ERR_UNEXPECTED_NULL;
	case UBINDER_EX_ILLEGAL_STATE:
	case UBINDER_EX_UNSUPPORTED_OPERATION:
		return UBINDER_ERR_INVALID_OPERATION;
	case UBINDER_EX_TRANSACTION_FAILED:
		return UBINDER_ERR_FAILED_TRANSACTION;
	default:
		return UBINDER_ERR_UNKNOWN;
	}
}

int ubinder_parcel_read_exception(ubinder_parcel *p, int32_t *exception)
{
	size_t start = p->pos;
	int32_t ex, size;
	const uint16_t *msg;
	size_t len;
	int err = ubinder_parcel_read_int32(p, &ex);

	if (err)
		return err;
	if (ex == EX_HAS_REPLY_HEADER) {
		/* A header of int32 size (counted from the size field) to skip. */
		size_t at = p->pos;

		err = ubinder_parcel_read_int32(p, &size);
		if (!err && (size < 4 || (size_t)size > p->size - at || size % 4))
			err = UBINDER_ERR_BAD_VALUE;
		if (err) {
			p->pos = start;
			return err;
		}
		p->pos = at + (size_t)size;
		ex = UBINDER_EX_NONE;
	}
	if (exception)
		*exception = ex;
	if (ex == UBINDER_EX_NONE)
		return 0;
	/* Message and stack trace: skipped; the status says what happened. */
	err = ubinder_parcel_read_string16(p, &msg, &len);
	if (!err)
		err = ubinder_parcel_read_int32(p, &size);
	if (!err && size > 0) {
		if ((size_t)size > p->size - p->pos || size % 4)
			err = UBINDER_ERR_BAD_VALUE;
		else
			p->pos += (size_t)size;
	}
	if (!err && ex == UBINDER_EX_SERVICE_SPECIFIC)
		err = ubinder_parcel_read_int32(p, &size);
	if (err) {
		p->pos = start;
		return err;
	}
	return parcel_exception_status(ex);
}

/* --- position and raw view ------------------------------------------------------ */

size_t ubinder_parcel_get_size(const ubinder_parcel *p)
{
	return p->size;
}

size_t ubinder_parcel_get_position(const ubinder_parcel *p)
{
	return p->pos;
}

int ubinder_parcel_set_position(ubinder_parcel *p, size_t pos)
{
	if (pos > p->size || pos % 4)
		return UBINDER_ERR_BAD_INDEX;
	p->pos = pos;
	return 0;
}

const void *ubinder_parcel_get_data(const ubinder_parcel *p)
{
	return p->data;
}

size_t ubinder_parcel_get_object_count(const ubinder_parcel *p)
{
	return p->nobj;
}

int ubinder_parcel_get_object(const ubinder_parcel *p, size_t index, size_t *offset,
			      enum ubinder_object_kind *kind)
{
	if (index >= p->nobj)
		return UBINDER_ERR_BAD_INDEX;
	if (offset)
		*offset = p->offsets[index];
	if (kind) {
		switch (p->objs[index].type) {
		case BINDER_TYPE_BINDER:
			*kind = UBINDER_OBJECT_BINDER;
			break;
		case BINDER_TYPE_HANDLE:
			*kind = UBINDER_OBJECT_HANDLE;
			break;
		case BINDER_TYPE_FD:
			*kind = UBINDER_OBJECT_FD;
			break;
		default:
			*kind = UBINDER_OBJECT_OTHER;
			break;
		}
	}
	return 0;
}

/* --- library side --------------------------------------------------------------- */

/* Validates and resolves object @i of a parcel just received. */
static void receive_object(struct ubinder_parcel *p, const struct parcel_receiver *rx, size_t i,
			   size_t *prev_end)
{
	uint64_t off = p->offsets[i];
	struct flat_binder_object obj;
	size_t size;
	uint32_t type;

	p->objs[i] = (struct pobj){ 0, NULL, -1 };
	if (off % 4 || off > p->size || p->size - off < sizeof(struct binder_object_header)) {
		p->bad = true;
		return;
	}
	memcpy(&type, p->data + off, sizeof(type));
	size = binder_object_size(type);
	if (!size || p->size - off < size) {
		p->bad = true;
		return;
	}
	if (off < *prev_end)
		p->bad = true; /* unsorted or overlapping: resolved, but unreadable */
	*prev_end = off + size;
	p->objs[i].type = type;
	memcpy(&obj, p->data + off, UB_FLAT_OBJECT_SIZE);
	if (type == BINDER_TYPE_FD) {
		/* Installed in this process by the driver: ours (owns_fds) to close. */
		p->objs[i].fd = (int)obj.handle;
		return;
	}
	if (rx &&
	    (((type == BINDER_TYPE_BINDER || type == BINDER_TYPE_WEAK_BINDER) && obj.binder) ||
	     type == BINDER_TYPE_HANDLE || type == BINDER_TYPE_WEAK_HANDLE))
		p->objs[i].binder = rx->resolve(rx, &obj);
}

struct ubinder_parcel *parcel_new_received(const void *data, size_t size, const uint64_t *offsets,
					   size_t noffsets, const struct parcel_receiver *rx)
{
	struct ubinder_parcel *p = zalloc(sizeof(*p));
	size_t prev_end = 0;

	if (!p)
		return NULL;
	p->readonly = true;
	p->data = (uint8_t *)data;
	p->size = size;
	if (rx) {
		p->release = rx->release;
		p->release_arg = rx->release_arg;
		p->buffer = rx->buffer;
		p->owns_fds = true;
		p->sg_base = rx->region;
		p->sg_len = rx->region_size;
	}
	if (noffsets) {
		p->offsets = malloc(noffsets * sizeof(*p->offsets));
		p->objs = malloc(noffsets * sizeof(*p->objs));
		if (!p->offsets || !p->objs) {
			free(p->offsets);
			free(p->objs);
			p->offsets = NULL;
			p->objs = NULL;
			p->bad = true;
			return p;
		}
		memcpy(p->offsets, offsets, noffsets * sizeof(*p->offsets));
		p->nobj = p->ocap = noffsets;
		for (size_t i = 0; i < noffsets; i++)
			receive_object(p, rx, i, &prev_end);
	}
	return p;
}

bool parcel_objects_in_context(const struct ubinder_parcel *p, const struct ubinder_context *ctx)
{
	for (size_t i = 0; i < p->nobj; i++) {
		if (p->objs[i].binder && p->objs[i].binder->ctx != ctx)
			return false;
	}
	return true;
}

void parcel_raw(const struct ubinder_parcel *p, const void **data, size_t *size,
		const uint64_t **offsets, size_t *noffsets)
{
	*data = p->data;
	*size = p->size;
	*offsets = p->offsets;
	*noffsets = p->nobj;
}

struct ubinder_parcel *parcel_new_view(const struct ubinder_parcel *src)
{
	struct ubinder_parcel *p = zalloc(sizeof(*p));

	if (!p)
		return NULL;
	*p = *src;
	p->pos = 0;
	p->release = NULL;
	p->buffer = 0;
	p->readonly = true;
	p->view = true;
	return p;
}

/* --- for parcel_sg.c ------------------------------------------------------------ */

int parcel_check_read(const struct ubinder_parcel *p, size_t pos, size_t n)
{
	return check_read(p, pos, n);
}

long parcel_object_at(const struct ubinder_parcel *p, size_t pos)
{
	return object_at(p, pos);
}

int parcel_write_plain(struct ubinder_parcel *p, const void *v, size_t size)
{
	return write_bytes(p, v, size);
}

int parcel_write_recorded(struct ubinder_parcel *p, const void *obj, size_t size, struct pobj po)
{
	return write_object(p, obj, size, po);
}
