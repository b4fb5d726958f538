/* SPDX-License-Identifier: MIT */
/*
 * The client side of one RPC session. Invariant: the connection carries at
 * most one call at a time (the lock is held from sending a transaction to
 * reading its reply), so frames never interleave and oneway calls keep
 * their order. The server is hostile: its frames go through the codec, and
 * anything but the reply we wait for ends the session, and the process.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpc_import.h"
#include "rpc_stream.h"
#include "rpc_wire.h"

#define STATUS_BAD_VALUE (-EINVAL)

struct rpc_import {
	int fd;
	const char *address;
	uint64_t root;
	uint64_t async_number; /* of the next oneway call to the root */
	pthread_mutex_t lock;
};

static _Noreturn void session_lost(const struct rpc_import *im, const char *why)
{
	fprintf(stderr, "ubinder-rpc: %s: session lost: %s\n", im->address, why);
	exit(1);
}

/*
 * A DEC_STRONG from the server. libbinder's server sends one after every
 * call to one of its objects, acknowledging the reference the call carried;
 * the import never sends binders, so it owns no count the server could
 * lower, and it checks the frame and lets it go (as libbinder's own client
 * does for an address it never sent).
 */
static void skip_dec_strong(struct rpc_import *im, const struct rpc_wire_header *h)
{
	uint8_t body[RPC_DEC_STRONG_SIZE];
	struct rpc_dec_strong d;

	if (h->body_size != sizeof(body))
		session_lost(im, rpc_wire_strerror(RPC_WIRE_BAD_SIZE));
	if (rpc_read_full(im->fd, body, sizeof(body)))
		session_lost(im, "closed mid-frame");
	if (rpc_decode_dec_strong(body, sizeof(body), &d))
		session_lost(im, "bad DEC_STRONG");
}

/* Sends a transaction and, unless oneway, reads its reply (*body, malloc'd). */
static void transact(struct rpc_import *im, uint64_t address, uint32_t code, uint32_t flags,
		     const void *data, size_t size, struct rpc_reply *reply, uint8_t **body)
{
	struct rpc_transaction t = { .address = address,
				     .code = code,
				     .flags = flags,
				     .parcel = { .data_size = (uint32_t)size } };
	uint8_t head[RPC_WIRE_HEADER_SIZE + RPC_TRANSACTION_SIZE];
	struct rpc_wire_header h;
	int n, err;

	if (flags & RPC_FLAG_ONEWAY)
		t.async_number = im->async_number++;
	n = rpc_encode_transaction_head(head, &t);
	if (n < 0 || rpc_write_full(im->fd, head, (size_t)n) || rpc_write_full(im->fd, data, size))
		session_lost(im, n < 0 ? rpc_wire_strerror(n) : "write failed");
	if (flags & RPC_FLAG_ONEWAY)
		return;
	for (;;) {
		if (rpc_read_full(im->fd, head, RPC_WIRE_HEADER_SIZE))
			session_lost(im, "closed by the server");
		err = rpc_decode_wire_header(head, RPC_WIRE_HEADER_SIZE, &h);
		if (err)
			session_lost(im, rpc_wire_strerror(err));
		if (h.command != RPC_COMMAND_DEC_STRONG)
			break;
		skip_dec_strong(im, &h);
	}
	if (h.command != RPC_COMMAND_REPLY)
		session_lost(im, "calls from the server are not supported");
	*body = malloc(h.body_size ? h.body_size : 1);
	if (!*body || rpc_read_full(im->fd, *body, h.body_size))
		session_lost(im, "closed mid-frame");
	err = rpc_decode_reply(*body, h.body_size, reply);
	if (!err && reply->parcel.object_count)
		err = RPC_WIRE_BAD_OBJECT; /* descriptors in fd mode none */
	if (err)
		session_lost(im, rpc_wire_strerror(err));
}

struct rpc_import *rpc_import_open(int fd, const char *address)
{
	struct rpc_connection_header ch = { .version = RPC_WIRE_VERSION };
	struct rpc_import *im = calloc(1, sizeof(*im));
	uint8_t buf[RPC_CONNECTION_HEADER_SIZE];
	struct rpc_reply reply;
	uint8_t *body;
	uint32_t version, present, lo, hi;

	if (!im) {
		close(fd);
		return NULL;
	}
	im->fd = fd;
	im->address = address;
	pthread_mutex_init(&im->lock, NULL);
	rpc_encode_connection_header(buf, &ch);
	if (rpc_write_full(fd, buf, sizeof(buf)) ||
	    rpc_read_full(fd, buf, RPC_NEW_SESSION_RESPONSE_SIZE))
		session_lost(im, "no session");
	if (rpc_decode_new_session_response(buf, RPC_NEW_SESSION_RESPONSE_SIZE, &version) ||
	    version != RPC_WIRE_VERSION)
		session_lost(im, "the server does not speak protocol version 1");
	rpc_encode_connection_init(buf);
	if (rpc_write_full(fd, buf, RPC_CONNECTION_INIT_SIZE))
		session_lost(im, "write failed");

