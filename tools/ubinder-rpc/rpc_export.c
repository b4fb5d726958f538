/* SPDX-License-Identifier: MIT */
/*
 * One exported RPC session. The peer is hostile: every frame is decoded by
 * rpc_wire.c before use, and any frame we cannot honour ends the session
 * (as libbinder's RpcState ends it), never the bridge. The session has one
 * connection (we answer GET_MAX_THREADS with 1), so frames, oneway calls
 * included, are served in the order they arrive.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_export.h"
#include "rpc_stream.h"
#include "rpc_wire.h"

/* The root object's address: created by the server, counter 1. */
#define ROOT_ADDRESS \
	((uint64_t)1 << 32 | RPC_ADDRESS_OPTION_CREATED | RPC_ADDRESS_OPTION_FOR_SERVER)
/* The stability word after a binder (Stability::SYSTEM, 0b001100). */
#define STABILITY_SYSTEM	   0x0c
/* libbinder's status_t values we answer with. */
#define STATUS_OK		   0
#define STATUS_BAD_VALUE	   (-EINVAL)
#define STATUS_UNKNOWN_TRANSACTION (-EBADMSG)

/* How long a peer may take to finish a frame it started, or to take our
 * reply: past it the session ends, so a stalled peer holds no thread. An
 * idle session (between frames) may last forever. */
#define FRAME_TIMEOUT_S 5

struct session {
	int fd;
	const char *name;
	ubinder_binder *root;
	uint64_t root_refs; /* strong references the peer holds on the root */
	uint8_t id[RPC_SESSION_ID_SIZE];
};

static void refuse(const struct session *s, const char *why)
{
	fprintf(stderr, "ubinder-rpc: %s: closing a session: %s\n", s->name, why);
}

static int send_reply(struct session *s, int32_t status, const void *data, size_t size)
{
	uint8_t head[RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE];
	int n;

	if (size > RPC_MAX_BODY_SIZE)
		return send_reply(s, STATUS_BAD_VALUE, NULL, 0);
	n = rpc_encode_reply_head(head, status, (uint32_t)size, 0);
	if (n < 0)
		return send_reply(s, STATUS_BAD_VALUE, NULL, 0);
	if (rpc_write_full(s->fd, head, (size_t)n) || rpc_write_full(s->fd, data, size))
		return -1;
	return 0;
}

static int session_handshake(struct session *s)
{
	uint8_t buf[RPC_CONNECTION_HEADER_SIZE];
	uint8_t resp[RPC_NEW_SESSION_RESPONSE_SIZE];
	struct rpc_connection_header h;
	int err;

	if (rpc_read_full(s->fd, buf, sizeof(buf)))
		return -1;
	err = rpc_decode_connection_header(buf, sizeof(buf), &h);
	if (err) {
		refuse(s, rpc_wire_strerror(err));
		return -1;
	}
	/* One connection per session, outgoing from the client, no descriptors:
	 * anything else is a session we do not offer. */
	if (h.session_id_size || (h.options & RPC_CONNECTION_OPTION_INCOMING) ||
	    h.fd_mode != RPC_FD_MODE_NONE || h.version < RPC_WIRE_VERSION) {
		refuse(s, "unsupported connection (version, session join, incoming or fd mode)");
		return -1;
	}
	rpc_encode_new_session_response(resp, RPC_WIRE_VERSION);
	if (rpc_write_full(s->fd, resp, sizeof(resp)) ||
	    rpc_read_full(s->fd, buf, RPC_CONNECTION_INIT_SIZE))
		return -1;
	if (!rpc_is_connection_init(buf, RPC_CONNECTION_INIT_SIZE)) {
		refuse(s, "no connection init");
		return -1;
	}
	if (getrandom(s->id, sizeof(s->id), 0) != (ssize_t)sizeof(s->id))
		return -1;
	return 0;
}

/* Transactions to address 0: the session's own. */
static int serve_special(struct session *s, const struct rpc_transaction *t)
{
	uint32_t words[2 + RPC_SESSION_ID_SIZE / 4];

	switch (t->code) {
	case RPC_SPECIAL_GET_ROOT:
		/* present, address (low word first), stability */
		words[0] = 1;
		words[1] = (uint32_t)ROOT_ADDRESS;
		words[2] = (uint32_t)(ROOT_ADDRESS >> 32);
		words[3] = STABILITY_SYSTEM;
		s->root_refs++;
		return send_reply(s, STATUS_OK, words, 16);
	case RPC_SPECIAL_GET_MAX_THREADS:
		words[0] = 1;
		return send_reply(s, STATUS_OK, words, 4);
	case RPC_SPECIAL_GET_SESSION_ID:
		/* a byte vector: its length, then the bytes */
		words[0] = RPC_SESSION_ID_SIZE;
		memcpy(&words[1], s->id, sizeof(s->id));
		return send_reply(s, STATUS_OK, words, 4 + sizeof(s->id));
	}
	return send_reply(s, STATUS_UNKNOWN_TRANSACTION, NULL, 0);
}

