/* SPDX-License-Identifier: MIT */
/*
 * The importing side of one session (rpc_import.h): the handshakes of its
 * connections, then rpc_session.c does the rest.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rpc_import.h"
#include "rpc_session.h"
#include "rpc_stream.h"
#include "rpc_wire.h"

/* How long a connection's TLS and RPC handshakes may take, each. */
#define HANDSHAKE_S 5

/* Opens one connection: a new session (@id NULL) or a join of @id. */
static struct rpc_stream *open_conn(const char *address, const struct rpc_tls *tls,
				    const uint8_t *id, bool incoming, bool fds)
{
	struct rpc_connection_header h = {
		.version = RPC_WIRE_VERSION,
		.options = incoming ? RPC_CONNECTION_OPTION_INCOMING : 0,
		.fd_mode = fds ? RPC_FD_MODE_UNIX : RPC_FD_MODE_NONE,
		.session_id_size = id ? RPC_SESSION_ID_SIZE : 0,
	};
	uint8_t buf[RPC_CONNECTION_HEADER_SIZE];
	uint32_t version;
	struct rpc_stream *st = rpc_stream_connect(address, tls, HANDSHAKE_S);

	if (!st)
		return NULL;
	rpc_stream_set_timeout(st, HANDSHAKE_S);
	rpc_encode_connection_header(buf, &h);
	if (rpc_write_full(st, buf, sizeof(buf)) ||
	    (id && rpc_write_full(st, id, RPC_SESSION_ID_SIZE)))
		goto bad;
	if (!id) {
		if (rpc_read_full(st, buf, RPC_NEW_SESSION_RESPONSE_SIZE) ||
		    rpc_decode_new_session_response(buf, RPC_NEW_SESSION_RESPONSE_SIZE, &version))
			goto bad;
		if (version != RPC_WIRE_VERSION) {
			fprintf(stderr,
				"ubinder-rpc: %s: the server does not speak protocol version 1\n",
				address);
			goto bad;
		}
	}
	if (incoming) {
		/* the server calls on it: it sends the init */
		if (rpc_read_full(st, buf, RPC_CONNECTION_INIT_SIZE) ||
		    !rpc_is_connection_init(buf, RPC_CONNECTION_INIT_SIZE))
			goto bad;
	} else {
		rpc_encode_connection_init(buf);
		if (rpc_write_full(st, buf, RPC_CONNECTION_INIT_SIZE))
			goto bad;
	}
	return st;
bad:
	rpc_stream_close(st);
	return NULL;
}

int rpc_import_run(ubinder_context *ctx, const char *address, const struct rpc_tls *tls,
		   const char *name, const struct rpc_layouts *layouts, bool descriptors,
		   struct rpc_session **out)
{
	struct rpc_session_config sc = { .ctx = ctx,
					 .layouts = layouts,
					 .name = address,
					 .max_threads = 1,
					 .fds = descriptors };
	struct rpc_session *s = rpc_session_new(&sc);
	uint8_t id[RPC_SESSION_ID_SIZE];
	ubinder_binder *root = NULL;
	uint32_t threads = 0;
	struct rpc_stream *st;
	int err;

	st = s ? open_conn(address, tls, NULL, false, descriptors) : NULL;
	if (!st || rpc_session_add_calling(s, st)) {
		fprintf(stderr, "ubinder-rpc: %s: session lost: no session\n", address);
		goto fail;
	}
	err = rpc_session_get_max_threads(s, &threads);
	if (!err)
		err = rpc_session_get_id(s, id);
	if (err) {
		fprintf(stderr, "ubinder-rpc: %s: session lost: no session id\n", address);
		goto fail;
	}
	if (threads > RPC_IMPORT_MAX_CALLING)
		threads = RPC_IMPORT_MAX_CALLING;
	for (uint32_t i = 1; i < threads; i++) {
		st = open_conn(address, tls, id, false, descriptors);
		if (!st || rpc_session_add_calling(s, st))
			break; /* fewer connections: calls wait for a free one */
	}
	for (unsigned i = 0; i < RPC_IMPORT_INCOMING; i++) {
		st = open_conn(address, tls, id, true, descriptors);
		if (!st || rpc_session_serve_async(s, st))
			break; /* fewer callbacks at once */
	}
	err = rpc_session_get_root(s, &root);
	if (err) {
		fprintf(stderr, "ubinder-rpc: %s: session lost: no root object\n", address);
		goto fail;
	}
	err = ubinder_context_start_thread_pool(ctx);
	if (!err)
		err = ubinder_sm_add_service(ctx, name, root);
	if (err) {
		fprintf(stderr, "ubinder-rpc: cannot register '%s': %s\n", name,
			ubinder_strerror(err));
		goto fail;
	}
	fprintf(stderr, "ubinder-rpc: %s registered as '%s'\n", address, name);
	rpc_session_watch(s);
	fprintf(stderr, "ubinder-rpc: %s: session lost: closed by the server\n", address);
fail:
	/* the session's serving threads are gone once it has ended; its
	 * stand-ins go with the context, which the caller closes */
	ubinder_binder_unref(root);
	if (s) {
		rpc_session_end(s);
		rpc_session_wait(s);
	}
	*out = s;
	return 1;
}
