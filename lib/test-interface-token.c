/* SPDX-License-Identifier: MIT */
/*
 * Interface tokens of each generation: the exact words written, the
 * generation recognised on reading (ambiguous-looking ones included), the
 * refusals, and the binder format each generation implies.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/android/binder.h>

#include "internal.h"
#include "test-util.h"

#define DESC "a.IB" /* 4 UTF-16 units: length word, 2 words of units + NUL padded */
#define SYST UBINDER_PACK_CHARS('S', 'Y', 'S', 'T')

/* The String16 "a.IB" as words. */
static const uint32_t desc_words[] = { 4, 0x002e0061, 0x00420049, 0 };

static ubinder_parcel *received_words(const uint32_t *w, size_t n)
{
	ubinder_parcel *p = parcel_new_received(w, n * 4, NULL, 0, NULL);

	assert_non_null(p);
	return p;
}

static void test_written_words(void **state)
{
	static const uint32_t gen1[] = { 0x00400000, 4, 0x002e0061, 0x00420049, 0 };
	static const uint32_t gen2[] = { 0x80000000, 0xffffffff, 4, 0x002e0061, 0x00420049, 0 };
	static const uint32_t gen3[] = {
		0x80000000, 0xffffffff, SYST, 4, 0x002e0061, 0x00420049, 0
	};
	const uint32_t *want[] = { gen1, gen2, gen3 };
	const size_t size[] = { sizeof(gen1), sizeof(gen2), sizeof(gen3) };

	(void)state;
	for (int g = 1; g <= 3; g++) {
		ubinder_parcel *p = ubinder_parcel_new();

		assert_int_equal(ubinder_parcel_write_interface_token_gen(p, DESC, g), 0);
		assert_int_equal(ubinder_parcel_get_size(p), size[g - 1]);
		assert_memory_equal(ubinder_parcel_get_data(p), want[g - 1], size[g - 1]);
		ubinder_parcel_free(p);
	}
	/* The current generation by default. */
	{
		ubinder_parcel *p = ubinder_parcel_new();

		assert_int_equal(ubinder_parcel_write_interface_token(p, DESC), 0);
		assert_memory_equal(ubinder_parcel_get_data(p), gen3, sizeof(gen3));
		assert_int_equal(ubinder_parcel_write_interface_token_gen(p, DESC, 0),
				 UBINDER_ERR_BAD_VALUE);
		assert_int_equal(ubinder_parcel_write_interface_token_gen(p, DESC, 4),
				 UBINDER_ERR_BAD_VALUE);
		assert_int_equal(ubinder_parcel_get_size(p), sizeof(gen3));
		ubinder_parcel_free(p);
	}
}

/* Reads @w with generation @want (0: any); returns the status, *found, *pos. */
static int enforce(const uint32_t *w, size_t n, const char *desc, int want, int *found, size_t *pos)
{
	ubinder_parcel *p = received_words(w, n);
	int err = ubinder_parcel_enforce_interface_gen(p, desc, want, found);

	*pos = ubinder_parcel_get_position(p);
	ubinder_parcel_free(p);
	return err;
}

static void test_recognised(void **state)
{
	uint32_t w[16];
	size_t pos;
	int found;

	(void)state;
	/* gen1: policy, descriptor */
	w[0] = 0x00400000;
	memcpy(w + 1, desc_words, sizeof(desc_words));
	assert_int_equal(enforce(w, 5, DESC, 0, &found, &pos), 0);
	assert_int_equal(found, UBINDER_HEADER_STRICT_MODE);
	assert_int_equal(pos, 20);
	/* gen2 whose work source equals the descriptor's length: still gen2 */
	w[0] = 0x80000000;
	w[1] = 4;
	memcpy(w + 2, desc_words, sizeof(desc_words));
	assert_int_equal(enforce(w, 6, DESC, 0, &found, &pos), 0);
	assert_int_equal(found, UBINDER_HEADER_WORK_SOURCE);
	assert_int_equal(pos, 24);
	/* gen3, and 'VNDR' (vndbinder) */
	w[1] = 0xffffffff;
	w[2] = SYST;
	memcpy(w + 3, desc_words, sizeof(desc_words));
	assert_int_equal(enforce(w, 7, DESC, 0, &found, &pos), 0);
	assert_int_equal(found, UBINDER_HEADER_SYST);
	assert_int_equal(pos, 28);
	assert_int_equal(enforce(w, 7, DESC, UBINDER_HEADER_SYST, &found, &pos), 0);
	w[2] = UBINDER_PACK_CHARS('V', 'N', 'D', 'R');
	assert_int_equal(enforce(w, 7, DESC, 0, &found, &pos), 0);
	assert_int_equal(found, UBINDER_HEADER_SYST);
	/* the plain reader takes only gen3 */
	{
		ubinder_parcel *p = received_words(w, 7);

		assert_int_equal(ubinder_parcel_enforce_interface(p, DESC), 0);
		ubinder_parcel_free(p);
	}
}

