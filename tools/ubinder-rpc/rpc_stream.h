/* SPDX-License-Identifier: MIT */
/*
 * The byte streams RPC sessions run on: addresses (unix:PATH,
 * tcp:HOST:PORT, vsock:CID:PORT), listening or connecting, optionally
 * TLS (rpc_tls.h) under the stream, and whole reads and writes. Above
 * this, nothing knows whether a stream is TLS.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct rpc_tls;

/* Whether @address has one of the forms rpc_listen / rpc_stream_connect
 * take (a vsock address's numbers included). */
bool rpc_address_valid(const char *address);
/* Whether @address is a Unix socket's (descriptors can travel on it). */
bool rpc_address_is_unix(const char *address);

/*
 * A listening socket on @address (close-on-exec), or -1 after printing one
 * line naming the address and the reason.
 */
int rpc_listen(const char *address);
/*
 * The address the listening @fd is bound to, in @address's form, into
 * @buf: for TCP and vsock with the port the kernel chose when @address
 * asked for port 0.
 */
void rpc_listen_address(int fd, const char *address, char *buf, size_t size);

/* A connected stream; one reader and one writer may use it at once. */
struct rpc_stream;

/*
 * Connects to @address and, with @tls (a client configuration), runs the
 * TLS handshake within @timeout_s. NULL after printing why.
 */
struct rpc_stream *rpc_stream_connect(const char *address, const struct rpc_tls *tls,
				      int timeout_s);
/*
 * The accepted socket @fd (taken) as a stream, after the TLS handshake
 * within @timeout_s with @tls (a server configuration). NULL (and @fd
 * closed) after printing why the handshake failed.
 */
struct rpc_stream *rpc_stream_accepted(int fd, const struct rpc_tls *tls, int timeout_s);

/* Each later wait of a read or write for the peer lasts at most @seconds. */
void rpc_stream_set_timeout(struct rpc_stream *s, int seconds);
/* Waits without a limit until a read would get data: 0, or -1 at the end
 * of the stream. */
int rpc_stream_wait_readable(struct rpc_stream *s);
/* The socket, to poll for hang-ups only (POLLRDHUP): never read it. */
int rpc_stream_fd(const struct rpc_stream *s);
/* Ends the stream both ways, from any thread: its reads and writes fail. */
void rpc_stream_shutdown(struct rpc_stream *s);
void rpc_stream_close(struct rpc_stream *s);

/* Reads / writes all @n bytes; -1 on an error or the end of the stream. */
int rpc_read_full(struct rpc_stream *s, void *buf, size_t n);
int rpc_write_full(struct rpc_stream *s, const void *buf, size_t n);

/*
 * As rpc_read_full / rpc_write_full, with descriptors (SCM_RIGHTS) on the
 * bytes: the writer sends @nfds of @fds with the first of them; the reader
 * appends those that come (close-on-exec) to @fds, at most @max in all
 * (*nfds counts them). More than @max, or a truncated control message, is
 * -1 (what came is closed). A TLS stream carries none: writing any is -1,
 * and a read gets none.
 */
int rpc_read_full_fds(struct rpc_stream *s, void *buf, size_t n, int *fds, unsigned *nfds,
		      unsigned max);
int rpc_write_full_fds(struct rpc_stream *s, const void *buf, size_t n, const int *fds,
		       unsigned nfds);
