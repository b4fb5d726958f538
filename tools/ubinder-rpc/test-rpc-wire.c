/* SPDX-License-Identifier: MIT */
/*
 * The RPC Binder codec: the exact bytes of each structure we encode (sizes
 * and offsets of RpcWireFormat.h), round trips, and the refusal of every
 * malformed input a peer can send: truncated, lying sizes, oversize, bad
 * object tables, bad tokens.
 */
#include <string.h>

#include "rpc_wire.h"
#include "test-util.h"

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void test_connection_setup(void **state)
{
	struct rpc_connection_header h = { .version = 1,
					   .options = RPC_CONNECTION_OPTION_INCOMING,
					   .fd_mode = RPC_FD_MODE_UNIX,
					   .session_id_size = RPC_SESSION_ID_SIZE };
	struct rpc_connection_header got;
	uint8_t b[RPC_CONNECTION_HEADER_SIZE];
	uint8_t init[RPC_CONNECTION_INIT_SIZE];
	uint32_t version;

	(void)state;
	rpc_encode_connection_header(b, &h);
	assert_memory_equal(b, "\1\0\0\0\1\1\0\0\0\0\0\0\0\0\x20\0", sizeof(b));
	assert_int_equal(rpc_decode_connection_header(b, sizeof(b), &got), RPC_WIRE_OK);
	assert_int_equal(got.version, 1);
	assert_int_equal(got.options, 1);
	assert_int_equal(got.fd_mode, 1);
	assert_int_equal(got.session_id_size, 32);
	assert_int_equal(rpc_decode_connection_header(b, sizeof(b) - 1, &got), RPC_WIRE_SHORT);
	b[14] = 31;
	assert_int_equal(rpc_decode_connection_header(b, sizeof(b), &got), RPC_WIRE_BAD_SESSION);

	rpc_encode_new_session_response(init, 1);
	assert_int_equal(rpc_decode_new_session_response(init, 8, &version), RPC_WIRE_OK);
	assert_int_equal(version, 1);
	assert_int_equal(rpc_decode_new_session_response(init, 7, &version), RPC_WIRE_SHORT);

	rpc_encode_connection_init(init);
	assert_memory_equal(init, "cci\0\0\0\0\0", 8);
	assert_true(rpc_is_connection_init(init, 8));
	assert_false(rpc_is_connection_init(init, 7));
	init[2] = 'x';
	assert_false(rpc_is_connection_init(init, 8));
}

static void test_wire_header(void **state)
{
	struct rpc_wire_header h;
	uint8_t b[RPC_WIRE_HEADER_SIZE];

	(void)state;
	rpc_encode_wire_header(b, RPC_COMMAND_REPLY, 77);
	assert_int_equal(rpc_decode_wire_header(b, sizeof(b), &h), RPC_WIRE_OK);
	assert_int_equal(h.command, RPC_COMMAND_REPLY);
	assert_int_equal(h.body_size, 77);
	assert_int_equal(rpc_decode_wire_header(b, 15, &h), RPC_WIRE_SHORT);
	put32(b, 3);
	assert_int_equal(rpc_decode_wire_header(b, sizeof(b), &h), RPC_WIRE_BAD_COMMAND);
	put32(b, RPC_COMMAND_TRANSACT);
	put32(b + 4, RPC_MAX_BODY_SIZE + 1);
	assert_int_equal(rpc_decode_wire_header(b, sizeof(b), &h), RPC_WIRE_TOO_BIG);
	put32(b + 4, 0xffffffff);
	assert_int_equal(rpc_decode_wire_header(b, sizeof(b), &h), RPC_WIRE_TOO_BIG);
}

/* A transaction frame with 16 bytes of data and an fd object at 8. */
static size_t build_transaction(uint8_t *frame)
{
	struct rpc_transaction t = { .address = 0x100000003ull,
				     .code = 7,
				     .flags = RPC_FLAG_ONEWAY,
				     .async_number = 5,
				     .parcel = { .data_size = 16, .object_count = 1 } };
	int head = rpc_encode_transaction_head(frame, &t);

	assert_int_equal(head, RPC_WIRE_HEADER_SIZE + RPC_TRANSACTION_SIZE);
	memset(frame + head, 0xab, 16);
	put32(frame + head + 8, RPC_OBJECT_FD);
	put32(frame + head + 12, 0);
	put32(frame + head + 16, 8);
	return (size_t)head + 20;
}

