/* SPDX-License-Identifier: MIT */
/*
 * The wire format of Android's RPC Binder, protocol version 1 (Android 14),
 * as libbinder's RpcWireFormat.h and RpcState.cpp define it: decoding of what
 * a peer sends (every size and count checked against the bytes received and
 * against our bounds) and encoding of what we send. Structures are written
 * in little-endian order, which is what libbinder's in-memory structures are
 * on every host it runs on. No I/O here: callers frame the stream.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The protocol version we speak; a peer offering more is answered with this. */
#define RPC_WIRE_VERSION 1u

/* Fixed sizes of the wire structures (static_asserts of RpcWireFormat.h). */
#define RPC_CONNECTION_HEADER_SIZE    16u
#define RPC_NEW_SESSION_RESPONSE_SIZE 8u
#define RPC_CONNECTION_INIT_SIZE      8u
#define RPC_WIRE_HEADER_SIZE	      16u
#define RPC_TRANSACTION_SIZE	      40u
#define RPC_REPLY_SIZE		      20u
#define RPC_DEC_STRONG_SIZE	      16u
/* A session id, when a connection joins an existing session (RpcServer.cpp). */
#define RPC_SESSION_ID_SIZE	      32u

/* Limits we hold a peer to. libbinder refuses bodies over 100000 bytes
 * (kMaxTransactionAllocation, RpcState.cpp); we accept up to a kernel Binder
 * buffer so that ubinder-to-ubinder bridges can carry 1 MiB parcels. */
#define RPC_MAX_BODY_SIZE (1024u * 1024u + RPC_TRANSACTION_SIZE + 4096u)
/* At most this many descriptors in one parcel's object table. */
#define RPC_MAX_OBJECTS	  256u

enum rpc_command {
	RPC_COMMAND_TRANSACT = 0,
	RPC_COMMAND_REPLY = 1,
	RPC_COMMAND_DEC_STRONG = 2,
};

/* Transactions to address 0 are requests to the session itself. */
enum rpc_special_transact {
	RPC_SPECIAL_GET_ROOT = 0,
	RPC_SPECIAL_GET_MAX_THREADS = 1,
	RPC_SPECIAL_GET_SESSION_ID = 2,
};

/* RpcConnectionHeader.options */
#define RPC_CONNECTION_OPTION_INCOMING 0x1u
/* The low word of an address: it was created (never 0) and by which side. */
#define RPC_ADDRESS_OPTION_CREATED     (1u << 0)
#define RPC_ADDRESS_OPTION_FOR_SERVER  (1u << 1)

enum rpc_fd_mode {
	RPC_FD_MODE_NONE = 0,
	RPC_FD_MODE_UNIX = 1,
	RPC_FD_MODE_TRUSTY = 2,
};

/* Object types of an RPC parcel (Parcel::RpcFields::ObjectType). */
enum rpc_object_type {
	RPC_OBJECT_BINDER_NULL = 0,
	RPC_OBJECT_BINDER = 1,
	RPC_OBJECT_FD = 2,
};

/* The transaction flag that makes a call oneway (IBinder::FLAG_ONEWAY). */
#define RPC_FLAG_ONEWAY 0x01u

enum rpc_wire_error {
	RPC_WIRE_OK = 0,
	RPC_WIRE_SHORT = -1,	   /* fewer bytes than the structure needs */
	RPC_WIRE_BAD_COMMAND = -2, /* unknown command */
	RPC_WIRE_TOO_BIG = -3,	   /* a size over our bounds */
	RPC_WIRE_BAD_SIZE = -4,	   /* sizes that do not add up to the body */
	RPC_WIRE_BAD_OBJECT = -5,  /* an object position outside the parcel */
	RPC_WIRE_BAD_SESSION = -6, /* a session id of a size other than 32 */
	RPC_WIRE_BAD_TOKEN = -7,   /* not an interface token */
};

