/* SPDX-License-Identifier: MIT */
/*
 * Serving one ubinder service to RPC Binder clients: one session per
 * accepted connection, the service as the session's root object. Parcels
 * that carry objects are refused (docs/rpc.md says why a bridge needs
 * interface descriptions to translate them).
 */
#pragma once

#include <ubinder/ubinder.h>

/*
 * Serves the RPC session on the connected stream @fd (taking it; closed
 * when the session ends) with @root as its root object. Returns when the
 * peer hangs up or breaks the protocol (which @name'd log lines report).
 */
void rpc_export_session(int fd, ubinder_binder *root, const char *name);