static void test_transaction(void **state)
{
	uint8_t frame[128];
	size_t n = build_transaction(frame);
	const uint8_t *body = frame + RPC_WIRE_HEADER_SIZE;
	struct rpc_wire_header h;
	struct rpc_transaction t;

	(void)state;
	assert_int_equal(rpc_decode_wire_header(frame, n, &h), RPC_WIRE_OK);
	assert_int_equal(h.command, RPC_COMMAND_TRANSACT);
	assert_int_equal(h.body_size, n - RPC_WIRE_HEADER_SIZE);
	assert_int_equal(rpc_decode_transaction(body, h.body_size, &t), RPC_WIRE_OK);
	assert_true(t.address == 0x100000003ull);
	assert_int_equal(t.code, 7);
	assert_int_equal(t.flags, RPC_FLAG_ONEWAY);
	assert_true(t.async_number == 5);
	assert_int_equal(t.parcel.data_size, 16);
	assert_ptr_equal(t.parcel.data, body + RPC_TRANSACTION_SIZE);
	assert_int_equal(t.parcel.object_count, 1);
	assert_int_equal(rpc_object_position(&t.parcel, 0), 8);

	/* every truncation of the body is refused, but the one that cuts the
	 * whole object table off: the table is what follows the data */
	for (size_t len = 0; len < h.body_size; len++) {
		int err = rpc_decode_transaction(body, len, &t);

		if (len == RPC_TRANSACTION_SIZE + 16) {
			assert_int_equal(err, RPC_WIRE_OK);
			assert_int_equal(t.parcel.object_count, 0);
		} else {
			assert_int_not_equal(err, RPC_WIRE_OK);
		}
	}
}

static void test_transaction_lies(void **state)
{
	uint8_t frame[128];
	size_t n = build_transaction(frame);
	uint8_t *body = frame + RPC_WIRE_HEADER_SIZE;
	size_t len = n - RPC_WIRE_HEADER_SIZE;
	struct rpc_transaction t;

	(void)state;
	put32(body + 24, 21); /* data size past the body */
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_SIZE);
	put32(body + 24, 0xffffffff);
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_SIZE);
	put32(body + 24, 15); /* object table of 5 bytes */
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_SIZE);
	put32(body + 24, 16);
	put32(body + RPC_TRANSACTION_SIZE + 16, 9); /* unaligned */
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_OBJECT);
	put32(body + RPC_TRANSACTION_SIZE + 16, 12); /* object runs past the data */
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_OBJECT);
	put32(body + RPC_TRANSACTION_SIZE + 16, 0xfffffffc);
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_OBJECT);

	/* two objects: overlapping or out of order is refused */
	put32(body + 24, 12);
	put32(body + RPC_TRANSACTION_SIZE + 12, 4);
	put32(body + RPC_TRANSACTION_SIZE + 16, 0);
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_OBJECT);
	put32(body + RPC_TRANSACTION_SIZE + 12, 0);
	put32(body + RPC_TRANSACTION_SIZE + 16, 4);
	assert_int_equal(rpc_decode_transaction(body, len, &t), RPC_WIRE_BAD_OBJECT);
}

static void test_object_count_bound(void **state)
{
	static uint8_t
		body[RPC_TRANSACTION_SIZE + 8 * (RPC_MAX_OBJECTS + 1) + 4 * (RPC_MAX_OBJECTS + 1)];
	uint32_t data = 8 * (RPC_MAX_OBJECTS + 1);
	struct rpc_transaction t;

	(void)state;
	memset(body, 0, sizeof(body));
	put32(body + 24, data);
	for (uint32_t i = 0; i <= RPC_MAX_OBJECTS; i++)
		put32(body + RPC_TRANSACTION_SIZE + data + i * 4, i * 8);
	assert_int_equal(rpc_decode_transaction(body, sizeof(body), &t), RPC_WIRE_TOO_BIG);
	assert_int_equal(rpc_decode_transaction(body, sizeof(body) - 4, &t), RPC_WIRE_OK);
	assert_int_equal(t.parcel.object_count, RPC_MAX_OBJECTS);

	t.parcel.object_count = RPC_MAX_OBJECTS + 1;
	assert_int_equal(rpc_encode_transaction_head(body, &t), RPC_WIRE_TOO_BIG);
	t.parcel.object_count = 0;
	t.parcel.data_size = RPC_MAX_BODY_SIZE;
	assert_int_equal(rpc_encode_transaction_head(body, &t), RPC_WIRE_TOO_BIG);
}

