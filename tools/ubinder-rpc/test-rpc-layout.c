/* SPDX-License-Identifier: MIT */
/*
 * Interface layouts and parcel translation: the built-in layouts, layout
 * files (good, bad, overriding), and translation both ways of a request
 * whose binder a layout places, with the object maps faked: the bytes of
 * each form, and the refusal of parcels no layout describes, of lying
 * binder fields and of truncated fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpc_translate.h"
#include "test-util.h"

#define WATCHER "org.ubinder.example.IKeyValueWatcher"

static void test_builtin(void **state)
{
	struct rpc_layouts *l = rpc_layouts_new();
	const struct rpc_layout *y;

	(void)state;
	assert_non_null(l);
	y = rpc_layouts_find(l, "org.ubinder.example.IKeyValue", 5, false);
	assert_non_null(y);
	assert_int_equal(y->nfields, 1);
	assert_int_equal(y->fields[0], RPC_FIELD_BINDER);
	assert_string_equal(y->binder_descriptor[0], WATCHER);
	assert_null(rpc_layouts_find(l, "org.ubinder.example.IKeyValue", 5, true));
	assert_null(rpc_layouts_find(l, "org.ubinder.example.IKeyValue", 1, false));
	y = rpc_layouts_find(l, "android.os.IServiceManager", 3, false);
	assert_non_null(y);
	assert_int_equal(y->nfields, 4);
	assert_non_null(rpc_layouts_find(l, "android.os.IServiceManager", 2, true));
	assert_null(rpc_layouts_find(l, NULL, 2, true));
	rpc_layouts_free(l);
}

static void test_files(void **state)
{
	struct rpc_layouts *l = rpc_layouts_new();
	const struct rpc_layout *y;

	(void)state;
	assert_int_equal(rpc_layouts_parse(l,
					   "# comment\n\n  a.B 0x10 reply status i64 str16 fd # c\n"
					   "a.B 7 request binder\n"),
			 0);
	y = rpc_layouts_find(l, "a.B", 16, true);
	assert_non_null(y);
	assert_int_equal(y->nfields, 4);
	assert_int_equal(y->fields[3], RPC_FIELD_FD);
	/* a bad line anywhere: its number, and nothing of the text is added */
	assert_int_equal(rpc_layouts_parse(l, "c.D 1 request i32\nc.D 2 request int\n"), 2);
	assert_null(rpc_layouts_find(l, "c.D", 1, false));
	assert_int_equal(rpc_layouts_parse(l, "c.D 1 sideways i32\n"), 1);
	assert_int_equal(rpc_layouts_parse(l, "c.D x request\n"), 1);
	assert_int_equal(rpc_layouts_parse(l, "c.D 4294967296 request\n"), 1);
	assert_int_equal(rpc_layouts_parse(l, "c.D 1\n"), 1);
	assert_int_equal(rpc_layouts_parse(l, "c.D 1 request binder:\n"), 1);
	assert_int_equal(rpc_layouts_parse(
				 l, "c.D 1 request i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 "
				    "i32 i32 i32 i32 i32\n"),
			 1);
	/* a later line replaces a built-in one */
	assert_int_equal(rpc_layouts_parse(l, "org.ubinder.example.IKeyValue 5 request i32\n"), 0);
	y = rpc_layouts_find(l, "org.ubinder.example.IKeyValue", 5, false);
	assert_int_equal(y->fields[0], RPC_FIELD_I32);
	rpc_layouts_free(l);
}

/* Fake maps: every local binder leaves as address 0x500000001, every
 * address arrives as a null binder, except 0xbad, which is refused. */
static unsigned arrived;
static char last_descriptor[64];

static int fake_to(void *s, ubinder_binder *b, uint64_t *address)
{
	(void)s;
	(void)b;
	*address = 0x500000001ull;
	return 0;
}

static int fake_from(void *s, uint64_t address, const char *descriptor, ubinder_binder **out)
{
	(void)s;
	if (address == 0xbad)
		return -EINVAL;
	arrived++;
	snprintf(last_descriptor, sizeof(last_descriptor), "%s", descriptor ? descriptor : "");
	*out = NULL;
	return 0;
}

