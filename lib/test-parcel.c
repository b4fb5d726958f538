/* SPDX-License-Identifier: MIT */
/*
 * Parcels: round trips of every type, the exact wire encoding, and reads of
 * truncated, mistyped and malformed parcels (which must fail cleanly, never
 * misbehave: run under ASan+UBSan too). UTF-8/UTF-16 conversions.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "internal.h"
#include "test-util.h"

static ubinder_parcel *new_parcel(void)
{
	ubinder_parcel *p = ubinder_parcel_new();

	assert_non_null(p);
	return p;
}

/* The parcel's bytes equal @expect. */
static void assert_bytes(const ubinder_parcel *p, const void *expect, size_t size)
{
	assert_int_equal(ubinder_parcel_get_size(p), size);
	assert_memory_equal(ubinder_parcel_get_data(p), expect, size);
}

/* A read-only parcel over @data with @n offsets, as the driver would deliver it. */
static ubinder_parcel *received(const void *data, size_t size, const uint64_t *offsets, size_t n)
{
	ubinder_parcel *p = parcel_new_received(data, size, offsets, n, NULL);

	assert_non_null(p);
	return p;
}

static void test_primitives_round_trip(void **state)
{
	ubinder_parcel *p = new_parcel();
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	bool b;
	float f;
	double d;

	(void)state;
	assert_int_equal(ubinder_parcel_write_int32(p, INT32_MIN), 0);
	assert_int_equal(ubinder_parcel_write_int32(p, -1), 0);
	assert_int_equal(ubinder_parcel_write_uint32(p, UINT32_MAX), 0);
	assert_int_equal(ubinder_parcel_write_int64(p, INT64_MIN), 0);
	assert_int_equal(ubinder_parcel_write_uint64(p, 0x0123456789abcdefull), 0);
	assert_int_equal(ubinder_parcel_write_bool(p, true), 0);
	assert_int_equal(ubinder_parcel_write_bool(p, false), 0);
	assert_int_equal(ubinder_parcel_write_float(p, 1.5f), 0);
	assert_int_equal(ubinder_parcel_write_double(p, -2.25), 0);
	assert_int_equal(ubinder_parcel_get_size(p), 4 + 4 + 4 + 8 + 8 + 4 + 4 + 4 + 8);

	assert_int_equal(ubinder_parcel_set_position(p, 0), 0);
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), 0);
	assert_int_equal(i32, INT32_MIN);
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), 0);
	assert_int_equal(i32, -1);
	assert_int_equal(ubinder_parcel_read_uint32(p, &u32), 0);
	assert_int_equal(u32, UINT32_MAX);
	assert_int_equal(ubinder_parcel_read_int64(p, &i64), 0);
	assert_true(i64 == INT64_MIN);
	assert_int_equal(ubinder_parcel_read_uint64(p, &u64), 0);
	assert_true(u64 == 0x0123456789abcdefull);
	assert_int_equal(ubinder_parcel_read_bool(p, &b), 0);
	assert_true(b);
	assert_int_equal(ubinder_parcel_read_bool(p, &b), 0);
	assert_false(b);
	assert_int_equal(ubinder_parcel_read_float(p, &f), 0);
	assert_true(f == 1.5f);
	assert_int_equal(ubinder_parcel_read_double(p, &d), 0);
	assert_true(d == -2.25);
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), UBINDER_ERR_NOT_ENOUGH_DATA);
	ubinder_parcel_free(p);
}

