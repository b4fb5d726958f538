/* SPDX-License-Identifier: MIT */
/*
 * TLS for the bridge's byte streams (OpenSSL), as libbinder's
 * RpcTransportTls runs it: TLS 1.3 at least, a handshake per connection
 * before the RPC connection header, and both sides authenticated by
 * certificates exchanged out of band: each side presents its certificate
 * and accepts the peer only if the peer's (leaf) certificate is one of
 * those it was given (pinned, no chain, no name, no dates: as libbinder's
 * RpcCertificateVerifierSimple). Only rpc_stream.c uses this module.
 *
 * A connection's SSL is used under its own lock, on a non-blocking socket:
 * one thread may read while another writes on the same connection (the
 * session writes DEC_STRONG on a connection a call chain reads).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* PEM files: our certificate (chain), its private key, and the peers'
 * certificates we accept (one or more). */
struct rpc_tls_files {
	const char *cert, *key, *peer_cert;
};

/* At most this many certificates in a --tls-peer-cert file, and bytes in
 * any of the three files (they are configuration, still bounded). */
#define RPC_TLS_MAX_PEER_CERTS 64
#define RPC_TLS_MAX_FILE_SIZE  (1 << 20)

struct rpc_tls;

/* A configuration for the @server side or the client side; NULL after
 * printing one line naming the file and what is wrong with it. */
struct rpc_tls *rpc_tls_new(const struct rpc_tls_files *files, bool server);
void rpc_tls_free(struct rpc_tls *t);

struct rpc_tls_conn;

/*
 * Runs the handshake on the connected, non-blocking socket @fd (not taken)
 * within @timeout_ms. NULL after printing why, naming @peer: the peer's
 * certificate was refused, ours was, the peer spoke no TLS, hung up or
 * stalled.
 */
struct rpc_tls_conn *rpc_tls_handshake(const struct rpc_tls *t, int fd, int timeout_ms,
				       const char *peer);
/* Reads / writes all @n bytes, each wait for the socket at most
 * @timeout_ms (-1: none). -1 on the end of the stream or an error (a TLS
 * error is printed once per connection). */
int rpc_tls_transfer(struct rpc_tls_conn *c, void *buf, size_t n, bool writing, int timeout_ms);
/* Waits without a limit until application data can be read: 0, or -1 at
 * the end of the stream. Records that carry none are consumed. Once part
 * of a record has come, the rest must come within @partial_timeout_ms
 * (-1: no limit), as the rest of a frame must. */
int rpc_tls_wait_readable(struct rpc_tls_conn *c, int partial_timeout_ms);
/* Sends close_notify if the socket takes it at once, and frees @c (the
 * socket stays open). */
void rpc_tls_conn_free(struct rpc_tls_conn *c);
