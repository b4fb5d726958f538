/* SPDX-License-Identifier: MIT */
/*
 * The byte streams RPC sessions run on: addresses (unix:PATH,
 * tcp:HOST:PORT), listening or connecting, and whole reads and writes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether @address has one of the forms rpc_stream_open takes. */
bool rpc_address_valid(const char *address);
/*
 * A listening socket on @address (@listening), or a stream connected to it.
 * Returns the descriptor (close-on-exec), or -1 after printing one line
 * naming the address and the reason.
 */
int rpc_stream_open(const char *address, bool listening);

/* Sends small frames at once on TCP (no Nagle delay: a reply's head and
 * data are separate writes); nothing on a Unix socket. */
void rpc_stream_no_delay(int fd);

/*
 * The address @fd (from rpc_stream_open) is bound to, in @address's form,
 * into @buf: for TCP with the port the kernel chose when @address asked
 * for port 0.
 */
void rpc_stream_bound_address(int fd, const char *address, char *buf, size_t size);

/* Reads / writes all @n bytes; -1 on an error or the end of the stream. */
int rpc_read_full(int fd, void *buf, size_t n);
int rpc_write_full(int fd, const void *buf, size_t n);

/* Whether @address is a Unix socket's (descriptors can travel on it). */
bool rpc_address_is_unix(const char *address);

/*
 * As rpc_read_full / rpc_write_full, with descriptors (SCM_RIGHTS) on the
 * bytes: the writer sends @nfds of @fds with the first of them; the reader
 * appends those that come (close-on-exec) to @fds, at most @max in all
 * (*nfds counts them). More than @max, or a truncated control message, is
 * -1 (what came is closed).
 */
int rpc_read_full_fds(int fd, void *buf, size_t n, int *fds, unsigned *nfds, unsigned max);
int rpc_write_full_fds(int fd, const void *buf, size_t n, const int *fds, unsigned nfds);