static void test_wire_encoding(void **state)
{
	static const uint8_t expect[] = {
		/* int32 5 */
		5,
		0,
		0,
		0,
		/* int64 at a 4-aligned (not 8-aligned) position */
		1,
		0,
		0,
		0,
		2,
		0,
		0,
		0,
		/* bool true */
		1,
		0,
		0,
		0,
		/* String16 "hi": length 2, units, NUL unit, padding */
		2,
		0,
		0,
		0,
		'h',
		0,
		'i',
		0,
		0,
		0,
		0,
		0,
		/* String8 "abc": length 3, bytes, NUL */
		3,
		0,
		0,
		0,
		'a',
		'b',
		'c',
		0,
		/* byte array {1, 2, 3}: padded */
		3,
		0,
		0,
		0,
		1,
		2,
		3,
		0,
		/* null byte array, null String16 */
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		/* empty String16: length 0, NUL unit, padding */
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
	};
	ubinder_parcel *p = new_parcel();
	static const uint8_t bytes[] = { 1, 2, 3 };

	(void)state;
	assert_int_equal(ubinder_parcel_write_int32(p, 5), 0);
	assert_int_equal(ubinder_parcel_write_uint64(p, 0x0000000200000001ull), 0);
	assert_int_equal(ubinder_parcel_write_bool(p, true), 0);
	assert_int_equal(ubinder_parcel_write_string16_utf8(p, "hi"), 0);
	assert_int_equal(ubinder_parcel_write_string8(p, "abc"), 0);
	assert_int_equal(ubinder_parcel_write_byte_array(p, bytes, 3), 0);
	assert_int_equal(ubinder_parcel_write_byte_array(p, NULL, 0), 0);
	assert_int_equal(ubinder_parcel_write_string16(p, NULL, 0), 0);
	assert_int_equal(ubinder_parcel_write_string16_utf8(p, ""), 0);
	assert_bytes(p, expect, sizeof(expect));
	assert_int_equal(ubinder_parcel_get_object_count(p), 0);
	ubinder_parcel_free(p);
}

static void test_null_binder_encoding(void **state)
{
	uint8_t expect[28] = { 0 };
	uint32_t type = BINDER_TYPE_BINDER;
	ubinder_parcel *p = new_parcel();
	ubinder_binder *b = (ubinder_binder *)&b;

	(void)state;
	memcpy(expect, &type, 4);
	assert_int_equal(ubinder_parcel_write_binder(p, NULL), 0);
	assert_bytes(p, expect, sizeof(expect));
	assert_int_equal(ubinder_parcel_get_object_count(p), 0); /* null: not recorded */
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_read_binder(p, &b), 0);
	assert_null(b);
	assert_int_equal(ubinder_parcel_get_position(p), 28);
	ubinder_parcel_free(p);
}

static void test_strings_round_trip(void **state)
{
	static const char *const samples[] = {
		"",
		"a",
		"ab",
		"abc",
		"abcd",
		"caf\xc3\xa9",
		"\xe2\x82\xac 100",
		"smile \xf0\x9f\x98\x80 (outside the BMP)",
	};
	static const uint16_t units[] = { 'x', 0xd83d, 0xde00, 'y' };
	ubinder_parcel *p = new_parcel();
	const uint16_t *u;
	const char *s8;
	size_t len;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		assert_int_equal(ubinder_parcel_write_string8(p, samples[i]), 0);
		assert_int_equal(ubinder_parcel_write_string16_utf8(p, samples[i]), 0);
	}
	assert_int_equal(ubinder_parcel_write_string8(p, NULL), 0);
	assert_int_equal(ubinder_parcel_write_string16_utf8(p, NULL), 0);
	assert_int_equal(ubinder_parcel_write_string16(p, units, 4), 0);
	ubinder_parcel_set_position(p, 0);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		assert_int_equal(ubinder_parcel_read_string8(p, &s8), 0);
		assert_string_equal(s8, samples[i]);
		assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), 0);
		assert_string_equal(s, samples[i]);
		free(s);
	}
	assert_int_equal(ubinder_parcel_read_string8(p, &s8), 0);
	assert_null(s8);
	assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), 0);
	assert_null(s);
	assert_int_equal(ubinder_parcel_read_string16(p, &u, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(u, units, sizeof(units));
	assert_int_equal(u[4], 0);
	ubinder_parcel_set_position(p, ubinder_parcel_get_size(p) - 16);
	assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), 0);
	assert_string_equal(s, "x\xf0\x9f\x98\x80y");
	free(s);
	ubinder_parcel_free(p);
}

static void test_byte_arrays(void **state)
{
	uint8_t data[9];
	ubinder_parcel *p = new_parcel();
	const void *out;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 + i);
	for (size_t n = 0; n <= sizeof(data); n++)
		assert_int_equal(ubinder_parcel_write_byte_array(p, data, n), 0);
	assert_int_equal(ubinder_parcel_write_byte_array(p, NULL, 0), 0);
	assert_int_equal(ubinder_parcel_write_byte_array(p, NULL, 3), UBINDER_ERR_BAD_VALUE);
	ubinder_parcel_set_position(p, 0);
	for (size_t n = 0; n <= sizeof(data); n++) {
		assert_int_equal(ubinder_parcel_read_byte_array(p, &out, &len), 0);
		assert_int_equal(len, n);
		assert_non_null(out);
		assert_memory_equal(out, data, n);
		assert_int_equal(ubinder_parcel_get_position(p) % 4, 0);
	}
	assert_int_equal(ubinder_parcel_read_byte_array(p, &out, &len), 0);
	assert_null(out);
	ubinder_parcel_free(p);
}

