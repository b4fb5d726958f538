/* SPDX-License-Identifier: MIT */
/*
 * UBW_WRITE_READ body decoding: every count the client states is checked
 * against the body before a caller may size memory by it.
 */
#include <errno.h>
#include <string.h>

#include "test-util.h"
#include "wire/decode.h"

/* A body: 8 bytes of commands, 2 descriptor numbers, then segments. */
struct body {
	uint64_t words[64];
};

static struct ubw_write_read header(uint64_t body_size, uint32_t nfds, uint32_t nsegments)
{
	return (struct ubw_write_read){ .hdr = { UBW_WRITE_READ, 0 },
					.body_size = body_size,
					.write_len = 8,
					.nfds = nfds,
					.nsegments = nsegments };
}

/* Puts a segment of @length bytes at byte @off of @b; returns the offset after it. */
static size_t put_segment(struct body *b, size_t off, uint64_t addr, uint64_t length)
{
	struct ubw_segment seg = { addr, length };

	memcpy((uint8_t *)b + off, &seg, sizeof(seg));
	return off + sizeof(seg) + UBW_ALIGN_UP(length);
}

static void well_formed_body_decodes(void **state)
{
	struct mem_segment segs[4];
	struct ubw_decoded_write_read dec;
	struct body b = { { 0 } };
	struct ubw_write_read hdr;
	size_t end = put_segment(&b, 16, 0x1000, 5);

	(void)state;
	end = put_segment(&b, end, 0x2000, 0);
	hdr = header(end, 2, 2);
	assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), 0);
	assert_int_equal(dec.nsegments, 2);
	assert_int_equal(dec.nfds, 2);
	assert_int_equal(ubw_decode_segments(&hdr, (uint8_t *)&b, segs, 4), 2);
	assert_int_equal(segs[0].addr, 0x1000);
	assert_int_equal(segs[0].length, 5);
	assert_ptr_equal(segs[0].bytes, (uint8_t *)&b + 32);
	assert_int_equal(segs[1].length, 0);
}

/* The counts that made the daemon allocate gigabytes: refused by the decoder. */
static void segment_count_larger_than_the_body_is_refused(void **state)
{
	static const uint32_t lies[] = { 0xffffffffu, 100000000u, 1u << 20, 3 };
	struct ubw_decoded_write_read dec;
	struct body b = { { 0 } };

	(void)state;
	put_segment(&b, 16, 0, 0);
	put_segment(&b, 32, 0, 0);
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		/* Room for exactly two empty segments after the commands and fds. */
		struct ubw_write_read hdr = header(48, 2, lies[i]);

		assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), -EPROTO);
	}
	{
		struct ubw_write_read hdr = header(48, 2, 2);

		assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), 0);
		assert_int_equal(dec.nsegments, 2);
	}
}

static void other_lying_counts_are_refused(void **state)
{
	struct mem_segment segs[4];
	struct ubw_decoded_write_read dec;
	struct body b = { { 0 } };
	struct ubw_write_read hdr;

	(void)state;
	hdr = header(16, 2, 0);
	hdr.write_len = 0xffffffffu; /* commands past the body */
	assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), -EPROTO);
	hdr = header(16, 2, 0);
	hdr.write_overrun = UBW_MAX_OVERRUN + 8;
	assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), -EPROTO);
	hdr = header(16, 3, 0); /* more numbers than descriptors came */
	assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), -EPROTO);
	hdr = header(sizeof(b), UBW_MAX_FDS + 1, 0);
	assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, UBW_MAX_FDS + 1, &dec),
			 -EPROTO);
	hdr = header(12, 2, 0); /* fd numbers cut off */
	assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), -EPROTO);
	/* A segment whose length runs past the body. */
	put_segment(&b, 16, 0, 1u << 30);
	hdr = header(48, 2, 1);
	assert_int_equal(ubw_decode_write_read(&hdr, (uint8_t *)&b, 2, &dec), 0);
	assert_int_equal(ubw_decode_segments(&hdr, (uint8_t *)&b, segs, 4), -EPROTO);
	/* More segments than the caller has room for. */
	put_segment(&b, 16, 0, 0);
	put_segment(&b, 32, 0, 0);
	hdr = header(48, 2, 2);
	assert_int_equal(ubw_decode_segments(&hdr, (uint8_t *)&b, segs, 1), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(well_formed_body_decodes),
		cmocka_unit_test(segment_count_larger_than_the_body_is_refused),
		cmocka_unit_test(other_lying_counts_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
