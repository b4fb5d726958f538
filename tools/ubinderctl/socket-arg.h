/* SPDX-License-Identifier: MIT */
/* --socket/--context handling shared by ubinderctl and ubinder-servicemanager. */
#pragma once

#include <stddef.h>

/*
 * The socket a tool connects to, into @buf: @socket if given (with @context,
 * the context's socket beside it, as ubinderd names them), else the default
 * socket of @context, else NULL for the library's default ($UBINDER_SOCKET
 * or the "binder" context's default socket). Returns @buf or NULL; on a bad
 * argument prints a message and returns NULL with *bad set.
 */
const char *tool_socket_path(const char *prog, const char *socket, const char *context, char *buf,
			     size_t size, int *bad);