static void test_fd_round_trip(void **state)
{
	ubinder_parcel *p = new_parcel();
	struct stat a, b;
	int fds[2], fd;
	size_t off;
	enum ubinder_object_kind kind;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(ubinder_parcel_write_int32(p, 7), 0);
	assert_int_equal(ubinder_parcel_write_fd(p, fds[0]), 0);
	assert_int_equal(ubinder_parcel_write_fd(p, -1), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_get_size(p), 4 + 24);
	assert_int_equal(ubinder_parcel_get_object_count(p), 1);
	assert_int_equal(ubinder_parcel_get_object(p, 0, &off, &kind), 0);
	assert_int_equal(off, 4);
	assert_int_equal(kind, UBINDER_OBJECT_FD);
	assert_int_equal(ubinder_parcel_get_object(p, 1, &off, &kind), UBINDER_ERR_BAD_INDEX);
	ubinder_parcel_set_position(p, 4);
	assert_int_equal(ubinder_parcel_read_fd(p, &fd), 0);
	/* The parcel's own duplicate, of the same pipe. */
	assert_int_not_equal(fd, fds[0]);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(fds[0], &b), 0);
	assert_true(a.st_ino == b.st_ino);
	ubinder_parcel_free(p);
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed with the parcel */
	close(fds[0]);
	close(fds[1]);
}

static void test_interface_token_and_exceptions(void **state)
{
	ubinder_parcel *p = new_parcel();
	int32_t ex;

	(void)state;
	assert_int_equal(ubinder_parcel_write_interface_token(p, "org.example.IThing"), 0);
	assert_int_equal(ubinder_parcel_write_int32(p, 42), 0);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_enforce_interface(p, "org.example.IOther"),
			 UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_get_position(p), 0);
	assert_int_equal(ubinder_parcel_enforce_interface(p, "org.example.IThing"), 0);
	assert_int_equal(ubinder_parcel_read_int32(p, &ex), 0);
	assert_int_equal(ex, 42);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_enforce_interface(p, ""), UBINDER_ERR_BAD_TYPE);
	ubinder_parcel_free(p);

	p = new_parcel();
	assert_int_equal(ubinder_parcel_write_exception(p, UBINDER_EX_NONE, "ignored"), 0);
	assert_int_equal(ubinder_parcel_get_size(p), 4);
	assert_int_equal(ubinder_parcel_write_exception(p, UBINDER_EX_SECURITY, "no"), 0);
	assert_int_equal(ubinder_parcel_write_exception(p, UBINDER_EX_SERVICE_SPECIFIC, NULL), 0);
	assert_int_equal(ubinder_parcel_write_int32(p, 9), 0);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_read_exception(p, &ex), 0);
	assert_int_equal(ex, UBINDER_EX_NONE);
	assert_int_equal(ubinder_parcel_read_exception(p, &ex), UBINDER_ERR_PERMISSION_DENIED);
	assert_int_equal(ex, UBINDER_EX_SECURITY);
	assert_int_equal(ubinder_parcel_read_exception(p, &ex), UBINDER_ERR_UNKNOWN);
	assert_int_equal(ex, UBINDER_EX_SERVICE_SPECIFIC);
	assert_int_equal(ubinder_parcel_read_int32(p, &ex), 0);
	assert_int_equal(ex, 9);
	ubinder_parcel_free(p);
}