static const struct rpc_objects fake = { NULL, fake_to, fake_from, false };
static const struct rpc_objects fake_fds = { NULL, fake_to, fake_from, true };

/* An RPC-form watch request: token, then the binder field @binder (@n bytes). */
static size_t rpc_watch(uint8_t *out, const void *binder, size_t n, const char *tail)
{
	ubinder_parcel *p = ubinder_parcel_new();
	size_t size;

	ubinder_parcel_write_string16_utf8(p, "org.ubinder.example.IKeyValue");
	size = ubinder_parcel_get_size(p);
	memcpy(out, ubinder_parcel_get_data(p), size);
	memcpy(out + size, binder, n);
	size += n;
	if (tail) {
		ubinder_parcel_free(p);
		p = ubinder_parcel_new();
		ubinder_parcel_write_string16_utf8(p, tail);
		memcpy(out + size, ubinder_parcel_get_data(p), ubinder_parcel_get_size(p));
		size += ubinder_parcel_get_size(p);
	}
	ubinder_parcel_free(p);
	return size;
}

static void test_to_kernel(void **state)
{
	struct rpc_layouts *l = rpc_layouts_new();
	struct rpc_parcel_kind kind = { .code = 5 };
	const uint32_t binder[4] = { 1, 0x00000001, 0x7, 0x0c }, null[2] = { 0, 0 },
		       bad[2] = { 3, 0 };
	const uint32_t lying[4] = { 1, 0xbad, 0, 0x0c };
	uint8_t in[512];
	struct rpc_parcel_view v = { .data = in };
	ubinder_parcel *k = ubinder_parcel_new();
	char *tail = NULL;

	(void)state;
	v.data_size = (uint32_t)rpc_watch(in, binder, sizeof(binder), "after");
	arrived = 0;
	assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, NULL, 0, &fake, k), 0);
	assert_string_equal(kind.descriptor, "org.ubinder.example.IKeyValue");
	assert_int_equal(arrived, 1);
	assert_string_equal(last_descriptor, WATCHER);
	/* kernel form: the full token, a (null) flat binder and its stability, the rest */
	assert_int_equal(ubinder_parcel_set_position(k, 0), 0);
	assert_int_equal(ubinder_parcel_enforce_interface(k, "org.ubinder.example.IKeyValue"), 0);
	ubinder_binder *b = (ubinder_binder *)1;
	assert_int_equal(ubinder_parcel_read_binder(k, &b), 0);
	assert_null(b);
	assert_int_equal(ubinder_parcel_read_string16_utf8(k, &tail), 0);
	assert_string_equal(tail, "after");
	free(tail);
	ubinder_parcel_free(k);
	free(kind.descriptor);

	/* a null binder; then refusals: unknown type, truncated, a lying address */
	struct {
		const void *field;
		size_t n;
		int want;
	} cases[] = { { null, sizeof(null), 0 },
		      { bad, sizeof(bad), -EINVAL },
		      { binder, 4, -EINVAL },
		      { binder, 12, -EINVAL },
		      { lying, sizeof(lying), -EINVAL } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kind = (struct rpc_parcel_kind){ .code = 5 };
		k = ubinder_parcel_new();
		v.data_size = (uint32_t)rpc_watch(in, cases[i].field, cases[i].n, NULL);
		assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, NULL, 0, &fake, k),
				 cases[i].want);
		ubinder_parcel_free(k);
		free(kind.descriptor);
	}
	/* descriptors in the object table: no transport */
	kind = (struct rpc_parcel_kind){ .code = 5 };
	k = ubinder_parcel_new();
	v.data_size = (uint32_t)rpc_watch(in, null, sizeof(null), NULL);
	v.object_count = 1;
	assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, NULL, 0, &fake, k), -EINVAL);
	ubinder_parcel_free(k);
	free(kind.descriptor);
	rpc_layouts_free(l);
}

