/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the RPC Binder decoder (tools/ubinder-rpc/rpc_wire.c),
 * fed a byte stream as a hostile RPC peer would send it: a connection
 * header, then frames. Every view a decoder returns is read in full, so a
 * view outside the input shows up under ASan; every object position must
 * lie inside its parcel; what decodes is encoded again and must decode to
 * the same values. Interface tokens are translated both ways and back.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink ^= p[i];
}

static void check_parcel(const struct rpc_parcel_view *p)
{
	touch(p->data, p->data_size);
	touch(p->objects, (size_t)p->object_count * 4);
	if (p->object_count > RPC_MAX_OBJECTS)
		abort();
	for (uint32_t i = 0; i < p->object_count; i++) {
		uint32_t pos = rpc_object_position(p, i);

		if (pos > p->data_size || p->data_size - pos < 8)
			abort();
		touch(p->data + pos, 8);
	}
}

static void check_transaction(const uint8_t *body, size_t len)
{
	uint8_t head[RPC_WIRE_HEADER_SIZE + RPC_TRANSACTION_SIZE];
	struct rpc_transaction t, t2;
	uint8_t *copy;

	if (rpc_decode_transaction(body, len, &t) != RPC_WIRE_OK)
		return;
	check_parcel(&t.parcel);
	if (rpc_encode_transaction_head(head, &t) != (int)sizeof(head))
		abort();
	/* the head re-encoded, followed by the same parcel, decodes the same */
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, head + RPC_WIRE_HEADER_SIZE, RPC_TRANSACTION_SIZE);
	memcpy(copy + RPC_TRANSACTION_SIZE, body + RPC_TRANSACTION_SIZE,
	       len - RPC_TRANSACTION_SIZE);
	if (rpc_decode_transaction(copy, len, &t2) != RPC_WIRE_OK || t2.address != t.address ||
	    t2.code != t.code || t2.flags != t.flags || t2.async_number != t.async_number ||
	    t2.parcel.data_size != t.parcel.data_size ||
	    t2.parcel.object_count != t.parcel.object_count)
		abort();
	free(copy);
}

static void check_reply(const uint8_t *body, size_t len)
{
	uint8_t head[RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE];
	struct rpc_reply r;

	if (rpc_decode_reply(body, len, &r) != RPC_WIRE_OK)
		return;
	check_parcel(&r.parcel);
	if (rpc_encode_reply_head(head, r.status, r.parcel.data_size, r.parcel.object_count) !=
	    (int)sizeof(head))
		abort();
}

static void check_dec_strong(const uint8_t *body, size_t len)
{
	uint8_t frame[RPC_WIRE_HEADER_SIZE + RPC_DEC_STRONG_SIZE];
	struct rpc_dec_strong d, d2;

	if (rpc_decode_dec_strong(body, len, &d) != RPC_WIRE_OK)
		return;
	rpc_encode_dec_strong(frame, &d);
	if (rpc_decode_dec_strong(frame + RPC_WIRE_HEADER_SIZE, RPC_DEC_STRONG_SIZE, &d2) !=
		    RPC_WIRE_OK ||
	    d2.address != d.address || d2.amount != d.amount)
		abort();
}

/* Tokens both ways: a kernel token made RPC and back is the kernel form
 * libbinder writes; an RPC token made kernel and back is unchanged. */
static void check_tokens(const uint8_t *data, size_t size)
{
	static uint8_t a[4096 + RPC_TOKEN_KERNEL_EXTRA], b[sizeof(a)];
	int n = rpc_token_rpc_to_kernel(data, size, a, sizeof(a));

	if (n > 0) {
		if ((size_t)n > size)
			abort();
		if (rpc_token_kernel_to_rpc(a, (size_t)n + RPC_TOKEN_KERNEL_EXTRA, b, sizeof(b)) !=
			    n + (int)RPC_TOKEN_KERNEL_EXTRA ||
		    memcmp(b, data, (size_t)n) != 0)
			abort();
	}
	n = rpc_token_kernel_to_rpc(data, size, a, sizeof(a));
	if (n > 0 && ((size_t)n > size || n < (int)RPC_TOKEN_KERNEL_EXTRA))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_connection_header ch;
	size_t at;

	check_tokens(data, size);
	if (rpc_decode_connection_header(data, size, &ch) != RPC_WIRE_OK)
		return 0;
	at = RPC_CONNECTION_HEADER_SIZE + ch.session_id_size;
	while (at <= size && size - at >= RPC_WIRE_HEADER_SIZE) {
		struct rpc_wire_header h;
		const uint8_t *body;

		if (rpc_decode_wire_header(data + at, size - at, &h) != RPC_WIRE_OK)
			return 0;
		at += RPC_WIRE_HEADER_SIZE;
		if (h.body_size > size - at)
			return 0; /* the peer dropped the connection mid-frame */
		body = data + at;
		switch (h.command) {
		case RPC_COMMAND_TRANSACT:
			check_transaction(body, h.body_size);
			break;
		case RPC_COMMAND_REPLY:
			check_reply(body, h.body_size);
			break;
		case RPC_COMMAND_DEC_STRONG:
			check_dec_strong(body, h.body_size);
			break;
		default:
			abort(); /* the header decoder lets only known commands through */
		}
		at += h.body_size;
	}
	return 0;
}
