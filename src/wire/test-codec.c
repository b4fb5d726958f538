/* SPDX-License-Identifier: MIT */
/*
 * UBW_WRITE_READ bodies round trip: what ubw_encode_write_read() lays out,
 * ubw_decode_write_read() and ubw_decode_segments() give back exactly, with
 * every padding byte zero. Exhaustive over small shapes, then random ones up
 * to the protocol's limits.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "test-util.h"
#include "wire/decode.h"
#include "wire/encode.h"

#define MAX_SEGS 8

/* One body to encode. */
struct shape {
	uint32_t write_len, write_overrun;
	size_t nfds;
	size_t nsegs;
	uint64_t seg_len[MAX_SEGS];
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)next_rand();
}

/* Encodes @sh with random contents, decodes it and compares. */
static void round_trip(const struct shape *sh)
{
	struct mem_segment dsegs[MAX_SEGS];
	struct ubw_decoded_write_read dec;
	struct ubw_write_read hdr;
	struct ubw_write_read_body b = { .write_len = sh->write_len,
					 .write_overrun = sh->write_overrun,
					 .nfds = sh->nfds,
					 .nsegments = (uint32_t)sh->nsegs };
	uint64_t seg_addr[MAX_SEGS];
	size_t seg_at[MAX_SEGS];
	size_t write_end = (size_t)sh->write_len + sh->write_overrun, size, at;
	int32_t *fds = malloc(sh->nfds * sizeof(*fds) + 1);
	uint8_t *segs, *body, *expect;

	assert_non_null(fds);
	for (size_t i = 0; i < sh->nfds; i++)
		fds[i] = (int32_t)next_rand();
	for (size_t i = 0; i < sh->nsegs; i++)
		b.segments_len += ubw_segment_size(sh->seg_len[i]);
	segs = malloc(b.segments_len + 1);
	assert_non_null(segs);
	/* Garbage where padding goes: the encoder must zero it. */
	fill(segs, b.segments_len);
	at = 0;
	for (size_t i = 0; i < sh->nsegs; i++) {
		seg_addr[i] = ((uint64_t)next_rand() << 32) | next_rand();
		seg_at[i] = at + sizeof(struct ubw_segment);
		ubw_encode_segment(segs + at, seg_addr[i], sh->seg_len[i]);
		at += ubw_segment_size(sh->seg_len[i]);
	}
	b.fds = fds;
	b.segments = segs;
	size = (size_t)ubw_write_read_body_size(&b);
	body = malloc(size + 1);
	expect = malloc(write_end + 1);
	assert_non_null(body);
	assert_non_null(expect);
	fill(body, size);
	memcpy(expect, body, write_end);

	memset(&hdr, 0xa5, sizeof(hdr));
	ubw_encode_write_read(&hdr, body, &b);
	assert_int_equal(hdr.body_size, size);
	assert_int_equal(hdr.write_len, sh->write_len);
	assert_int_equal(hdr.write_overrun, sh->write_overrun);
	assert_int_equal(hdr.nfds, sh->nfds);
	assert_int_equal(hdr.nsegments, sh->nsegs);

	assert_int_equal(ubw_decode_write_read(&hdr, body, sh->nfds, &dec), 0);
	assert_ptr_equal(dec.write, body);
	assert_int_equal(dec.write_len, sh->write_len);
	assert_int_equal(dec.write_overrun, sh->write_overrun);
	if (write_end)
		assert_memory_equal(dec.write, expect, write_end);
	for (size_t i = write_end; i < ubw_write_read_fds_offset(&b); i++)
		assert_int_equal(body[i], 0);
	assert_int_equal(dec.nfds, sh->nfds);
	for (size_t i = 0; i < sh->nfds; i++)
		assert_int_equal(dec.sender_fds[i], fds[i]);
	for (size_t i = sh->nfds * sizeof(int32_t); i < UBW_ALIGN_UP(sh->nfds * sizeof(int32_t));
	     i++)
		assert_int_equal(((const uint8_t *)dec.sender_fds)[i], 0);
	assert_int_equal(dec.nsegments, sh->nsegs);

	assert_int_equal(ubw_decode_segments(&hdr, body, dsegs, MAX_SEGS), (int)sh->nsegs);
	for (size_t i = 0; i < sh->nsegs; i++) {
		uint64_t len = sh->seg_len[i];

		assert_int_equal(dsegs[i].addr, seg_addr[i]);
		assert_int_equal(dsegs[i].length, len);
		if (len)
			assert_memory_equal(dsegs[i].bytes, segs + seg_at[i], len);
		for (uint64_t k = len; k < UBW_ALIGN_UP(len); k++)
			assert_int_equal(dsegs[i].bytes[k], 0);
	}
	free(expect);
	free(body);
	free(segs);
	free(fds);
}

static void test_small_shapes(void **state)
{
	static const uint32_t overruns[] = { 0, 1, 4, UBW_MAX_OVERRUN };
	static const uint64_t lens[] = { 0, 1, 7, 8, 9 };
	const size_t nlens = sizeof(lens) / sizeof(lens[0]);
	struct shape sh;
	size_t count = 0;

	(void)state;
	for (uint32_t w = 0; w <= 17; w++)
		for (size_t o = 0; o < sizeof(overruns) / sizeof(overruns[0]); o++)
			for (size_t nfds = 0; nfds <= 3; nfds++)
				for (size_t nsegs = 0; nsegs <= 3; nsegs++) {
					size_t combos = 1;

					for (size_t i = 0; i < nsegs; i++)
						combos *= nlens;
					for (size_t c = 0; c < combos; c++) {
						size_t k = c;

						memset(&sh, 0, sizeof(sh));
						sh.write_len = w;
						sh.write_overrun = overruns[o];
						sh.nfds = nfds;
						sh.nsegs = nsegs;
						for (size_t i = 0; i < nsegs; i++, k /= nlens)
							sh.seg_len[i] = lens[k % nlens];
						round_trip(&sh);
						count++;
					}
				}
	assert_int_equal(count, 18 * 4 * 4 * (1 + 5 + 25 + 125));
}

static void test_random_shapes(void **state)
{
	struct shape sh;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		memset(&sh, 0, sizeof(sh));
		sh.write_len = next_rand() % (round % 10 ? 600 : 70000);
		sh.write_overrun = next_rand() % (UBW_MAX_OVERRUN + 1);
		sh.nfds = next_rand() % (UBW_MAX_FDS + 1);
		sh.nsegs = next_rand() % (MAX_SEGS + 1);
		for (size_t i = 0; i < sh.nsegs; i++)
			sh.seg_len[i] = next_rand() % (round % 7 ? 300 : 70000);
		round_trip(&sh);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_shapes),
		cmocka_unit_test(test_random_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