/* The request in kernel form: the token rewritten for user codes. */
static ubinder_parcel *kernel_request(const struct rpc_transaction *t, int *status)
{
	const struct rpc_parcel_view *v = &t->parcel;
	ubinder_parcel *p = ubinder_parcel_new();
	uint8_t token[4096 + RPC_TOKEN_KERNEL_EXTRA];
	size_t at = 0;
	uint32_t w;

	*status = STATUS_BAD_VALUE;
	if (!p)
		return NULL;
	if (v->data_size % 4)
		goto bad;
	if (t->code >= UBINDER_FIRST_CALL_TRANSACTION && t->code <= UBINDER_LAST_CALL_TRANSACTION) {
		int n = rpc_token_rpc_to_kernel(v->data, v->data_size, token, sizeof(token));

		if (n < 0)
			goto bad;
		for (size_t i = 0; i < (size_t)n + RPC_TOKEN_KERNEL_EXTRA; i += 4) {
			memcpy(&w, token + i, 4);
			if (ubinder_parcel_write_uint32(p, w))
				goto bad;
		}
		at = (size_t)n;
	}
	for (; at < v->data_size; at += 4) {
		memcpy(&w, v->data + at, 4);
		if (ubinder_parcel_write_uint32(p, w))
			goto bad;
	}
	*status = STATUS_OK;
	return p;
bad:
	ubinder_parcel_free(p);
	return NULL;
}

static int serve_transaction(struct session *s, const struct rpc_transaction *t)
{
	bool oneway = t->flags & RPC_FLAG_ONEWAY;
	ubinder_parcel *req, *reply = NULL;
	int status, err;

	if (t->address == 0)
		return oneway ? 0 : serve_special(s, t);
	if (t->address != ROOT_ADDRESS || s->root_refs == 0) {
		refuse(s, "transaction to an address it holds no reference to");
		return -1;
	}
	req = kernel_request(t, &status);
	if (!req)
		return oneway ? 0 : send_reply(s, status, NULL, 0);
	status = ubinder_binder_transact(s->root, t->code, req, oneway ? UBINDER_FLAG_ONEWAY : 0,
					 oneway ? NULL : &reply);
	ubinder_parcel_free(req);
	if (oneway)
		return 0;
	if (status == 0 && ubinder_parcel_get_object_count(reply) != 0)
		status = STATUS_BAD_VALUE; /* objects need an interface description */
	if (status == 0)
		err = send_reply(s, STATUS_OK, ubinder_parcel_get_data(reply),
				 ubinder_parcel_get_size(reply));
	else
		err = send_reply(s, status, NULL, 0);
	ubinder_parcel_free(reply);
	return err;
}

static int serve_frame(struct session *s, const struct rpc_wire_header *h, const uint8_t *body)
{
	struct rpc_transaction t;
	struct rpc_dec_strong d;
	int err;

	switch (h->command) {
	case RPC_COMMAND_TRANSACT:
		err = rpc_decode_transaction(body, h->body_size, &t);
		if (!err && t.parcel.object_count)
			err = RPC_WIRE_BAD_OBJECT; /* descriptors in fd mode none */
		if (err) {
			refuse(s, rpc_wire_strerror(err));
			return -1;
		}
		return serve_transaction(s, &t);
	case RPC_COMMAND_DEC_STRONG:
		err = rpc_decode_dec_strong(body, h->body_size, &d);
		if (err) {
			refuse(s, rpc_wire_strerror(err));
			return -1;
		}
		if (d.address != ROOT_ADDRESS || d.amount > s->root_refs) {
			refuse(s, "DEC_STRONG of a reference it does not hold");
			return -1;
		}
		s->root_refs -= d.amount;
		return 0;
	}
	refuse(s, "a reply to a call never made");
	return -1;
}

/* Waits, without a time limit, for the first byte of the next frame. */
static bool next_frame_arrives(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	while ((n = poll(&pfd, 1, -1)) < 0 && errno == EINTR)
		;
	return n == 1;
}

void rpc_export_session(int fd, ubinder_binder *root, const char *name)
{
	struct session s = { .fd = fd, .name = name, .root = root };
	struct timeval limit = { .tv_sec = FRAME_TIMEOUT_S };
	uint8_t head[RPC_WIRE_HEADER_SIZE];

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit)) || session_handshake(&s))
		goto out;
	while (next_frame_arrives(fd) && rpc_read_full(fd, head, sizeof(head)) == 0) {
		struct rpc_wire_header h;
		uint8_t *body;
		int err = rpc_decode_wire_header(head, sizeof(head), &h);

		if (err) {
			refuse(&s, rpc_wire_strerror(err));
			break;
		}
		body = malloc(h.body_size ? h.body_size : 1);
		if (!body)
			break;
		/* a peer that stops mid-frame just ends its session */
		err = rpc_read_full(fd, body, h.body_size) ? -1 : serve_frame(&s, &h, body);
		free(body);
		if (err)
			break;
	}
out:
	close(fd);
}