static void test_to_rpc(void **state)
{
	struct rpc_layouts *l = rpc_layouts_new();
	struct rpc_parcel_kind kind = { .code = 5 };
	ubinder_parcel *k = ubinder_parcel_new();
	struct rpc_buf out = { 0 };
	uint8_t want[512];
	const uint32_t null[2] = { 0, 0 };
	int fds[2];

	(void)state;
	ubinder_parcel_write_interface_token(k, "org.ubinder.example.IKeyValue");
	ubinder_parcel_write_binder(k, NULL);
	ubinder_parcel_write_string16_utf8(k, "after");
	assert_int_equal(rpc_parcel_to_rpc(l, &kind, k, &fake, &out), 0);
	assert_int_equal(out.size, rpc_watch(want, null, sizeof(null), "after"));
	assert_memory_equal(out.data, want, out.size);
	rpc_buf_free(&out);
	free(kind.descriptor);
	ubinder_parcel_free(k);

	/* an object where no layout places one: refused, never guessed at */
	assert_int_equal(pipe(fds), 0);
	kind = (struct rpc_parcel_kind){ .code = 1 };
	k = ubinder_parcel_new();
	ubinder_parcel_write_interface_token(k, "org.ubinder.example.IKeyValue");
	ubinder_parcel_write_fd(k, fds[0]);
	assert_int_equal(rpc_parcel_to_rpc(l, &kind, k, &fake, &out), -EINVAL);
	rpc_buf_free(&out);
	free(kind.descriptor);
	ubinder_parcel_free(k);
	/* a descriptor where the layout wants a binder */
	kind = (struct rpc_parcel_kind){ .code = 5 };
	k = ubinder_parcel_new();
	ubinder_parcel_write_interface_token(k, "org.ubinder.example.IKeyValue");
	ubinder_parcel_write_fd(k, fds[0]);
	assert_int_equal(rpc_parcel_to_rpc(l, &kind, k, &fake, &out), -EINVAL);
	rpc_buf_free(&out);
	free(kind.descriptor);
	ubinder_parcel_free(k);
	/* a reply: status, then data copied as is */
	kind = (struct rpc_parcel_kind){ .code = 5, .reply = true };
	k = ubinder_parcel_new();
	ubinder_parcel_write_exception(k, UBINDER_EX_NONE, NULL);
	ubinder_parcel_write_int32(k, 42);
	assert_int_equal(rpc_parcel_to_rpc(l, &kind, k, &fake, &out), 0);
	assert_int_equal(out.size, 8);
	assert_memory_equal(out.data, "\0\0\0\0\x2a\0\0\0", 8);
	rpc_buf_free(&out);
	ubinder_parcel_free(k);
	close(fds[0]);
	close(fds[1]);
	rpc_layouts_free(l);
}

