/* SPDX-License-Identifier: MIT */
/*
 * A remote RPC Binder root object as a local ubinder service: one session,
 * one connection, calls forwarded one at a time. Parcels that carry objects
 * are refused (docs/rpc.md says why).
 */
#pragma once

#include <ubinder/ubinder.h>

struct rpc_import;

/*
 * Opens a session on the connected stream @fd (taken) and fetches its root
 * object. Returns NULL after printing one line if the peer does not speak
 * version 1 or has no root object.
 */
struct rpc_import *rpc_import_open(int fd, const char *address);

/*
 * A new local object of @ctx whose calls are forwarded to the root object
 * (*out holds one reference). Any session failure, and the peer closing
 * the session, ends the process: the daemon then tells this object's
 * holders it died, and their calls in flight fail with DEAD_OBJECT, exactly
 * as for a local service whose process died.
 */
int rpc_import_binder(struct rpc_import *im, ubinder_context *ctx, ubinder_binder **out);
