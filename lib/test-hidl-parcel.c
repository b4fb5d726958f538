/* SPDX-License-Identifier: MIT */
/*
 * HIDL parcels: round trips of every HIDL value, the exact scatter-gather
 * layout libhwbinder writes, the same parcel as the driver delivers it (its
 * buffers copied and fixed up, as in the receiver), and hostile received
 * parcels: bad parent index, parent offset out of range, lying lengths,
 * missing terminators, unrecorded or out-of-bounds buffers, fd arrays that
 * do not match, unaligned offsets. Every read must fail cleanly with
 * UBINDER_ERR_BAD_VALUE (or a parcel error) and leave the position.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "internal.h"
#include "parcel_impl.h"
#include "parcel_sg.h"
#include "test-util.h"
#include "ubinder/hidl.h"

#define BBO sizeof(struct binder_buffer_object)

static ubinder_parcel *new_parcel(void)
{
	ubinder_parcel *p = ubinder_parcel_new();

	assert_non_null(p);
	return p;
}

/* A parcel as the driver delivers @src: data, offsets, then each buffer
 * 8-aligned, object buffers rewritten and children's addresses written into
 * their parents' copies. *region receives the memory (free it). */
struct delivered {
	uint8_t *region;
	size_t size;
	ubinder_parcel *p;
};

static void deliver(const ubinder_parcel *src, struct delivered *d)
{
	const uint64_t *offsets;
	const void *data;
	size_t size, n, at;
	uint8_t *r;
	uint64_t *addr;

	parcel_raw(src, &data, &size, &offsets, &n);
	d->size = PAD8(size) + PAD8(n * 8) + parcel_buffers_size(src);
	d->region = r = aligned_alloc(8, PAD8(d->size ? d->size : 8));
	assert_non_null(r);
	memset(r, 0, PAD8(d->size ? d->size : 8));
	memcpy(r, data, size);
	if (n)
		memcpy(r + PAD8(size), offsets, n * 8);
	at = PAD8(size) + PAD8(n * 8);
	addr = calloc(n ? n : 1, sizeof(*addr));
	assert_non_null(addr);
	for (size_t i = 0; i < n; i++) {
		struct binder_buffer_object b;

		memcpy(&b, r + offsets[i], sizeof(b));
		if (b.hdr.type != BINDER_TYPE_PTR)
			continue;
		memcpy(r + at, (const void *)(uintptr_t)b.buffer, b.length);
		addr[i] = (uintptr_t)(r + at);
		b.buffer = addr[i];
		memcpy(r + offsets[i], &b, sizeof(b));
		if (b.flags & BINDER_BUFFER_FLAG_HAS_PARENT)
			memcpy((uint8_t *)(uintptr_t)addr[b.parent] + b.parent_offset, &addr[i], 8);
		at += PAD8(b.length);
	}
	free(addr);
	d->p = parcel_new_received(r, size, (const uint64_t *)(r + PAD8(size)), n, NULL);
	assert_non_null(d->p);
	parcel_set_sg_bounds(d->p, r, d->size);
}

/* Receives the region again (after damaging what receiving looks at: types). */
static void receive_again(struct delivered *d)
{
	const uint64_t *offsets;
	const void *data;
	size_t size, n;

	parcel_raw(d->p, &data, &size, &offsets, &n);
	ubinder_parcel_free(d->p);
	offsets = (const uint64_t *)(d->region + PAD8(size));
	d->p = parcel_new_received(data, size, offsets, n, NULL);
	assert_non_null(d->p);
	parcel_set_sg_bounds(d->p, d->region, d->size);
}

static void undeliver(struct delivered *d)
{
	ubinder_parcel_free(d->p);
	free(d->region);
}

/* The delivered bytes of object @i (to damage them). */
static void *object_bytes(struct delivered *d, size_t i)
{
	const uint64_t *offsets;
	const void *data;
	size_t size, n;

	parcel_raw(d->p, &data, &size, &offsets, &n);
	assert_true(i < n);
	return d->region + offsets[i];
}

/* --- writing and reading back ------------------------------------------------------ */

static const char *const names[] = { "android.hardware.foo@1.0::IFoo/default", "", "x" };

