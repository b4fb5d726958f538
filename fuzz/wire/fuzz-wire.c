/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: decoding of UBW_WRITE_READ bodies (src/wire/decode.c),
 * the first thing the daemon does with a client's bytes. Every section the
 * decoder returns is read in full, so an out-of-bounds result shows up under
 * ASan, and a count the body cannot hold (which a caller would size memory
 * by) aborts. What decodes is encoded again (src/wire/encode.c), and that
 * must decode to the same sections.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/decode.h"
#include "wire/encode.h"

#define MAX_SEGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink ^= p[i];
}

/* Encodes what was decoded and checks that it decodes to the same. */
static void round_trip(const struct ubw_decoded_write_read *dec, const struct mem_segment *segs,
		       size_t nsegs)
{
	struct mem_segment segs2[MAX_SEGS];
	struct ubw_write_read_body b = { .write_len = (uint32_t)dec->write_len,
					 .write_overrun = (uint32_t)dec->write_overrun,
					 .fds = dec->sender_fds,
					 .nfds = dec->nfds,
					 .nsegments = (uint32_t)nsegs };
	struct ubw_decoded_write_read dec2;
	struct ubw_write_read hdr2 = { .hdr = { UBW_WRITE_READ, 0 } };
	size_t write_end = dec->write_len + dec->write_overrun, at = 0;
	uint8_t *list, *body;

	for (size_t i = 0; i < nsegs; i++)
		b.segments_len += ubw_segment_size(segs[i].length);
	list = malloc(b.segments_len + 1);
	body = malloc(ubw_write_read_body_size(&b) + 1);
	if (!list || !body)
		abort();
	for (size_t i = 0; i < nsegs; i++) {
		ubw_encode_segment(list + at, segs[i].addr, segs[i].length);
		memcpy(list + at + sizeof(struct ubw_segment), segs[i].bytes, segs[i].length);
		at += ubw_segment_size(segs[i].length);
	}
	b.segments = list;
	memcpy(body, dec->write, write_end);
	ubw_encode_write_read(&hdr2, body, &b);
	if (ubw_decode_write_read(&hdr2, body, dec->nfds, &dec2) != 0 ||
	    dec2.write_len != dec->write_len || dec2.write_overrun != dec->write_overrun ||
	    memcmp(dec2.write, dec->write, write_end) != 0 || dec2.nfds != dec->nfds ||
	    memcmp(dec2.sender_fds, dec->sender_fds, dec->nfds * sizeof(int32_t)) != 0 ||
	    ubw_decode_segments(&hdr2, body, segs2, MAX_SEGS) != (int)nsegs)
		abort();
	for (size_t i = 0; i < nsegs; i++) {
		if (segs2[i].addr != segs[i].addr || segs2[i].length != segs[i].length ||
		    memcmp(segs2[i].bytes, segs[i].bytes, segs[i].length) != 0)
			abort();
	}
	free(body);
	free(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_segment segs[MAX_SEGS];
	struct ubw_decoded_write_read dec;
	struct ubw_write_read hdr;
	uint8_t *body;
	size_t nfds;
	int n;

	if (size < sizeof(hdr) + 1)
		return 0;
	memcpy(&hdr, data, sizeof(hdr));
	nfds = data[sizeof(hdr)] % 4;
	data += sizeof(hdr) + 1;
	size -= sizeof(hdr) + 1;
	/* The daemon hands the decoder exactly body_size bytes, 8-byte aligned. */
	hdr.body_size = size;
	body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	if (ubw_decode_write_read(&hdr, body, nfds, &dec) == 0) {
		if (dec.nsegments * sizeof(struct ubw_segment) > size ||
		    dec.nfds * sizeof(int32_t) > size)
			abort();
		touch(dec.write, dec.write_len + dec.write_overrun);
		touch((const uint8_t *)dec.sender_fds, dec.nfds * sizeof(int32_t));
		n = ubw_decode_segments(&hdr, body, segs, MAX_SEGS);
		for (int i = 0; i < n; i++)
			touch(segs[i].bytes, segs[i].length);
		if (n >= 0)
			round_trip(&dec, segs, (size_t)n);
	}
	free(body);
	return 0;
}
