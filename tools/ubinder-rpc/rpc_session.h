/* SPDX-License-Identifier: MIT */
/*
 * One RPC Binder session, either side (docs/rpc.md, "The bridge"). A
 * session has connections of two kinds, as libbinder's RpcSession has:
 * calling ones (we send transactions, the peer serves them) and serving
 * ones (the peer calls, a thread of ours serves). Each connection carries
 * one call chain at a time, so a reply always answers the innermost call
 * on its connection: a call takes a free calling connection, and the
 * nested calls and callbacks of its chain reuse it in both directions
 * (the thread that waits on it serves the peer's nested transactions, and
 * libubinder routes nested local calls back to that same thread).
 *
 * Objects: a local binder leaving becomes an address of ours, held (one
 * reference) while the peer's count on it is above zero; the peer's
 * DEC_STRONG lowers that count. An address of the peer's arriving becomes
 * a stand-in, a local object of the session's context whose calls are
 * sent to that address: one stand-in per address while anything holds it;
 * once nothing does, the session returns what it received with DEC_STRONG.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <ubinder/ubinder.h>

#include "rpc_layout.h"
#include "rpc_wire.h"

struct rpc_session;

struct rpc_session_config {
	ubinder_context *ctx; /* local objects and stand-ins live here */
	const struct rpc_layouts *layouts;
	const char *name;     /* for logs */
	bool server;	      /* we accepted the session (FOR_SERVER addresses) */
	ubinder_binder *root; /* our root object (GET_ROOT), or NULL */
	unsigned max_threads; /* our answer to GET_MAX_THREADS */
	const uint8_t *id;    /* RPC_SESSION_ID_SIZE bytes */
	bool fds;	      /* fd transport mode Unix: descriptors cross */
};

/* A session without connections yet; NULL if out of memory. */
struct rpc_session *rpc_session_new(const struct rpc_session_config *c);

struct rpc_stream;
/*
 * Adds the connected stream @st (taken) after its handshake: a calling
 * connection, or a serving one, which a thread of its own serves until the
 * session ends (the peer hung up, broke the protocol, or another
 * connection of the session failed). -1 if the session has already ended
 * or cannot take more connections (@st is closed).
 */
int rpc_session_add_calling(struct rpc_session *s, struct rpc_stream *st);
int rpc_session_serve_async(struct rpc_session *s, struct rpc_stream *st);

/* The peer's root object (GET_ROOT) as a stand-in, of the interface it
 * names (INTERFACE_TRANSACTION). */
int rpc_session_get_root(struct rpc_session *s, ubinder_binder **out);
/* An int32 special transaction's answer (GET_MAX_THREADS). */
int rpc_session_get_max_threads(struct rpc_session *s, uint32_t *out);
int rpc_session_get_id(struct rpc_session *s, uint8_t id[RPC_SESSION_ID_SIZE]);

/* Ends the session: every connection is shut down, so that calls in flight
 * fail with DEAD_OBJECT and serving threads return. */
void rpc_session_end(struct rpc_session *s);
bool rpc_session_ended(struct rpc_session *s);
/* Waits for the serving threads to return once the session has ended. */
void rpc_session_wait(struct rpc_session *s);

/* Until the session ends: ends it when the peer hangs up any connection,
 * even one nobody reads, and once a second gives back the counts of
 * stand-ins nothing holds any more. */
void rpc_session_watch(struct rpc_session *s);

/* Counters for tests and logs: addresses of ours the peer holds, stand-ins
 * alive, DEC_STRONG frames ignored. */
struct rpc_session_stats {
	unsigned exported, standins, bad_dec_strong;
};
void rpc_session_get_stats(struct rpc_session *s, struct rpc_session_stats *out);

/*
 * Frees the session after rpc_session_wait(), once the context's calls
 * are over (after ubinder_context_close, or from a process about to exit).
 */
void rpc_session_free(struct rpc_session *s);