	transact(im, 0, RPC_SPECIAL_GET_ROOT, 0, NULL, 0, &reply, &body);
	if (reply.status || reply.parcel.data_size < 12)
		session_lost(im, "no root object");
	memcpy(&present, reply.parcel.data, 4);
	memcpy(&lo, reply.parcel.data + 4, 4);
	memcpy(&hi, reply.parcel.data + 8, 4);
	free(body);
	im->root = (uint64_t)le32toh(hi) << 32 | le32toh(lo);
	if (le32toh(present) != 1 || !im->root)
		session_lost(im, "a null root object");
	return im;
}

/* The request in RPC form (malloc'd): the token rewritten for user codes. */
static uint8_t *rpc_request(ubinder_parcel *data, uint32_t code, size_t *size)
{
	const uint8_t *in = ubinder_parcel_get_data(data);
	size_t len = ubinder_parcel_get_size(data);
	uint8_t *out;
	size_t at = 0, wrote = 0;

	if (ubinder_parcel_get_object_count(data) || len % 4)
		return NULL; /* objects need an interface description */
	out = malloc(len ? len : 1);
	if (!out)
		return NULL;
	if (code >= UBINDER_FIRST_CALL_TRANSACTION && code <= UBINDER_LAST_CALL_TRANSACTION) {
		int n = rpc_token_kernel_to_rpc(in, len, out, len);

		if (n < 0) {
			free(out);
			return NULL;
		}
		at = (size_t)n;
		wrote = at - RPC_TOKEN_KERNEL_EXTRA;
	}
	memcpy(out + wrote, in + at, len - at);
	*size = wrote + len - at;
	return out;
}

static int forward(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		   ubinder_parcel *reply, void *userdata)
{
	struct rpc_import *im = userdata;
	bool oneway = call->flags & UBINDER_FLAG_ONEWAY;
	struct rpc_reply r;
	uint8_t *req, *body = NULL;
	size_t size = 0;
	int status;

	(void)self;
	req = rpc_request(data, call->code, &size);
	if (!req)
		return STATUS_BAD_VALUE;
	pthread_mutex_lock(&im->lock);
	transact(im, im->root, call->code, oneway ? RPC_FLAG_ONEWAY : 0, req, size, &r, &body);
	pthread_mutex_unlock(&im->lock);
	free(req);
	if (oneway)
		return 0;
	status = r.status;
	for (uint32_t at = 0; status == 0 && at < r.parcel.data_size; at += 4) {
		uint32_t w = 0;

		memcpy(&w, r.parcel.data + at,
		       r.parcel.data_size - at < 4 ? r.parcel.data_size - at : 4);
		status = ubinder_parcel_write_uint32(reply, w);
	}
	free(body);
	return status;
}

/* The server closing the session while no call is in flight. */
static void *watch_hangup(void *p)
{
	struct rpc_import *im = p;
	struct pollfd pfd = { .fd = im->fd, .events = POLLRDHUP };

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	session_lost(im, "closed by the server");
}

/* The root's interface descriptor (malloc'd UTF-8), asked across the
 * session, so that local callers see the interface they talk to. */
static char *remote_descriptor(struct rpc_import *im)
{
	ubinder_parcel *p = ubinder_parcel_new();
	struct rpc_reply r;
	uint8_t *body;
	char *descriptor = NULL;
	int err = 0;

	transact(im, im->root, UBINDER_INTERFACE_TRANSACTION, 0, NULL, 0, &r, &body);
	for (uint32_t at = 0; p && !err && r.status == 0 && at + 4 <= r.parcel.data_size; at += 4) {
		uint32_t w;

		memcpy(&w, r.parcel.data + at, 4);
		err = ubinder_parcel_write_uint32(p, w);
	}
	free(body);
	if (p && !err && r.status == 0 && ubinder_parcel_set_position(p, 0) == 0)
		ubinder_parcel_read_string16_utf8(p, &descriptor);
	ubinder_parcel_free(p);
	return descriptor;
}

int rpc_import_binder(struct rpc_import *im, ubinder_context *ctx, ubinder_binder **out)
{
	char *descriptor = remote_descriptor(im);
	pthread_t t;
	int err = ubinder_binder_new(ctx, descriptor, forward, im, NULL, out);

	free(descriptor);
	if (err)
		return err;
	if (pthread_create(&t, NULL, watch_hangup, im)) {
		ubinder_binder_unref(*out);
		return UBINDER_ERR_NO_MEMORY;
	}
	pthread_detach(t);
	return 0;
}