/* Descriptors cross where they are, with descriptor transport only. */
static void test_descriptors(void **state)
{
	struct rpc_layouts *l = rpc_layouts_new();
	struct rpc_parcel_kind kind = { .code = 1 };
	ubinder_parcel *k = ubinder_parcel_new(), *back = ubinder_parcel_new();
	struct rpc_buf out = { 0 };
	struct rpc_parcel_view v;
	struct stat a, b;
	uint32_t w[2];
	char *text = NULL;
	int fds[2], got;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	ubinder_parcel_write_interface_token(k, "org.ubinder.example.IKeyValue");
	ubinder_parcel_write_int32(k, 7);
	ubinder_parcel_write_fd(k, fds[0]);
	ubinder_parcel_write_string16_utf8(k, "after");
	assert_int_equal(rpc_parcel_to_rpc(l, &kind, k, &fake_fds, &out), 0);
	assert_int_equal(out.nobjects, 1);
	/* token (RPC form), the int, then TYPE_NATIVE_FILE_DESCRIPTOR and index 0 */
	memcpy(w, out.data + out.objects[0], 8);
	assert_int_equal(w[0], RPC_OBJECT_FD);
	assert_int_equal(w[1], 0);
	assert_int_equal(out.size, out.objects[0] + 8 + 16);
	v = (struct rpc_parcel_view){ .data = out.data,
				      .data_size = (uint32_t)out.size,
				      .objects = (const uint8_t *)out.objects,
				      .object_count = 1 };
	free(kind.descriptor);
	kind = (struct rpc_parcel_kind){ .code = 1 };
	/* without the descriptor: refused; with it, the same file comes out */
	assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, NULL, 0, &fake_fds, back), -EINVAL);
	ubinder_parcel_free(back);
	back = ubinder_parcel_new();
	free(kind.descriptor);
	kind = (struct rpc_parcel_kind){ .code = 1 };
	assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, &out.fds[0], 1, &fake, back), -EINVAL);
	ubinder_parcel_free(back);
	back = ubinder_parcel_new();
	free(kind.descriptor);
	kind = (struct rpc_parcel_kind){ .code = 1 };
	assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, &out.fds[0], 1, &fake_fds, back), 0);
	assert_int_equal(ubinder_parcel_set_position(back, 0), 0);
	assert_int_equal(ubinder_parcel_enforce_interface(back, "org.ubinder.example.IKeyValue"),
			 0);
	assert_int_equal(ubinder_parcel_read_int32(back, &got), 0);
	assert_int_equal(got, 7);
	assert_int_equal(ubinder_parcel_read_fd(back, &got), 0);
	assert_int_equal(fstat(got, &a), 0);
	assert_int_equal(fstat(fds[0], &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	assert_int_equal(ubinder_parcel_read_string16_utf8(back, &text), 0);
	assert_string_equal(text, "after");
	free(text);
	/* a descriptor over plain data the layout reads: refused */
	ubinder_parcel_free(back);
	back = ubinder_parcel_new();
	free(kind.descriptor);
	kind = (struct rpc_parcel_kind){ .code = 1 };
	assert_int_equal(rpc_layouts_parse(l, "org.ubinder.example.IKeyValue 1 request i32 i64\n"),
			 0);
	assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, &out.fds[0], 1, &fake_fds, back),
			 -EINVAL);
	free(kind.descriptor);
	ubinder_parcel_free(back);
	ubinder_parcel_free(k);
	rpc_buf_free(&out);
	close(fds[0]);
	close(fds[1]);
	rpc_layouts_free(l);
}

/* Large plain data (copied in bulk) comes back byte for byte. */
static void test_large_plain(void **state)
{
	struct rpc_layouts *l = rpc_layouts_new();
	struct rpc_parcel_kind kind = { .code = 1 };
	ubinder_parcel *k = ubinder_parcel_new();
	struct rpc_buf out = { 0 };
	uint8_t in[4096];
	char text[1001], *got = NULL;
	struct rpc_parcel_view v = { .data = in };

	(void)state;
	for (int i = 0; i < 1000; i++)
		text[i] = (char)('a' + i % 26);
	text[1000] = '\0';
	v.data_size = (uint32_t)rpc_watch(in, "\x07\0\0\0", 4, text);
	assert_int_equal(rpc_parcel_to_kernel(l, &kind, &v, NULL, 0, &fake, k), 0);
	assert_int_equal(ubinder_parcel_set_position(k, 0), 0);
	assert_int_equal(ubinder_parcel_enforce_interface(k, "org.ubinder.example.IKeyValue"), 0);
	int32_t seven;
	assert_int_equal(ubinder_parcel_read_int32(k, &seven), 0);
	assert_int_equal(seven, 7);
	assert_int_equal(ubinder_parcel_read_string16_utf8(k, &got), 0);
	assert_string_equal(got, text);
	free(got);
	free(kind.descriptor);
	kind = (struct rpc_parcel_kind){ .code = 1 };
	assert_int_equal(rpc_parcel_to_rpc(l, &kind, k, &fake, &out), 0);
	assert_int_equal(out.size, v.data_size);
	assert_memory_equal(out.data, in, out.size);
	rpc_buf_free(&out);
	free(kind.descriptor);
	ubinder_parcel_free(k);
	rpc_layouts_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),	    cmocka_unit_test(test_files),
		cmocka_unit_test(test_to_kernel),   cmocka_unit_test(test_to_rpc),
		cmocka_unit_test(test_descriptors), cmocka_unit_test(test_large_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