static void test_refused(void **state)
{
	uint32_t w[16];
	size_t pos;
	int found;

	(void)state;
	/* gen1 where only gen3 is wanted */
	w[0] = 0x00400000;
	memcpy(w + 1, desc_words, sizeof(desc_words));
	assert_int_equal(enforce(w, 5, DESC, UBINDER_HEADER_SYST, &found, &pos),
			 UBINDER_ERR_BAD_TYPE);
	assert_int_equal(found, 0);
	assert_int_equal(pos, 0);
	/* another descriptor, each generation */
	assert_int_equal(enforce(w, 5, "a.IC", 0, &found, &pos), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(found, 0);
	w[0] = 0x80000000;
	w[1] = 0xffffffff;
	w[2] = SYST;
	memcpy(w + 3, desc_words, sizeof(desc_words));
	assert_int_equal(enforce(w, 7, "a.IC", 0, &found, &pos), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(found, UBINDER_HEADER_SYST); /* what it resembles */
	assert_int_equal(pos, 0);
	/* truncated: nothing, one word, 'SYST' without a descriptor, half a string */
	for (size_t n = 0; n <= 5; n++) {
		assert_int_equal(enforce(w, n, DESC, 0, &found, &pos), UBINDER_ERR_BAD_TYPE);
		assert_int_equal(pos, 0);
	}
	/* a lying length */
	w[3] = 1000;
	assert_int_equal(enforce(w, 7, DESC, 0, &found, &pos), UBINDER_ERR_BAD_TYPE);
	w[3] = 0x80000000;
	assert_int_equal(enforce(w, 7, DESC, 0, &found, &pos), UBINDER_ERR_BAD_TYPE);
	assert_int_equal(enforce(w, 7, DESC, 9, &found, &pos), UBINDER_ERR_BAD_VALUE);
}

/* Before Android 11 no stability word follows a binder. */
static void test_binder_format(void **state)
{
	ubinder_parcel *p = ubinder_parcel_new();
	size_t after_token;

	(void)state;
	assert_int_equal(ubinder_parcel_write_interface_token_gen(p, DESC, 1), 0);
	after_token = ubinder_parcel_get_size(p);
	assert_int_equal(ubinder_parcel_write_binder(p, NULL), 0);
	assert_int_equal(ubinder_parcel_get_size(p),
			 after_token + sizeof(struct flat_binder_object));
	ubinder_parcel_set_stability_word(p, true);
	assert_int_equal(ubinder_parcel_write_binder(p, NULL), 0);
	assert_int_equal(ubinder_parcel_get_size(p),
			 after_token + 2 * sizeof(struct flat_binder_object) + 4);
	ubinder_parcel_free(p);

	/* Reading: a null binder as the last thing, with no word after it. */
	{
		uint32_t w[5 + 6] = { 0x00400000, 4, 0x002e0061, 0x00420049, 0 };
		ubinder_binder *b = (ubinder_binder *)1;

		w[5] = BINDER_TYPE_BINDER; /* the rest of the object is zeros */
		p = received_words(w, 11);
		assert_int_equal(ubinder_parcel_enforce_interface_gen(p, DESC, 0, NULL), 0);
		assert_int_equal(ubinder_parcel_read_binder(p, &b), 0);
		assert_null(b);
		assert_int_equal(ubinder_parcel_get_position(p), 44);
		ubinder_parcel_free(p);
		/* the same read in the current format wants the word */
		p = received_words(w, 11);
		assert_int_equal(ubinder_parcel_set_position(p, 20), 0);
		assert_int_equal(ubinder_parcel_read_binder(p, &b), UBINDER_ERR_NOT_ENOUGH_DATA);
		ubinder_parcel_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_words),
		cmocka_unit_test(test_recognised),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_binder_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
