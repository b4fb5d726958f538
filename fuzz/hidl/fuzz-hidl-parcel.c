/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: HIDL reads of a delivered parcel (lib/parcel_sg.c,
 * lib/hidl_parcel.c), what a HIDL service or the hwservicemanager does with
 * a peer's bytes.
 *
 * Input: one byte of offset count n (mod 9), n 16-bit offsets, one byte of
 * reader choices, then the region: the parcel's data (its first 16-bit word
 * says how much of the region is data) and whatever follows. The 64-bit
 * buffer field of every recorded PTR object is taken as an offset in the
 * region and made an address there, as the driver would; everything else
 * (lengths, parents, offsets, the buffers' bytes) is the fuzzer's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/android/binder.h>

#include "internal.h"
#include "parcel_impl.h"
#include "ubinder/hidl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch(const void *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		sink ^= ((const uint8_t *)p)[i];
}

static void read_one(ubinder_parcel *p, unsigned int which, unsigned int arg)
{
	struct ubinder_hidl_native_handle h;
	const void *buf;
	const char *s;
	char **strs;
	size_t len, handle;

	switch (which % 8) {
	case 0:
		if (ubinder_hidl_read_interface_token(p, &s) == 0)
			touch(s, strlen(s));
		break;
	case 1:
		if (ubinder_hidl_read_string(p, &s, &len) == 0)
			touch(s, len + 1);
		break;
	case 2:
		if (ubinder_hidl_read_string_vec(p, &strs, &len) == 0)
			ubinder_hidl_free_strings(strs);
		break;
	case 3:
		if (ubinder_hidl_read_native_handle(p, &h) == 0 && !h.null) {
			touch(h.fds, h.nfds * sizeof(int));
			touch(h.ints, h.nints * sizeof(int32_t));
		}
		break;
	case 4:
		if (ubinder_parcel_read_buffer(p, arg % 80, &handle, &buf) == 0)
			touch(buf, arg % 80);
		break;
	case 5:
		if (ubinder_hidl_read_embedded_string(p, arg % 8, arg / 8 % 64, &s, &len) == 0)
			touch(s, len + 1);
		break;
	case 6:
		if (ubinder_hidl_read_vec(p, 1 + arg % 16, &buf, &len, &handle) == 0)
			touch(buf, len * (1 + arg % 16));
		break;
	default:
		(void)ubinder_hidl_read_status(p, NULL);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t offsets[8];
	uint8_t *region;
	size_t n, dsize, rsize;
	uint16_t w;
	ubinder_parcel *p;
	uint8_t choices;

	if (size < 2)
		return 0;
	n = data[0] % 9;
	if (size < 1 + 2 * n + 1 + 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(&w, data + 1 + 2 * i, 2);
		offsets[i] = w;
	}
	choices = data[1 + 2 * n];
	data += 2 + 2 * n;
	size -= 2 + 2 * n;
	rsize = size;
	region = aligned_alloc(8, (rsize + 7) & ~(size_t)7);
	if (!region)
		return 0;
	memcpy(region, data, rsize);
	memcpy(&w, region, 2);
	dsize = rsize ? w % (rsize + 1) : 0;
	/* Recorded PTR objects point into the region, as delivered. */
	for (size_t i = 0; i < n; i++) {
		struct binder_buffer_object b;

		if (offsets[i] + sizeof(b) > dsize)
			continue;
		memcpy(&b, region + offsets[i], sizeof(b));
		if (b.hdr.type != BINDER_TYPE_PTR)
			continue;
		b.buffer = (uintptr_t)region + b.buffer % (rsize + 1);
		memcpy(region + offsets[i], &b, sizeof(b));
	}
	p = parcel_new_received(region, dsize, offsets, n, NULL);
	if (p) {
		parcel_set_sg_bounds(p, region, rsize);
		for (unsigned int k = 0; k < 12; k++)
			read_one(p, (choices >> (k % 8)) + k, (unsigned int)(k * 37 + choices));
		ubinder_parcel_free(p);
	}
	free(region);
	return 0;
}
