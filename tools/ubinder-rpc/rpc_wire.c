/* SPDX-License-Identifier: MIT */
/*
 * RPC Binder wire codec. Invariant: a decoder reads only inside the buffer
 * it is given and returns RPC_WIRE_OK only when every size in the structure
 * is consistent with that buffer and within our bounds; the views it fills
 * then point inside the buffer.
 */
#include <string.h>
#include <endian.h>

#include "rpc_wire.h"

#define RPC_CONNECTION_INIT_MSG	       "cci"
/* Parcel.cpp's kHeader for system code, B_PACK_CHARS('S','Y','S','T'). */
#define KERNEL_TOKEN_HEADER	       0x53595354u
/* The strict-mode word a kernel-form token starts with: no policy, but
 * STRICT_MODE_PENALTY_GATHER set, as libbinder writes it. */
#define KERNEL_TOKEN_STRICT_MODE       0x80000000u
/* IPCThreadState::kUnsetWorkSource */
#define KERNEL_TOKEN_UNSET_WORK_SOURCE 0xffffffffu
/* The longest interface name we take (UTF-16 units). */
#define TOKEN_MAX_UNITS		       1024u

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

const char *rpc_wire_strerror(int err)
{
	switch (err) {
	case RPC_WIRE_OK:
		return "ok";
	case RPC_WIRE_SHORT:
		return "truncated structure";
	case RPC_WIRE_BAD_COMMAND:
		return "unknown command";
	case RPC_WIRE_TOO_BIG:
		return "size over the limit";
	case RPC_WIRE_BAD_SIZE:
		return "sizes do not add up";
	case RPC_WIRE_BAD_OBJECT:
		return "object position outside the parcel";
	case RPC_WIRE_BAD_SESSION:
		return "bad session id size";
	case RPC_WIRE_BAD_TOKEN:
		return "not an interface token";
	}
	return "unknown error";
}

int rpc_decode_connection_header(const uint8_t *buf, size_t len, struct rpc_connection_header *out)
{
	if (len < RPC_CONNECTION_HEADER_SIZE)
		return RPC_WIRE_SHORT;
	/* version 0..3, options 4, fd mode 5, reserved 6..13, id size 14..15 */
	out->version = get32(buf);
	out->options = buf[4];
	out->fd_mode = buf[5];
	out->session_id_size = (uint16_t)(buf[14] | buf[15] << 8);
	if (out->session_id_size != 0 && out->session_id_size != RPC_SESSION_ID_SIZE)
		return RPC_WIRE_BAD_SESSION;
	return RPC_WIRE_OK;
}

void rpc_encode_connection_header(uint8_t out[RPC_CONNECTION_HEADER_SIZE],
				  const struct rpc_connection_header *h)
{
	memset(out, 0, RPC_CONNECTION_HEADER_SIZE);
	put32(out, h->version);
	out[4] = h->options;
	out[5] = h->fd_mode;
	out[14] = (uint8_t)h->session_id_size;
	out[15] = (uint8_t)(h->session_id_size >> 8);
}

int rpc_decode_new_session_response(const uint8_t *buf, size_t len, uint32_t *version)
{
	if (len < RPC_NEW_SESSION_RESPONSE_SIZE)
		return RPC_WIRE_SHORT;
	*version = get32(buf);
	return RPC_WIRE_OK;
}

void rpc_encode_new_session_response(uint8_t out[RPC_NEW_SESSION_RESPONSE_SIZE], uint32_t version)
{
	memset(out, 0, RPC_NEW_SESSION_RESPONSE_SIZE);
	put32(out, version);
}

bool rpc_is_connection_init(const uint8_t *buf, size_t len)
{
	return len >= RPC_CONNECTION_INIT_SIZE &&
	       memcmp(buf, RPC_CONNECTION_INIT_MSG, sizeof(RPC_CONNECTION_INIT_MSG)) == 0;
}

void rpc_encode_connection_init(uint8_t out[RPC_CONNECTION_INIT_SIZE])
{
	memset(out, 0, RPC_CONNECTION_INIT_SIZE);
	memcpy(out, RPC_CONNECTION_INIT_MSG, sizeof(RPC_CONNECTION_INIT_MSG));
}

