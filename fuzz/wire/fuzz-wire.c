/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: decoding of UBW_WRITE_READ bodies (src/wire/decode.c),
 * the first thing the daemon does with a client's bytes. Every section the
 * decoder returns is read in full, so an out-of-bounds result shows up under
 * ASan, and a count the body cannot hold (which a caller would size memory
 * by) aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink ^= p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ubw_decoded_segment segs[64];
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
		n = ubw_decode_segments(&hdr, body, segs, sizeof(segs) / sizeof(segs[0]));
		for (int i = 0; i < n; i++)
			touch(segs[i].bytes, segs[i].length);
	}
	free(body);
	return 0;
}