struct rpc_connection_header {
	uint32_t version;
	uint8_t options;
	uint8_t fd_mode;
	uint16_t session_id_size; /* 0 (new session) or RPC_SESSION_ID_SIZE */
};

struct rpc_wire_header {
	uint32_t command;
	uint32_t body_size;
};

/* A parcel as a decoded transaction or reply points into the body. */
struct rpc_parcel_view {
	const uint8_t *data;
	uint32_t data_size;
	const uint8_t *objects; /* object_count little-endian uint32 positions */
	uint32_t object_count;
};

struct rpc_transaction {
	uint64_t address;
	uint32_t code;
	uint32_t flags;
	uint64_t async_number;
	struct rpc_parcel_view parcel;
};

struct rpc_reply {
	int32_t status;
	struct rpc_parcel_view parcel;
};

struct rpc_dec_strong {
	uint64_t address;
	uint32_t amount;
};

/* One line naming @err, for logs. */
const char *rpc_wire_strerror(int err);

int rpc_decode_connection_header(const uint8_t *buf, size_t len, struct rpc_connection_header *out);
void rpc_encode_connection_header(uint8_t out[RPC_CONNECTION_HEADER_SIZE],
				  const struct rpc_connection_header *h);
/* The version a server answers a new session with: min(offered, ours). */
int rpc_decode_new_session_response(const uint8_t *buf, size_t len, uint32_t *version);
void rpc_encode_new_session_response(uint8_t out[RPC_NEW_SESSION_RESPONSE_SIZE], uint32_t version);
/* The "cci" message a client sends on each outgoing connection. */
bool rpc_is_connection_init(const uint8_t *buf, size_t len);
void rpc_encode_connection_init(uint8_t out[RPC_CONNECTION_INIT_SIZE]);

/* A frame header; the body size is bounded before anything is allocated. */
int rpc_decode_wire_header(const uint8_t *buf, size_t len, struct rpc_wire_header *out);
void rpc_encode_wire_header(uint8_t out[RPC_WIRE_HEADER_SIZE], uint32_t command,
			    uint32_t body_size);

/* Bodies: @body is the whole body of its frame; the views point into it. */
int rpc_decode_transaction(const uint8_t *body, size_t len, struct rpc_transaction *out);
int rpc_decode_reply(const uint8_t *body, size_t len, struct rpc_reply *out);
int rpc_decode_dec_strong(const uint8_t *body, size_t len, struct rpc_dec_strong *out);

/*
 * The fixed part of a frame (wire header and transaction or reply head) for
 * a parcel of @data_size bytes with @object_count positions; the caller
 * sends it, then the data, then the positions. Returns the bytes written to
 * @out, or RPC_WIRE_TOO_BIG.
 */
int rpc_encode_transaction_head(uint8_t out[RPC_WIRE_HEADER_SIZE + RPC_TRANSACTION_SIZE],
				const struct rpc_transaction *t);
int rpc_encode_reply_head(uint8_t out[RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE], int32_t status,
			  uint32_t data_size, uint32_t object_count);
void rpc_encode_dec_strong(uint8_t out[RPC_WIRE_HEADER_SIZE + RPC_DEC_STRONG_SIZE],
			   const struct rpc_dec_strong *d);

/* Position @i of a decoded object table. */
uint32_t rpc_object_position(const struct rpc_parcel_view *p, uint32_t i);

/*
 * Interface tokens. The kernel form is the strict-mode word, the work-source
 * word, the 'SYST' header word and the String16 name; the RPC form is the
 * String16 name alone (Parcel::writeInterfaceToken). Each translation reads
 * the token at the start of @in, writes its other form to @out (@out_cap
 * bytes; the RPC form is RPC_TOKEN_KERNEL_EXTRA bytes shorter) and returns
 * the bytes the token took in @in, so that the caller copies the rest of the
 * parcel after it; or a negative rpc_wire_error.
 */
#define RPC_TOKEN_KERNEL_EXTRA 12u
int rpc_token_kernel_to_rpc(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap);
int rpc_token_rpc_to_kernel(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap);
