/* SPDX-License-Identifier: MIT */
/*
 * A remote RPC Binder server's root object as a local ubinder service: one
 * session of as many calling connections as the server offers threads (at
 * most RPC_IMPORT_MAX_CALLING) and RPC_IMPORT_INCOMING incoming ones, on
 * which the server calls the objects we sent it (callbacks).
 */
#pragma once

#include <stdbool.h>

#include <ubinder/ubinder.h>

#include "rpc_layout.h"

#define RPC_IMPORT_MAX_CALLING 8
#define RPC_IMPORT_INCOMING    4

/*
 * Opens the session to @address, registers its root as @name with @ctx's
 * service manager and serves until the session ends; then returns 1 (the
 * process should exit, so that the daemon tells the holders of every
 * stand-in it died and fails their calls in flight with DEAD_OBJECT,
 * exactly as for a local service whose process died). Failures to set up
 * print one line and return 1. Either way *session is the ended session
 * (or NULL), for rpc_session_free() once @ctx is closed. @tls (a client
 * configuration, or NULL) runs every connection over TLS. @descriptors
 * asks for fd transport mode Unix (a Unix socket @address, no TLS).
 */
struct rpc_session;
struct rpc_tls;
int rpc_import_run(ubinder_context *ctx, const char *address, const struct rpc_tls *tls,
		   const char *name, const struct rpc_layouts *layouts, bool descriptors,
		   struct rpc_session **session);