static void test_truncated(void **state)
{
	ubinder_parcel *p = new_parcel();
	const void *bytes;
	const char *s8;
	size_t len;
	int64_t i64;
	int32_t i32;
	char *s;

	(void)state;
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), UBINDER_ERR_NOT_ENOUGH_DATA);
	assert_int_equal(ubinder_parcel_write_int32(p, 10), 0); /* a length with no body */
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_read_int64(p, &i64), UBINDER_ERR_NOT_ENOUGH_DATA);
	assert_int_equal(ubinder_parcel_read_byte_array(p, &bytes, &len),
			 UBINDER_ERR_NOT_ENOUGH_DATA);
	assert_int_equal(ubinder_parcel_read_string8(p, &s8), UBINDER_ERR_NOT_ENOUGH_DATA);
	assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), UBINDER_ERR_NOT_ENOUGH_DATA);
	assert_int_equal(ubinder_parcel_get_position(p), 0); /* failed reads do not move */
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), 0);
	assert_int_equal(i32, 10);
	/* Lengths that would overflow a size computation. */
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_write_int32(p, INT32_MAX), 0);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), UBINDER_ERR_NOT_ENOUGH_DATA);
	assert_int_equal(ubinder_parcel_read_string8(p, &s8), UBINDER_ERR_NOT_ENOUGH_DATA);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_write_int32(p, -2), 0);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_read_byte_array(p, &bytes, &len), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_set_position(p, 5), UBINDER_ERR_BAD_INDEX);
	assert_int_equal(ubinder_parcel_set_position(p, 2), UBINDER_ERR_BAD_INDEX);
	ubinder_parcel_free(p);
}

static void test_bad_strings(void **state)
{
	/* String16 of length 2 whose NUL unit is missing. */
	static const uint8_t no_nul16[] = { 2, 0, 0, 0, 'a', 0, 'b', 0, 'c', 0, 0, 0 };
	/* String16 with an unpaired high surrogate. */
	static const uint8_t surrogate[] = { 1, 0, 0, 0, 0x3d, 0xd8, 0, 0 };
	/* String16 with an embedded NUL unit. */
	static const uint8_t nul16[] = { 2, 0, 0, 0, 'a', 0, 0, 0, 0, 0, 0, 0 };
	/* String8 "ab" without its NUL; String8 with invalid UTF-8 (overlong '/'). */
	static const uint8_t no_nul8[] = { 2, 0, 0, 0, 'a', 'b', 'c', 0 };
	static const uint8_t overlong[] = { 2, 0, 0, 0, 0xc0, 0xaf, 0, 0 };
	ubinder_parcel *p;
	const uint16_t *u;
	const char *s8;
	size_t len;
	char *s;

	(void)state;
	p = received(no_nul16, sizeof(no_nul16), NULL, 0);
	assert_int_equal(ubinder_parcel_read_string16(p, &u, &len), UBINDER_ERR_BAD_VALUE);
	ubinder_parcel_free(p);
	p = received(surrogate, sizeof(surrogate), NULL, 0);
	assert_int_equal(ubinder_parcel_read_string16(p, &u, &len), 0); /* raw units: fine */
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_get_position(p), 0);
	ubinder_parcel_free(p);
	p = received(nul16, sizeof(nul16), NULL, 0);
	assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), UBINDER_ERR_BAD_VALUE);
	ubinder_parcel_free(p);
	p = received(no_nul8, sizeof(no_nul8), NULL, 0);
	assert_int_equal(ubinder_parcel_read_string8(p, &s8), UBINDER_ERR_BAD_VALUE);
	ubinder_parcel_free(p);
	p = received(overlong, sizeof(overlong), NULL, 0);
	assert_int_equal(ubinder_parcel_read_string8(p, &s8), UBINDER_ERR_BAD_VALUE);
	ubinder_parcel_free(p);

	p = new_parcel();
	assert_int_equal(ubinder_parcel_write_string8(p, "\xed\xa0\x80"), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_write_string16_utf8(p, "\xf4\x90\x80\x80"),
			 UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_write_string16_utf8(p, "\xe2\x82"), UBINDER_ERR_BAD_VALUE);
	assert_int_equal(ubinder_parcel_get_size(p), 0); /* failed writes leave nothing */
	ubinder_parcel_free(p);
}