static void write_everything(ubinder_parcel *p, int fd)
{
	const int32_t ints[] = { 7, -1, 40000 };
	const int fds[] = { fd, fd };
	struct ubinder_hidl_native_handle h = { .fds = fds, .nfds = 2, .ints = ints, .nints = 3 };
	struct ubinder_hidl_native_handle null = { .null = true };
	uint8_t st[40] = { 0 }; /* a struct: int32, pad, hidl_string @8, hidl_handle @24 */
	size_t sh;

	assert_int_equal(ubinder_hidl_write_interface_token(p, "android.hidl.base@1.0::IBase"), 0);
	assert_int_equal(ubinder_hidl_write_status(p, 0, NULL), 0);
	assert_int_equal(ubinder_hidl_write_string(p, "hello"), 0);
	assert_int_equal(ubinder_hidl_write_string(p, ""), 0);
	assert_int_equal(ubinder_hidl_write_string_vec(p, names, 3), 0);
	assert_int_equal(ubinder_hidl_write_string_vec(p, NULL, 0), 0);
	assert_int_equal(ubinder_hidl_write_vec(p, ints, 3, sizeof(ints[0]), NULL), 0);
	assert_int_equal(ubinder_hidl_write_native_handle(p, &h), 0);
	assert_int_equal(ubinder_hidl_write_native_handle(p, &null), 0);
	st[0] = 42;
	assert_int_equal(ubinder_parcel_write_buffer(p, st, sizeof(st), &sh), 0);
	assert_int_equal(ubinder_hidl_write_embedded_string(p, "inner", sh, 8), 0);
	assert_int_equal(ubinder_hidl_write_embedded_native_handle(p, &h, sh, 24), 0);
	assert_int_equal(ubinder_hidl_write_binder(p, NULL), 0);
	assert_int_equal(ubinder_parcel_write_bool(p, true), 0);
}

