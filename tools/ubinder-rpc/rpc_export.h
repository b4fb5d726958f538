/* SPDX-License-Identifier: MIT */
/*
 * Serving a ubinder service (or the service manager) to RPC Binder
 * clients: sessions of several connections (a client joins more with the
 * session id, outgoing or INCOMING), each session with a ubinder context
 * of its own, so that when the session ends its stand-ins die for their
 * local holders (BR_DEAD_BINDER), as a dead process's objects do.
 */
#pragma once

#include "rpc_layout.h"

struct rpc_tls;

struct rpc_export_config {
	const char *socket;  /* the context's socket (NULL: the default) */
	const char *service; /* the service exported; NULL: the service manager */
	const struct rpc_layouts *layouts;
	unsigned max_threads;	   /* connections a client may open for its calls */
	bool descriptors;	   /* sessions may ask for fd transport mode Unix */
	const struct rpc_tls *tls; /* a server configuration: TLS only; NULL: plain */
};

/* Accepts on the listening socket @lfd until accept fails; returns 1 then. */
int rpc_export_serve(int lfd, const struct rpc_export_config *c);