static void test_reply_and_dec_strong(void **state)
{
	uint8_t frame[64];
	struct rpc_dec_strong d = { .address = 0x700000001ull, .amount = 2 };
	struct rpc_wire_header h;
	struct rpc_reply r;
	int head;

	(void)state;
	head = rpc_encode_reply_head(frame, -74, 4, 0);
	assert_int_equal(head, RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE);
	put32(frame + head, 42);
	assert_int_equal(rpc_decode_wire_header(frame, 16, &h), RPC_WIRE_OK);
	assert_int_equal(h.body_size, RPC_REPLY_SIZE + 4);
	assert_int_equal(rpc_decode_reply(frame + 16, h.body_size, &r), RPC_WIRE_OK);
	assert_int_equal(r.status, -74);
	assert_int_equal(r.parcel.data_size, 4);
	assert_int_equal(r.parcel.object_count, 0);
	assert_int_equal(rpc_decode_reply(frame + 16, RPC_REPLY_SIZE - 1, &r), RPC_WIRE_SHORT);
	assert_int_equal(rpc_decode_reply(frame + 16, h.body_size + 1, &r), RPC_WIRE_BAD_SIZE);

	rpc_encode_dec_strong(frame, &d);
	assert_int_equal(rpc_decode_wire_header(frame, 16, &h), RPC_WIRE_OK);
	assert_int_equal(h.command, RPC_COMMAND_DEC_STRONG);
	assert_int_equal(h.body_size, RPC_DEC_STRONG_SIZE);
	memset(&d, 0, sizeof(d));
	assert_int_equal(rpc_decode_dec_strong(frame + 16, 16, &d), RPC_WIRE_OK);
	assert_true(d.address == 0x700000001ull);
	assert_int_equal(d.amount, 2);
	assert_int_equal(rpc_decode_dec_strong(frame + 16, 15, &d), RPC_WIRE_SHORT);
	assert_int_equal(rpc_decode_dec_strong(frame + 16, 17, &d), RPC_WIRE_BAD_SIZE);
}

/* "a.IB" as String16: length 4, 4 units, NUL, padding. */
static const uint32_t rpc_token[] = { 4, 0x002e0061, 0x00420049, 0 };
static const uint32_t kernel_token[] = { 0x80000000, 0xffffffff, 0x53595354, 4,
					 0x002e0061, 0x00420049, 0 };

static void test_token_translation(void **state)
{
	uint8_t out[64];

	(void)state;
	assert_int_equal(rpc_token_kernel_to_rpc((const uint8_t *)kernel_token,
						 sizeof(kernel_token), out, sizeof(out)),
			 sizeof(kernel_token));
	assert_memory_equal(out, rpc_token, sizeof(rpc_token));
	assert_int_equal(rpc_token_rpc_to_kernel((const uint8_t *)rpc_token, sizeof(rpc_token), out,
						 sizeof(out)),
			 sizeof(rpc_token));
	assert_memory_equal(out, kernel_token, sizeof(kernel_token));

	/* the output must fit */
	assert_int_equal(rpc_token_rpc_to_kernel((const uint8_t *)rpc_token, sizeof(rpc_token), out,
						 sizeof(kernel_token) - 1),
			 RPC_WIRE_TOO_BIG);
	assert_int_equal(rpc_token_kernel_to_rpc((const uint8_t *)kernel_token,
						 sizeof(kernel_token), out, sizeof(rpc_token) - 1),
			 RPC_WIRE_TOO_BIG);
}

static void test_token_refusals(void **state)
{
	uint32_t w[8];
	uint8_t out[64];

	(void)state;
	for (size_t len = 0; len < sizeof(kernel_token); len++)
		assert_int_equal(rpc_token_kernel_to_rpc((const uint8_t *)kernel_token, len, out,
							 sizeof(out)),
				 RPC_WIRE_SHORT);
	memcpy(w, kernel_token, sizeof(kernel_token));
	w[2] = 0x56444e52; /* 'VNDR' is another partition's header */
	assert_int_equal(
		rpc_token_kernel_to_rpc((const uint8_t *)w, sizeof(kernel_token), out, sizeof(out)),
		RPC_WIRE_BAD_TOKEN);
	memcpy(w, rpc_token, sizeof(rpc_token));
	w[0] = 0xffffffff; /* null string */
	assert_int_equal(
		rpc_token_rpc_to_kernel((const uint8_t *)w, sizeof(rpc_token), out, sizeof(out)),
		RPC_WIRE_BAD_TOKEN);
	w[0] = 6; /* lying length: past the bytes */
	assert_int_equal(
		rpc_token_rpc_to_kernel((const uint8_t *)w, sizeof(rpc_token), out, sizeof(out)),
		RPC_WIRE_SHORT);
	w[0] = 3; /* no NUL after the units */
	assert_int_equal(
		rpc_token_rpc_to_kernel((const uint8_t *)w, sizeof(rpc_token), out, sizeof(out)),
		RPC_WIRE_BAD_TOKEN);
	for (size_t len = 0; len < sizeof(rpc_token); len++)
		assert_int_equal(
			rpc_token_rpc_to_kernel((const uint8_t *)rpc_token, len, out, sizeof(out)),
			RPC_WIRE_SHORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connection_setup),
		cmocka_unit_test(test_wire_header),
		cmocka_unit_test(test_transaction),
		cmocka_unit_test(test_transaction_lies),
		cmocka_unit_test(test_object_count_bound),
		cmocka_unit_test(test_reply_and_dec_strong),
		cmocka_unit_test(test_token_translation),
		cmocka_unit_test(test_token_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