static void read_everything(ubinder_parcel *p)
{
	struct ubinder_hidl_native_handle h;
	const char *s, *tok;
	const void *elems, *st;
	ubinder_binder *b = (ubinder_binder *)1;
	char **strs;
	size_t len, n, sh;
	bool yes;
	char buf[8];

	assert_int_equal(ubinder_hidl_read_interface_token(p, &tok), 0);
	assert_string_equal(tok, "android.hidl.base@1.0::IBase");
	assert_int_equal(ubinder_hidl_read_status(p, NULL), 0);
	assert_int_equal(ubinder_hidl_read_string(p, &s, &len), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_int_equal(ubinder_hidl_read_string(p, &s, &len), 0);
	assert_string_equal(s, "");
	assert_int_equal(ubinder_hidl_read_string_vec(p, &strs, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(strs[i], names[i]);
	assert_null(strs[3]);
	ubinder_hidl_free_strings(strs);
	assert_int_equal(ubinder_hidl_read_string_vec(p, &strs, &n), 0);
	assert_int_equal(n, 0);
	ubinder_hidl_free_strings(strs);
	assert_int_equal(ubinder_hidl_read_vec(p, sizeof(int32_t), &elems, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(((const int32_t *)elems)[2], 40000);
	assert_int_equal(ubinder_hidl_read_native_handle(p, &h), 0);
	assert_false(h.null);
	assert_int_equal(h.nfds, 2);
	assert_int_equal(h.nints, 3);
	assert_int_equal(h.ints[1], -1);
	/* A descriptor of the same pipe, not the sender's number. */
	assert_int_equal(read(h.fds[1], buf, 2), 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(ubinder_hidl_read_native_handle(p, &h), 0);
	assert_true(h.null);
	assert_int_equal(ubinder_parcel_read_buffer(p, 40, &sh, &st), 0);
	assert_int_equal(((const uint8_t *)st)[0], 42);
	assert_int_equal(ubinder_hidl_read_embedded_string(p, sh, 8, &s, NULL), 0);
	assert_string_equal(s, "inner");
	assert_int_equal(ubinder_hidl_read_embedded_native_handle(p, sh, 24, &h), 0);
	assert_int_equal(h.nfds, 2);
	assert_int_equal(ubinder_hidl_read_binder(p, &b), 0);
	assert_null(b);
	assert_int_equal(ubinder_parcel_read_bool(p, &yes), 0);
	assert_true(yes);
	assert_int_equal(ubinder_parcel_get_position(p), ubinder_parcel_get_size(p));
}

static int pipe_with(const char *text, int *w)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	*w = fds[1];
	return fds[0];
}

static void test_round_trip_written(void **state)
{
	ubinder_parcel *p = new_parcel();
	int w, r = pipe_with("hihi", &w);

	(void)state;
	write_everything(p, r);
	assert_int_equal(ubinder_parcel_set_position(p, 0), 0);
	read_everything(p);
	ubinder_parcel_free(p);
	close(r);
	close(w);
}

static void test_round_trip_delivered(void **state)
{
	ubinder_parcel *p = new_parcel();
	struct delivered d;
	int w, r = pipe_with("hihi", &w);

	(void)state;
	write_everything(p, r);
	deliver(p, &d);
	read_everything(d.p);
	undeliver(&d);
	ubinder_parcel_free(p);
	close(r);
	close(w);
}

/* libhwbinder's layout of a hidl_string: two PTR objects, the second a child
 * at offset 0 of the first; the parent's copy points at the child's. */
static void test_string_layout(void **state)
{
	struct binder_buffer_object a, b;
	ubinder_parcel *p = new_parcel();
	const uint64_t *offsets;
	const uint8_t *data;
	const void *raw;
	size_t size, n;
	uint64_t slot;
	uint32_t len;

	(void)state;
	assert_int_equal(ubinder_hidl_write_interface_token(p, "a::I"), 0);
	assert_int_equal(ubinder_parcel_get_size(p), 8); /* "a::I\0" padded */
	assert_int_equal(ubinder_hidl_write_string(p, "hello"), 0);
	parcel_raw(p, &raw, &size, &offsets, &n);
	data = raw;
	assert_int_equal(size, 8 + 2 * BBO);
	assert_int_equal(n, 2);
	assert_int_equal(offsets[0], 8);
	assert_int_equal(offsets[1], 8 + BBO);
	memcpy(&a, data + 8, sizeof(a));
	memcpy(&b, data + 8 + BBO, sizeof(b));
	assert_int_equal(a.hdr.type, BINDER_TYPE_PTR);
	assert_int_equal(a.flags, 0);
	assert_int_equal(a.length, 16);
	assert_int_equal(b.flags, BINDER_BUFFER_FLAG_HAS_PARENT);
	assert_int_equal(b.length, 6);
	assert_int_equal(b.parent, 0);
	assert_int_equal(b.parent_offset, 0);
	memcpy(&slot, (const void *)(uintptr_t)a.buffer, 8);
	memcpy(&len, (const uint8_t *)(uintptr_t)a.buffer + 8, 4);
	assert_int_equal(slot, b.buffer);
	assert_int_equal(len, 5);
	assert_memory_equal((const void *)(uintptr_t)b.buffer, "hello", 6);
	assert_int_equal(parcel_buffers_size(p), 16 + 8);
	ubinder_parcel_free(p);
}

/* An empty vector: a null child, not recorded (as libhwbinder writes it). */
static void test_empty_vec_layout(void **state)
{
	ubinder_parcel *p = new_parcel();
	struct binder_buffer_object b;
	const uint64_t *offsets;
	const void *raw;
	size_t size, n;

	(void)state;
	assert_int_equal(ubinder_hidl_write_vec(p, NULL, 0, 4, NULL), 0);
	parcel_raw(p, &raw, &size, &offsets, &n);
	assert_int_equal(size, 2 * BBO);
	assert_int_equal(n, 1);
	memcpy(&b, (const uint8_t *)raw + BBO, sizeof(b));
	assert_int_equal(b.buffer, 0);
	assert_int_equal(b.length, 0);
	ubinder_parcel_free(p);
}

static void test_write_errors(void **state)
{
	ubinder_parcel *p = new_parcel();
	int fd = -1;
	size_t h;

	(void)state;
	/* No such parent; a parent too small for the pointer field. */
	assert_int_equal(ubinder_parcel_write_embedded_buffer(p, "x", 1, 0, 0, NULL),
			 UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_write_buffer(p, "1234", 4, &h), 0);
	assert_int_equal(ubinder_parcel_write_embedded_buffer(p, "x", 1, h, 0, NULL),
			 UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_write_fd_array(p, h, 0, &fd, 1), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_write_fd_array(p, h, 2, NULL, 0), UBINDER_ERR_BAD_VALUE);
	/* A struct too small for the string field: nothing is written. */
	assert_int_equal(ubinder_hidl_write_embedded_string(p, "abc", h, 0), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_get_object_count(p), 1);
	assert_int_equal(ubinder_parcel_get_size(p), BBO);
	ubinder_parcel_free(p);
}

static void test_token_and_status(void **state)
{
	ubinder_parcel *p = new_parcel();
	int32_t ex;

	(void)state;
	assert_int_equal(ubinder_hidl_write_interface_token(p, "a@1.0::IA"), 0);
	assert_int_equal(ubinder_hidl_write_status(p, UBINDER_EX_ILLEGAL_ARGUMENT, "no"), 0);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_hidl_enforce_interface(p, "a@1.0::IB"), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_get_position(p), 0);
	assert_int_equal(ubinder_hidl_enforce_interface(p, "a@1.0::IA"), 0);
	assert_int_equal(ubinder_hidl_read_status(p, &ex), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ex, UBINDER_EX_ILLEGAL_ARGUMENT);
	assert_int_equal(ubinder_parcel_get_position(p), ubinder_parcel_get_size(p));
	ubinder_parcel_free(p);
}

/* --- hostile received parcels ---------------------------------------------------------- */

/* A delivered string parcel: [token][string struct PTR #0][chars PTR #1]. */
static void deliver_string(ubinder_parcel **src, struct delivered *d, const char *s)
{
	*src = new_parcel();
	assert_int_equal(ubinder_hidl_write_interface_token(*src, "a::I"), 0);
	assert_int_equal(ubinder_hidl_write_string(*src, s), 0);
	deliver(*src, d);
}

static void expect_string_rejected(struct delivered *d, ubinder_parcel *src)
{
	const char *s;

	assert_int_equal(ubinder_parcel_set_position(d->p, 8), 0);
	assert_int_equal(ubinder_hidl_read_string(d->p, &s, NULL), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_get_position(d->p), 8);
	undeliver(d);
	ubinder_parcel_free(src);
}

static struct binder_buffer_object *bbo(struct delivered *d, size_t i)
{
	return object_bytes(d, i);
}

/* Object @i's buffer address, wherever the object lies. */
static uint64_t buffer_of(struct delivered *d, size_t i)
{
	struct binder_buffer_object b;

	memcpy(&b, object_bytes(d, i), sizeof(b));
	return b.buffer;
}

static void test_bad_parent_index(void **state)
{
	static const uint64_t bad[] = { 1, 2, 7, UINT64_MAX };
	ubinder_parcel *src;
	struct delivered d;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		deliver_string(&src, &d, "hello");
		bbo(&d, 1)->parent = bad[k];
		expect_string_rejected(&d, src);
	}
}

static void test_bad_parent_offset(void **state)
{
	static const uint64_t bad[] = { 4, 9, 16, UINT64_MAX - 3 };
	ubinder_parcel *src;
	struct delivered d;

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		deliver_string(&src, &d, "hello");
		bbo(&d, 1)->parent_offset = bad[k];
		expect_string_rejected(&d, src);
	}
}

static void test_length_lies(void **state)
{
	ubinder_parcel *src;
	struct delivered d;
	uint32_t size;

	(void)state;
	/* The struct says 100 chars; the child has 6 bytes. */
	deliver_string(&src, &d, "hello");
	size = 100;
	memcpy((uint8_t *)(uintptr_t)bbo(&d, 0)->buffer + 8, &size, 4);
	expect_string_rejected(&d, src);
	/* The child's length claims more than the region holds. */
	deliver_string(&src, &d, "hello");
	bbo(&d, 1)->length = 1u << 30;
	expect_string_rejected(&d, src);
	/* The struct buffer is not 16 bytes. */
	deliver_string(&src, &d, "hello");
	bbo(&d, 0)->length = 8;
	expect_string_rejected(&d, src);
	/* No terminator; a NUL inside. */
	deliver_string(&src, &d, "hello");
	((char *)(uintptr_t)bbo(&d, 1)->buffer)[5] = 'x';
	expect_string_rejected(&d, src);
	deliver_string(&src, &d, "hello");
	((char *)(uintptr_t)bbo(&d, 1)->buffer)[2] = 0;
	expect_string_rejected(&d, src);
}

static void test_bad_buffers(void **state)
{
	ubinder_parcel *src;
	struct delivered d;
	uint64_t slot;

	(void)state;
	/* The parent's pointer field does not hold the child's address. */
	deliver_string(&src, &d, "hello");
	slot = bbo(&d, 1)->buffer + 1;
	memcpy((void *)(uintptr_t)bbo(&d, 0)->buffer, &slot, 8);
	expect_string_rejected(&d, src);
	/* A buffer outside the region. */
	deliver_string(&src, &d, "hello");
	bbo(&d, 0)->buffer = (uintptr_t)&slot;
	expect_string_rejected(&d, src);
	/* Flags that lie: the child without HAS_PARENT, the parent with it. */
	deliver_string(&src, &d, "hello");
	bbo(&d, 1)->flags = 0;
	expect_string_rejected(&d, src);
	deliver_string(&src, &d, "hello");
	bbo(&d, 0)->flags = BINDER_BUFFER_FLAG_HAS_PARENT;
	expect_string_rejected(&d, src);
	/* The struct is another object type. */
	deliver_string(&src, &d, "hello");
	bbo(&d, 0)->hdr.type = BINDER_TYPE_FDA;
	receive_again(&d);
	expect_string_rejected(&d, src);
}

/* A PTR object that is not in the offsets array is taken only as a null buffer. */
static void test_unrecorded_buffer(void **state)
{
	uint8_t data[8 + 2 * BBO] = "a::I";
	struct binder_buffer_object b = { .hdr.type = BINDER_TYPE_PTR, .length = 16 };
	char chars[16] = "hello";
	ubinder_parcel *p;
	const void *out;

	(void)state;
	b.buffer = (uintptr_t)chars;
	memcpy(data + 8, &b, sizeof(b));
	p = parcel_new_received(data, sizeof(data), NULL, 0, NULL);
	assert_non_null(p);
	parcel_set_sg_bounds(p, chars, sizeof(chars));
	assert_int_equal(ubinder_parcel_set_position(p, 8), 0);
	assert_int_equal(ubinder_parcel_read_buffer(p, 16, NULL, &out), UBINDER_ERR_BAD_VALUE);
	b.buffer = 0;
	memcpy(data + 8, &b, sizeof(b));
	assert_int_equal(ubinder_parcel_read_buffer(p, 16, NULL, &out), 0);
	assert_null(out);
	ubinder_parcel_free(p);
}

static void test_bad_fd_arrays(void **state)
{
	struct ubinder_hidl_native_handle h;
	ubinder_parcel *src;
	struct delivered d;
	int fd = STDIN_FILENO;
	struct ubinder_hidl_native_handle one = { .fds = &fd, .nfds = 1 };
	struct binder_fd_array_object f;
	size_t start;

	(void)state;
	for (int k = 0; k < 5; k++) {
		src = new_parcel();
		assert_int_equal(ubinder_parcel_write_int32(src, 0), 0);
		start = ubinder_parcel_get_position(src);
		assert_int_equal(ubinder_hidl_write_native_handle(src, &one), 0);
		deliver(src, &d);
		memcpy(&f, object_bytes(&d, 1), sizeof(f));
		if (k == 0)
			f.num_fds = 2;
		else if (k == 1)
			f.parent = 1;
		else if (k == 2)
			f.parent_offset = 8;
		memcpy(object_bytes(&d, 1), &f, sizeof(f));
		if (k == 3) /* the handle's own count disagrees */
			memcpy((uint8_t *)(uintptr_t)buffer_of(&d, 0) + 4, &(int32_t){ 2 }, 4);
		else /* the size word lies */
			memcpy(d.region + start, &(uint64_t){ 20 }, 8);
		assert_int_equal(ubinder_parcel_set_position(d.p, start), 0);
		assert_int_equal(ubinder_hidl_read_native_handle(d.p, &h), UBINDER_ERR_BAD_VALUE);
		assert_int_equal(ubinder_parcel_get_position(d.p), start);
		undeliver(&d);
		ubinder_parcel_free(src);
	}
}

/* Offsets that are not 4-aligned or overlap: the whole parcel is unreadable. */
static void test_unaligned_offsets(void **state)
{
	ubinder_parcel *src = new_parcel(), *p;
	const uint64_t *offsets;
	const void *raw;
	size_t size, n;
	uint64_t bad[2];
	const char *s;

	(void)state;
	assert_int_equal(ubinder_hidl_write_string(src, "hello"), 0);
	parcel_raw(src, &raw, &size, &offsets, &n);
	bad[0] = offsets[0] + 2;
	bad[1] = offsets[1];
	p = parcel_new_received(raw, size, bad, 2, NULL);
	assert_non_null(p);
	assert_int_equal(ubinder_hidl_read_string(p, &s, NULL), UBINDER_ERR_BAD_PARCEL);
	ubinder_parcel_free(p);
	ubinder_parcel_free(src);
}

/* Truncated parcels: every prefix of a delivered parcel fails cleanly. */
static void test_truncated(void **state)
{
	ubinder_parcel *src = new_parcel();
	const uint64_t *offsets;
	const void *raw;
	size_t size, n;
	struct delivered d;
	int w, r = pipe_with("hihi", &w);

	(void)state;
	write_everything(src, r);
	deliver(src, &d);
	parcel_raw(d.p, &raw, &size, &offsets, &n);
	for (size_t cut = 0; cut < size; cut += 4) {
		ubinder_parcel *p = parcel_new_received(raw, cut, offsets, 0, NULL);
		struct ubinder_hidl_native_handle h;
		const char *s;
		char **strs;

		assert_non_null(p);
		parcel_set_sg_bounds(p, d.region, d.size);
		/* Without the offsets nothing past the token and status reads as an object. */
		if (ubinder_hidl_read_interface_token(p, &s) == 0 &&
		    ubinder_hidl_read_status(p, NULL) == 0) {
			assert_int_not_equal(ubinder_hidl_read_string(p, &s, NULL), 0);
			assert_int_not_equal(ubinder_hidl_read_string_vec(p, &strs, NULL), 0);
			assert_int_not_equal(ubinder_hidl_read_native_handle(p, &h), 0);
		}
		ubinder_parcel_free(p);
	}
	undeliver(&d);
	ubinder_parcel_free(src);
	close(r);
	close(w);
}

/* A delivered parcel with random bytes changed anywhere in its region (data,
 * buffers) is read with every HIDL reader, in random order: reads fail or
 * succeed, never misbehave (under ASan+UBSan), and a failed read leaves the
 * position. */
static void test_random_damage(void **state)
{
	ubinder_parcel *src = new_parcel();
	struct delivered d;
	uint32_t seed = 4242;
	uint8_t *pristine;
	int w, r = pipe_with("hihi", &w);

	(void)state;
	write_everything(src, r);
	deliver(src, &d);
	pristine = malloc(d.size);
	assert_non_null(pristine);
	memcpy(pristine, d.region, d.size);
	for (int round = 0; round < 3000; round++) {
		const uint64_t *offsets;
		const void *data;
		size_t size, n;

		memcpy(d.region, pristine, d.size);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			d.region[(seed >> 8) % d.size] = (uint8_t)(seed >> 20);
		}
		receive_again(&d);
		parcel_raw(d.p, &data, &size, &offsets, &n);
		for (int k = 0; k < 24; k++) {
			struct ubinder_hidl_native_handle h;
			size_t before = ubinder_parcel_get_position(d.p), handle, len;
			const void *buf;
			const char *str;
			char **strs;
			int32_t ex = INT32_MAX;
			int err;

			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 7) {
			case 0:
				err = ubinder_hidl_read_interface_token(d.p, &str);
				break;
			case 1:
				err = ubinder_hidl_read_string(d.p, &str, &len);
				break;
			case 2:
				err = ubinder_hidl_read_string_vec(d.p, &strs, &len);
				if (!err)
					ubinder_hidl_free_strings(strs);
				break;
			case 3:
				err = ubinder_hidl_read_native_handle(d.p, &h);
				break;
			case 4:
				err = ubinder_parcel_read_buffer(d.p, (seed >> 4) % 64, &handle,
								 &buf);
				break;
			case 5:
				err = ubinder_hidl_read_embedded_string(
					d.p, (seed >> 4) % 8, (seed >> 8) % 48, &str, &len);
				break;
			default:
				/* An exception read is a success with a status to return. */
				err = ubinder_hidl_read_status(d.p, &ex);
				if (err && ex != INT32_MAX)
					err = 0;
				break;
			}
			if (err)
				assert_int_equal(ubinder_parcel_get_position(d.p), before);
			else if ((seed >> 3) % 5 == 0)
				ubinder_parcel_set_position(d.p,
							    (seed >> 5) % (size + 1) & ~(size_t)3);
		}
	}
	free(pristine);
	undeliver(&d);
	ubinder_parcel_free(src);
	close(r);
	close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_written),
		cmocka_unit_test(test_round_trip_delivered),
		cmocka_unit_test(test_string_layout),
		cmocka_unit_test(test_empty_vec_layout),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_token_and_status),
		cmocka_unit_test(test_bad_parent_index),
		cmocka_unit_test(test_bad_parent_offset),
		cmocka_unit_test(test_length_lies),
		cmocka_unit_test(test_bad_buffers),
		cmocka_unit_test(test_unrecorded_buffer),
		cmocka_unit_test(test_bad_fd_arrays),
		cmocka_unit_test(test_unaligned_offsets),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_random_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