int rpc_decode_wire_header(const uint8_t *buf, size_t len, struct rpc_wire_header *out)
{
	if (len < RPC_WIRE_HEADER_SIZE)
		return RPC_WIRE_SHORT;
	out->command = get32(buf);
	out->body_size = get32(buf + 4);
	if (out->command > RPC_COMMAND_DEC_STRONG)
		return RPC_WIRE_BAD_COMMAND;
	if (out->body_size > RPC_MAX_BODY_SIZE)
		return RPC_WIRE_TOO_BIG;
	return RPC_WIRE_OK;
}

void rpc_encode_wire_header(uint8_t out[RPC_WIRE_HEADER_SIZE], uint32_t command, uint32_t body_size)
{
	memset(out, 0, RPC_WIRE_HEADER_SIZE);
	put32(out, command);
	put32(out + 4, body_size);
}

/*
 * The parcel after a fixed head: @data_size bytes of data, then the object
 * table filling the rest of the body. Positions must be 4-aligned, strictly
 * increasing and leave room for an object (type word and index word) inside
 * the data, so that a reader may trust them as libbinder does.
 */
static int decode_parcel(const uint8_t *rest, size_t rest_len, uint32_t data_size,
			 struct rpc_parcel_view *out)
{
	size_t table_len;
	uint32_t prev_end = 0;

	if (data_size > rest_len)
		return RPC_WIRE_BAD_SIZE;
	table_len = rest_len - data_size;
	if (table_len % 4)
		return RPC_WIRE_BAD_SIZE;
	if (table_len / 4 > RPC_MAX_OBJECTS)
		return RPC_WIRE_TOO_BIG;
	out->data = rest;
	out->data_size = data_size;
	out->objects = rest + data_size;
	out->object_count = (uint32_t)(table_len / 4);
	for (uint32_t i = 0; i < out->object_count; i++) {
		uint32_t pos = rpc_object_position(out, i);

		if (pos % 4 || pos < prev_end || pos > data_size || data_size - pos < 8)
			return RPC_WIRE_BAD_OBJECT;
		prev_end = pos + 8;
	}
	return RPC_WIRE_OK;
}

uint32_t rpc_object_position(const struct rpc_parcel_view *p, uint32_t i)
{
	return get32(p->objects + (size_t)i * 4);
}

int rpc_decode_transaction(const uint8_t *body, size_t len, struct rpc_transaction *out)
{
	if (len < RPC_TRANSACTION_SIZE)
		return RPC_WIRE_SHORT;
	if (len > RPC_MAX_BODY_SIZE)
		return RPC_WIRE_TOO_BIG;
	/* address 0..7, code 8, flags 12, async 16..23, data size 24, reserved */
	out->address = get64(body);
	out->code = get32(body + 8);
	out->flags = get32(body + 12);
	out->async_number = get64(body + 16);
	return decode_parcel(body + RPC_TRANSACTION_SIZE, len - RPC_TRANSACTION_SIZE,
			     get32(body + 24), &out->parcel);
}

int rpc_decode_reply(const uint8_t *body, size_t len, struct rpc_reply *out)
{
	if (len < RPC_REPLY_SIZE)
		return RPC_WIRE_SHORT;
	if (len > RPC_MAX_BODY_SIZE)
		return RPC_WIRE_TOO_BIG;
	out->status = (int32_t)get32(body);
	return decode_parcel(body + RPC_REPLY_SIZE, len - RPC_REPLY_SIZE, get32(body + 4),
			     &out->parcel);
}

int rpc_decode_dec_strong(const uint8_t *body, size_t len, struct rpc_dec_strong *out)
{
	if (len < RPC_DEC_STRONG_SIZE)
		return RPC_WIRE_SHORT;
	if (len != RPC_DEC_STRONG_SIZE)
		return RPC_WIRE_BAD_SIZE;
	out->address = get64(body);
	out->amount = get32(body + 8);
	return RPC_WIRE_OK;
}

static int body_size(uint32_t head, uint32_t data_size, uint32_t object_count, uint32_t *out)
{
	if (object_count > RPC_MAX_OBJECTS || data_size > RPC_MAX_BODY_SIZE)
		return RPC_WIRE_TOO_BIG;
	*out = head + data_size + object_count * 4;
	return *out > RPC_MAX_BODY_SIZE ? RPC_WIRE_TOO_BIG : RPC_WIRE_OK;
}