static void test_type_mismatch(void **state)
{
	ubinder_parcel *p = new_parcel();
	ubinder_binder *b;
	int fds[2], fd;
	int32_t i32;
	int64_t i64;
	char *s;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(ubinder_parcel_write_int32(p, 1), 0);
	assert_int_equal(ubinder_parcel_write_fd(p, fds[0]), 0);
	assert_int_equal(ubinder_parcel_write_int32(p, 2), 0);
	ubinder_parcel_set_position(p, 0);
	/* Plain data where an object is: refused, position kept. */
	assert_int_equal(ubinder_parcel_read_int64(p, &i64), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_read_fd(p, &fd), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), 0);
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_read_string16_utf8(p, &s), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_get_position(p), 4);
	/* Inside an object. */
	ubinder_parcel_set_position(p, 8);
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(ubinder_parcel_read_fd(p, &fd), UBINDER_ERR_BAD_TYPE);
	/* Writing over an object, or an object before the last one. */
	assert_int_equal(ubinder_parcel_write_int32(p, 3), UBINDER_ERR_BAD_TYPE);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_write_int32(p, 5), 0); /* before it: fine */
	assert_int_equal(ubinder_parcel_write_fd(p, fds[0]), UBINDER_ERR_INVALID_OPERATION);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_write_fd(p, fds[0]), UBINDER_ERR_INVALID_OPERATION);
	ubinder_parcel_set_position(p, 28);
	assert_int_equal(ubinder_parcel_read_int32(p, &i32), 0);
	assert_int_equal(i32, 2);
	/* A binder where a non-null, unrecorded object-like blob is. */
	ubinder_parcel_free(p);
	p = new_parcel();
	for (int i = 0; i < 7; i++)
		assert_int_equal(ubinder_parcel_write_int32(p, 0x11), 0);
	ubinder_parcel_set_position(p, 0);
	assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_BAD_TYPE);
	ubinder_parcel_free(p);
	close(fds[0]);
	close(fds[1]);
}

static void test_received_is_read_only(void **state)
{
	static const uint8_t data[8] = { 1 };
	ubinder_parcel *p = received(data, sizeof(data), NULL, 0);
	int32_t v;

	(void)state;
	assert_int_equal(ubinder_parcel_write_int32(p, 1), UBINDER_ERR_INVALID_OPERATION);
	assert_int_equal(ubinder_parcel_write_string8(p, "x"), UBINDER_ERR_INVALID_OPERATION);
	assert_int_equal(ubinder_parcel_write_fd(p, 0), UBINDER_ERR_INVALID_OPERATION);
	assert_int_equal(ubinder_parcel_read_int32(p, &v), 0);
	assert_int_equal(v, 1);
	ubinder_parcel_free(p);
}

/* A buffer holding flat objects at the given offsets. */
static void put_object(uint8_t *buf, size_t off, uint32_t type, uint32_t handle)
{
	struct flat_binder_object o = { .hdr.type = type, .handle = handle };

	memcpy(buf + off, &o, sizeof(o));
}

static void assert_bad_table(const uint8_t *buf, size_t size, const uint64_t *offsets, size_t n)
{
	ubinder_parcel *p = received(buf, size, offsets, n);
	ubinder_binder *b;
	int32_t v;
	int fd;

	assert_int_equal(ubinder_parcel_read_int32(p, &v), UBINDER_ERR_BAD_PARCEL);
	assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_BAD_PARCEL);
	assert_int_equal(ubinder_parcel_read_fd(p, &fd), UBINDER_ERR_BAD_PARCEL);
	ubinder_parcel_free(p);
}

static void test_bad_object_offsets(void **state)
{
	uint8_t buf[64] = { 0 };
	uint64_t off[2];

	(void)state;
	put_object(buf, 0, BINDER_TYPE_FD, 3);
	put_object(buf, 24, BINDER_TYPE_FD, 4);

	off[0] = 2; /* unaligned */
	assert_bad_table(buf, sizeof(buf), off, 1);
	off[0] = 64; /* at the end */
	assert_bad_table(buf, sizeof(buf), off, 1);
	off[0] = 48; /* object runs past the end */
	assert_bad_table(buf, sizeof(buf), off, 1);
	off[0] = UINT64_MAX - 3; /* overflows */
	assert_bad_table(buf, sizeof(buf), off, 1);
	off[0] = 0;
	off[1] = 12; /* overlapping */
	assert_bad_table(buf, sizeof(buf), off, 2);
	off[0] = 24;
	off[1] = 0; /* unsorted */
	assert_bad_table(buf, sizeof(buf), off, 2);
	put_object(buf, 40, 0x12345678, 0); /* unknown type */
	off[0] = 40;
	assert_bad_table(buf, sizeof(buf), off, 1);

	/* The valid table reads fine. */
	{
		ubinder_parcel *p;
		int fd;

		off[0] = 0;
		off[1] = 24;
		p = received(buf, 48, off, 2);
		assert_int_equal(ubinder_parcel_read_fd(p, &fd), 0);
		assert_int_equal(fd, 3);
		assert_int_equal(ubinder_parcel_read_fd(p, &fd), 0);
		assert_int_equal(fd, 4);
		assert_int_equal(ubinder_parcel_read_fd(p, &fd), UBINDER_ERR_NOT_ENOUGH_DATA);
		ubinder_parcel_free(p);
	}
}

