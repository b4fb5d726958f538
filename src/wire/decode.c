/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "wire/decode.h"

/* Offset of the first segment: after the write section and the fd numbers. */
static int segments_start(const struct ubw_write_read *hdr, size_t nfds, uint64_t *start)
{
	uint64_t size = hdr->body_size;
	uint64_t off;

	if (hdr->write_overrun > UBW_MAX_OVERRUN || hdr->nfds != nfds || nfds > UBW_MAX_FDS)
		return -EPROTO;
	off = UBW_ALIGN_UP((uint64_t)hdr->write_len + hdr->write_overrun);
	if (off > size)
		return -EPROTO;
	if ((uint64_t)nfds * sizeof(int32_t) > size - off)
		return -EPROTO;
	off += UBW_ALIGN_UP((uint64_t)nfds * sizeof(int32_t));
	if (off > size)
		return -EPROTO;
	/* Each segment has at least its header in the body: a count the body
	 * cannot hold is a lie, refused before anyone sizes memory by it. */
	if (hdr->nsegments > (size - off) / sizeof(struct ubw_segment))
		return -EPROTO;
	*start = off;
	return 0;
}

int ubw_decode_write_read(const struct ubw_write_read *hdr, const uint8_t *body, size_t nfds,
			  struct ubw_decoded_write_read *out)
{
	uint64_t start;
	int err = segments_start(hdr, nfds, &start);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->write = body;
	out->write_len = hdr->write_len;
	out->write_overrun = hdr->write_overrun;
	out->sender_fds = (const int32_t *)(body + UBW_ALIGN_UP((uint64_t)hdr->write_len +
								hdr->write_overrun));
	out->nfds = nfds;
	out->nsegments = hdr->nsegments;
	return 0;
}

int ubw_decode_segments(const struct ubw_write_read *hdr, const uint8_t *body,
			struct mem_segment *segs, size_t max)
{
	uint64_t size = hdr->body_size, off;
	int err = segments_start(hdr, hdr->nfds, &off);

	if (err)
		return err;
	if (hdr->nsegments > max)
		return -EPROTO;
	for (uint32_t i = 0; i < hdr->nsegments; i++) {
		struct ubw_segment seg;

		if (size - off < sizeof(seg))
			return -EPROTO;
		memcpy(&seg, body + off, sizeof(seg));
		off += sizeof(seg);
		if (seg.length > size - off)
			return -EPROTO;
		segs[i].addr = seg.addr;
		segs[i].length = seg.length;
		segs[i].bytes = body + off;
		off += UBW_ALIGN_UP(seg.length);
		if (off > size)
			off = size; /* the last segment's padding may be missing */
	}
	return (int)hdr->nsegments;
}
