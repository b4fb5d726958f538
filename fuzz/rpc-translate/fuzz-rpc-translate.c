/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: parcel translation by layout (tools/ubinder-rpc/
 * rpc_translate.c, rpc_layout.c), fed what a hostile RPC peer controls
 * (the RPC-form parcel) and what a layout file holds. Input: a code byte,
 * a flags byte (bit 0: a reply), layout text up to a NUL, then the RPC-form
 * parcel data. Each layout that parses is used; each parcel is translated
 * to kernel form and, when that succeeds, back, which must succeed: a
 * parcel whose binder fields were all null comes back as long (the maps
 * are fakes: every address arrives as a null binder, so only then is the
 * way back the same size; the bytes may differ in the stability words,
 * which the bridge writes afresh).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_translate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned arrivals;

static int fake_to(void *s, ubinder_binder *b, uint64_t *address)
{
	(void)s;
	(void)b;
	*address = 0x100000001ull;
	return 0;
}

static int fake_from(void *s, uint64_t address, const char *descriptor, ubinder_binder **out)
{
	(void)s;
	(void)descriptor;
	if (address & 1)
		return -22;
	arrivals++;
	*out = NULL;
	return 0;
}

static const struct rpc_objects fake = { NULL, fake_to, fake_from, false };
static const struct rpc_objects fake_fds = { NULL, fake_to, fake_from, true };
/* Descriptors "received" with the parcel (flags bit 1: descriptor mode). */
static int fds[4] = { -1, -1, -1, -1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_layouts *l;
	const uint8_t *nul;
	char *text;
	uint8_t *parcel;
	size_t text_size, parcel_size;

	if (size < 2)
		return 0;
	nul = memchr(data + 2, 0, size - 2);
	if (!nul)
		return 0;
	text_size = (size_t)(nul - (data + 2));
	parcel_size = size - 2 - text_size - 1;
	if (parcel_size > 65536)
		return 0;
	l = rpc_layouts_new();
	text = malloc(text_size + 1);
	parcel = malloc(parcel_size ? parcel_size : 1);
	if (!l || !text || !parcel)
		abort();
	memcpy(text, data + 2, text_size + 1);
	memcpy(parcel, nul + 1, parcel_size);
	rpc_layouts_parse(l, text);

	/* The object table: a count byte after the code and flags, positions
	 * as the codec would have checked them (sorted, aligned, inside). */
	struct rpc_parcel_view v = { .data = parcel, .data_size = (uint32_t)parcel_size };
	const struct rpc_objects *o = (data[1] & 2) ? &fake_fds : &fake;
	unsigned nfds = (data[1] & 2) ? 4 : 0;
	uint32_t table[4];

	if (fds[0] < 0) {
		for (int i = 0; i < 4; i++)
			fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	v.object_count = 0;
	for (uint32_t at = 0, i = 0; i < (uint32_t)(data[1] >> 2 & 3); i++) {
		at += 4 * (uint32_t)(data[1] >> 4 & 3) + 8 * i;
		if (at + 8 > parcel_size)
			break;
		table[v.object_count++] = at;
		at += 8;
	}
	v.objects = (const uint8_t *)table;
	struct rpc_parcel_kind kind = { .code = data[0], .reply = data[1] & 1 };
	ubinder_parcel *k = ubinder_parcel_new();

	arrivals = 0;
	if (k && rpc_parcel_to_kernel(l, &kind, &v, fds, nfds, o, k) == 0) {
		struct rpc_parcel_kind back = { .code = kind.code, .reply = kind.reply };
		struct rpc_buf out = { 0 };
		int err;

		if (kind.reply && kind.descriptor)
			abort(); /* only requests carry a descriptor */
		if (kind.reply)
			back.descriptor = NULL;
		err = rpc_parcel_to_rpc(l, &back, k, o, &out);
		if (err)
			abort(); /* what translated one way translates back */
		if (!arrivals && out.size != parcel_size)
			abort();
		if (out.size > parcel_size)
			abort(); /* RPC form is never longer: fakes give null binders */
		rpc_buf_free(&out);
		free(back.descriptor);
	}
	free(kind.descriptor);
	ubinder_parcel_free(k);
	free(parcel);
	free(text);
	rpc_layouts_free(l);
	return 0;
}
