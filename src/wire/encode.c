/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "wire/encode.h"

void ubw_encode_segment(uint8_t *dst, uint64_t addr, uint64_t length)
{
	struct ubw_segment seg = { addr, length };

	memcpy(dst, &seg, sizeof(seg));
	memset(dst + sizeof(seg) + length, 0, UBW_ALIGN_UP(length) - length);
}

void ubw_encode_write_read(struct ubw_write_read *hdr, uint8_t *body,
			   const struct ubw_write_read_body *b)
{
	size_t write_end = (size_t)b->write_len + b->write_overrun;
	size_t at = (size_t)ubw_write_read_fds_offset(b);
	size_t fds_len = b->nfds * sizeof(int32_t);

	memset(body + write_end, 0, at - write_end);
	if (fds_len)
		memcpy(body + at, b->fds, fds_len);
	memset(body + at + fds_len, 0, UBW_ALIGN_UP(fds_len) - fds_len);
	at += UBW_ALIGN_UP(fds_len);
	if (b->segments_len)
		memcpy(body + at, b->segments, b->segments_len);
	hdr->write_len = b->write_len;
	hdr->write_overrun = b->write_overrun;
	hdr->body_size = at + b->segments_len;
	hdr->nfds = (uint32_t)b->nfds;
	hdr->nsegments = b->nsegments;
}