static void test_unresolved_handle(void **state)
{
	uint8_t buf[28] = { 0 };
	uint64_t off = 0;
	ubinder_parcel *p;
	ubinder_binder *b;
	enum ubinder_object_kind kind;

	(void)state;
	put_object(buf, 0, BINDER_TYPE_HANDLE, 5);
	p = received(buf, sizeof(buf), &off, 1);
	assert_int_equal(ubinder_parcel_get_object(p, 0, NULL, &kind), 0);
	assert_int_equal(kind, UBINDER_OBJECT_HANDLE);
	/* Without a context there is no proxy to give. */
	assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_NO_INIT);
	ubinder_parcel_free(p);
	/* A handle with its stability word missing. */
	p = received(buf, 24, &off, 1);
	assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_NOT_ENOUGH_DATA);
	ubinder_parcel_free(p);
}

/* Random bytes and tables: every read fails or succeeds, nothing else (ASan watches). */
static void test_random_parcels(void **state)
{
	uint32_t seed = 12345;
	uint8_t buf[96];
	uint64_t offs[4];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t size, n;
		ubinder_parcel *p;

		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
			/* Plenty of small lengths and object types. */
			if (i % 4 == 0 && (seed & 0x300) == 0)
				buf[i] = (uint8_t)(seed >> 24) % 12;
		}
		if (round % 3 == 0)
			put_object(buf, (seed >> 8) % 16 * 4, BINDER_TYPE_FD, 9);
		size = (seed >> 4) % sizeof(buf);
		n = (seed >> 12) % 4;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			offs[i] = (seed >> 8) % 100;
		}
		p = received(buf, size, offs, n);
		for (int k = 0; k < 16; k++) {
			size_t before = ubinder_parcel_get_position(p);
			int err = 0;

			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 9) {
			case 0: {
				int32_t v;

				err = ubinder_parcel_read_int32(p, &v);
				break;
			}
			case 1: {
				int64_t v;

				err = ubinder_parcel_read_int64(p, &v);
				break;
			}
			case 2: {
				const void *d;
				size_t len;

				err = ubinder_parcel_read_byte_array(p, &d, &len);
				break;
			}
			case 3: {
				const char *s;

				err = ubinder_parcel_read_string8(p, &s);
				break;
			}
			case 4: {
				char *s;

				err = ubinder_parcel_read_string16_utf8(p, &s);
				if (!err)
					free(s);
				break;
			}
			case 5: {
				ubinder_binder *b;

				err = ubinder_parcel_read_binder(p, &b);
				if (!err)
					assert_null(b); /* only null binders without a context */
				break;
			}
			case 6: {
				int fd;

				err = ubinder_parcel_read_fd(p, &fd);
				break;
			}
			case 7: {
				int32_t ex;

				err = ubinder_parcel_read_exception(p, &ex);
				break;
			}
			default:
				err = ubinder_parcel_set_position(p, (seed >> 8) % 100);
				break;
			}
			assert_true(ubinder_parcel_get_position(p) <= ubinder_parcel_get_size(p));
			if (err && (seed >> 16) % 9 < 7)
				assert_int_equal(ubinder_parcel_get_position(p), before);
		}
		ubinder_parcel_free(p);
	}
}

