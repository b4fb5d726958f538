/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "wire/ticket.h"

bool ubw_ticket_request(const struct ubw_write_read *h)
{
	return (h->flags & UBW_WR_TICKET) &&
	       (h->flags & ~(uint32_t)(UBW_WR_TICKET | UBW_WR_OFFER)) == 0 &&
	       h->write_size > h->write_consumed &&
	       h->write_len == h->write_size - h->write_consumed && h->write_overrun == 0 &&
	       h->nfds == 0 && h->read_consumed == 0 && h->read_size >= UBW_TICKET_MIN_READ;
}

bool ubw_ticket_write(const uint8_t *w, size_t len, uint32_t limit, uint64_t *data,
		      uint64_t *data_size)
{
	struct binder_transaction_data tr;
	size_t pos = 0;
	uint32_t cmd;

	for (;;) {
		if (len - pos < sizeof(cmd))
			return false;
		memcpy(&cmd, w + pos, sizeof(cmd));
		pos += sizeof(cmd);
		if (cmd != BC_FREE_BUFFER)
			break;
		if (len - pos < sizeof(binder_uintptr_t))
			return false;
		pos += sizeof(binder_uintptr_t);
	}
	if (cmd != BC_REPLY || len - pos != sizeof(tr))
		return false;
	memcpy(&tr, w + pos, sizeof(tr));
	if (tr.offsets_size != 0 || tr.data_size > limit)
		return false;
	*data = tr.data.ptr.buffer;
	*data_size = tr.data_size;
	return true;
}