int rpc_encode_transaction_head(uint8_t out[RPC_WIRE_HEADER_SIZE + RPC_TRANSACTION_SIZE],
				const struct rpc_transaction *t)
{
	uint8_t *b = out + RPC_WIRE_HEADER_SIZE;
	uint32_t size;
	int err =
		body_size(RPC_TRANSACTION_SIZE, t->parcel.data_size, t->parcel.object_count, &size);

	if (err)
		return err;
	rpc_encode_wire_header(out, RPC_COMMAND_TRANSACT, size);
	memset(b, 0, RPC_TRANSACTION_SIZE);
	put64(b, t->address);
	put32(b + 8, t->code);
	put32(b + 12, t->flags);
	put64(b + 16, t->async_number);
	put32(b + 24, t->parcel.data_size);
	return RPC_WIRE_HEADER_SIZE + RPC_TRANSACTION_SIZE;
}

int rpc_encode_reply_head(uint8_t out[RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE], int32_t status,
			  uint32_t data_size, uint32_t object_count)
{
	uint8_t *b = out + RPC_WIRE_HEADER_SIZE;
	uint32_t size;
	int err = body_size(RPC_REPLY_SIZE, data_size, object_count, &size);

	if (err)
		return err;
	rpc_encode_wire_header(out, RPC_COMMAND_REPLY, size);
	memset(b, 0, RPC_REPLY_SIZE);
	put32(b, (uint32_t)status);
	put32(b + 4, data_size);
	return RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE;
}

void rpc_encode_dec_strong(uint8_t out[RPC_WIRE_HEADER_SIZE + RPC_DEC_STRONG_SIZE],
			   const struct rpc_dec_strong *d)
{
	uint8_t *b = out + RPC_WIRE_HEADER_SIZE;

	rpc_encode_wire_header(out, RPC_COMMAND_DEC_STRONG, RPC_DEC_STRONG_SIZE);
	memset(b, 0, RPC_DEC_STRONG_SIZE);
	put64(b, d->address);
	put32(b + 8, d->amount);
}

/* The bytes a String16 (length word, units, NUL, padding to 4) takes at
 * the start of @in, or a negative rpc_wire_error. A null string is no name. */
static int string16_size(const uint8_t *in, size_t len)
{
	uint32_t units;
	size_t size;

	if (len < 4)
		return RPC_WIRE_SHORT;
	units = get32(in);
	if (units > TOKEN_MAX_UNITS)
		return RPC_WIRE_BAD_TOKEN;
	size = 4 + (((size_t)units + 1) * 2 + 3) / 4 * 4;
	if (size > len)
		return RPC_WIRE_SHORT;
	if (in[4 + units * 2] != 0 || in[4 + units * 2 + 1] != 0)
		return RPC_WIRE_BAD_TOKEN;
	return (int)size;
}

int rpc_token_kernel_to_rpc(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap)
{
	int name;

	if (len < RPC_TOKEN_KERNEL_EXTRA)
		return RPC_WIRE_SHORT;
	if (get32(in + 8) != KERNEL_TOKEN_HEADER)
		return RPC_WIRE_BAD_TOKEN;
	name = string16_size(in + RPC_TOKEN_KERNEL_EXTRA, len - RPC_TOKEN_KERNEL_EXTRA);
	if (name < 0)
		return name;
	if ((size_t)name > out_cap)
		return RPC_WIRE_TOO_BIG;
	memcpy(out, in + RPC_TOKEN_KERNEL_EXTRA, (size_t)name);
	return name + (int)RPC_TOKEN_KERNEL_EXTRA;
}

int rpc_token_rpc_to_kernel(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap)
{
	int name = string16_size(in, len);

	if (name < 0)
		return name;
	if ((size_t)name + RPC_TOKEN_KERNEL_EXTRA > out_cap)
		return RPC_WIRE_TOO_BIG;
	put32(out, KERNEL_TOKEN_STRICT_MODE);
	put32(out + 4, KERNEL_TOKEN_UNSET_WORK_SOURCE);
	put32(out + 8, KERNEL_TOKEN_HEADER);
	memcpy(out + RPC_TOKEN_KERNEL_EXTRA, in, (size_t)name);
	return name;
}