static void test_utf(void **state)
{
	static const struct {
		const char *s;
		bool valid;
	} cases[] = {
		{ "plain", true },
		{ "\xc3\xa9", true },
		{ "\xef\xbf\xbf", true },
		{ "\xf4\x8f\xbf\xbf", true },	   /* U+10FFFF */
		{ "\xc0\x80", false },		   /* overlong NUL */
		{ "\xe0\x80\xaf", false },	   /* overlong */
		{ "\xed\xa0\x80", false },	   /* surrogate */
		{ "\xf4\x90\x80\x80", false },	   /* above U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", false }, /* 5-byte form */
		{ "\xc3", false },		   /* truncated */
		{ "\x80", false },		   /* stray continuation */
	};
	uint16_t units[16];
	char back[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].s);
		long n;

		assert_int_equal(utf8_valid(cases[i].s, len), cases[i].valid);
		n = utf8_to_utf16(cases[i].s, len, units);
		assert_int_equal(n >= 0, cases[i].valid);
		if (n < 0)
			continue;
		assert_int_equal(utf16_to_utf8(units, (size_t)n, back), (long)len);
		assert_memory_equal(back, cases[i].s, len);
	}
	units[0] = 0xdc00; /* lone low surrogate */
	assert_int_equal(utf16_to_utf8(units, 1, NULL), -1);
	units[0] = 0xd800; /* high surrogate at the end */
	assert_int_equal(utf16_to_utf8(units, 1, NULL), -1);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(ubinder_status_name(UBINDER_ERR_DEAD_OBJECT), "DEAD_OBJECT");
	assert_string_equal(ubinder_status_name(UBINDER_OK), "OK");
	assert_string_equal(ubinder_status_name(-12345), "UNKNOWN_STATUS");
	assert_non_null(ubinder_strerror(-12345));
	assert_int_equal(UBINDER_ERR_DEAD_OBJECT, -32); /* Android's DEAD_OBJECT */
	assert_int_equal(UBINDER_ERR_FAILED_TRANSACTION, (int)0x80000002);
	assert_int_equal(UBINDER_PING_TRANSACTION, 0x5f504e47);
	assert_int_equal(UBINDER_INTERFACE_TRANSACTION, 0x5f4e5446);
}

/* A receiver that records what the parcel asks of it. */
struct recording_receiver {
	struct parcel_receiver rx;
	uint32_t resolved[4];
	size_t nresolved;
	int releases;
	void *released_arg;
	uint64_t released_buffer;
};

static struct ubinder_binder *record_resolve(const struct parcel_receiver *rx,
					     const struct flat_binder_object *obj)
{
	struct recording_receiver *r = (struct recording_receiver *)rx;

	if (r->nresolved < 4)
		r->resolved[r->nresolved++] = obj->hdr.type;
	return NULL;
}

static void record_release(void *arg, uint64_t buffer)
{
	struct recording_receiver *r = arg;

	r->releases++;
	r->released_arg = arg;
	r->released_buffer = buffer;
}

/* A received parcel asks its receiver for its binders and handles (not for
 * descriptors, which it owns and closes), and gives its buffer back once, at
 * free. */
static void test_received_parcel_uses_its_receiver(void **state)
{
	struct flat_binder_object objs[3] = {
		{ .hdr.type = BINDER_TYPE_HANDLE, .handle = 3 },
		{ .hdr.type = BINDER_TYPE_FD },
		{ .hdr.type = BINDER_TYPE_BINDER, .binder = 0x1234 },
	};
	uint64_t offsets[3] = { 0, sizeof(objs[0]), 2 * sizeof(objs[0]) };
	struct recording_receiver r = {
		.rx = { .resolve = record_resolve, .release = record_release, .buffer = 0xb0ff }
	};
	ubinder_parcel *p;
	int pipe_fds[2];

	(void)state;
	r.rx.release_arg = &r;
	assert_int_equal(pipe(pipe_fds), 0);
	objs[1].handle = (uint32_t)pipe_fds[0];
	p = parcel_new_received(objs, sizeof(objs), offsets, 3, &r.rx);
	assert_non_null(p);
	assert_int_equal(r.nresolved, 2);
	assert_int_equal(r.resolved[0], BINDER_TYPE_HANDLE);
	assert_int_equal(r.resolved[1], BINDER_TYPE_BINDER);
	assert_int_equal(r.releases, 0);
	ubinder_parcel_free(p);
	assert_int_equal(r.releases, 1);
	assert_ptr_equal(r.released_arg, &r);
	assert_int_equal(r.released_buffer, 0xb0ff);
	assert_int_equal(fcntl(pipe_fds[0], F_GETFD), -1); /* the parcel's, closed */
	close(pipe_fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primitives_round_trip),
		cmocka_unit_test(test_wire_encoding),
		cmocka_unit_test(test_null_binder_encoding),
		cmocka_unit_test(test_strings_round_trip),
		cmocka_unit_test(test_byte_arrays),
		cmocka_unit_test(test_fd_round_trip),
		cmocka_unit_test(test_interface_token_and_exceptions),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_received_is_read_only),
		cmocka_unit_test(test_bad_object_offsets),
		cmocka_unit_test(test_unresolved_handle),
		cmocka_unit_test(test_random_parcels),
		cmocka_unit_test(test_utf),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_received_parcel_uses_its_receiver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
